"""API keys: shown once at creation, stored only as a SHA-256 hash."""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from jetrack.accounts.users import AccountError
from jetrack.store.models import ApiKey, User

KEY_PREFIX = "jt_"
# Plausible's scope names. A Stats API key reads stats (and lists sites, goals and custom
# properties, as Plausible allows); a Sites API key provisions sites, goals, guests...
STATS_SCOPE = "stats:read:*"
SITES_SCOPE = "sites:provision:*"
SCOPES = (STATS_SCOPE, SITES_SCOPE)


def _digest(key: str) -> str:
    # Keys are 256-bit random: a fast hash is enough, no password KDF needed.
    return hashlib.sha256(key.encode()).hexdigest()


def create_api_key(
    session: Session, user: User, name: str, scope: str = STATS_SCOPE
) -> tuple[ApiKey, str]:
    """Returns the stored row and the plaintext key (never stored, shown once)."""
    name = name.strip()
    if not name or len(name) > 200:
        raise AccountError("name", "must be 1 to 200 characters")
    if scope not in SCOPES:
        raise AccountError("scope", f"must be one of: {', '.join(SCOPES)}")
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    row = ApiKey(user_id=user.id, name=name, prefix=key[:10], key_hash=_digest(key), scopes=scope)
    session.add(row)
    session.flush()
    return row, key


def authenticate_api_key(session: Session, key: str) -> tuple[ApiKey, User] | None:
    """The key's row and owner, or None for an unknown, revoked or locked one."""
    if not key.startswith(KEY_PREFIX) or len(key) > 200:
        return None
    row = session.scalar(select(ApiKey).where(ApiKey.key_hash == _digest(key)))
    if row is None or row.revoked_at is not None:
        return None
    user = session.get(User, row.user_id)
    if user is None or user.locked_at is not None:
        return None
    row.last_used_at = datetime.now(UTC)
    return row, user


def has_scope(row: ApiKey, scope: str) -> bool:
    return scope in (row.scopes or STATS_SCOPE).split()


def list_api_keys(session: Session, user: User) -> list[ApiKey]:
    """The user's keys that still work, newest first (hashes only; the keys are not kept)."""
    return list(
        session.scalars(
            select(ApiKey)
            .where(ApiKey.user_id == user.id, ApiKey.revoked_at.is_(None))
            .order_by(ApiKey.created_at.desc(), ApiKey.id.desc())
        )
    )


def revoke_api_key(session: Session, user: User, key_id: int) -> bool:
    """Revoke one of the user's own keys; False when it is not theirs or already revoked."""
    row = session.get(ApiKey, key_id)
    if row is None or row.user_id != user.id or row.revoked_at is not None:
        return False
    row.revoked_at = datetime.now(UTC)
    return True
