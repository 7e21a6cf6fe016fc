"""Random secret tokens and the digests stored in their place."""

from __future__ import annotations

import hashlib
import hmac
import secrets


def new_token() -> str:
    """256 random bits, URL-safe: session cookies, mailed links, invitations."""
    return secrets.token_urlsafe(32)


def digest(token: str) -> str:
    # The tokens are 256-bit random, so a fast hash is enough (no password KDF needed).
    return hashlib.sha256(token.encode()).hexdigest()


def same(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())
