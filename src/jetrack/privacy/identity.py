"""Cookieless visitor ids: a keyed hash of (daily salt, site, IP, user agent).

The hash is 64 bits of BLAKE2b keyed with the day's random salt: without the salt, which
is deleted after 48 hours, an id cannot be tied back to an address, nor linked across days
or sites."""

from __future__ import annotations

import hashlib


def visitor_id(salt: bytes, site_id: int, ip: str, user_agent: str) -> int:
    digest = hashlib.blake2b(
        f"{site_id}\x00{ip}\x00{user_agent}".encode(), key=salt, digest_size=8
    ).digest()
    return int.from_bytes(digest, "big")


def cookie_visitor_id(site_id: int, cookie_id: str) -> int:
    """Opt-in cookie mode: the site's own random first-party id, hashed per site."""
    digest = hashlib.blake2b(
        f"{site_id}\x00{cookie_id}".encode(), digest_size=8, person=b"jetrack-cookie"
    ).digest()
    return int.from_bytes(digest, "big")
