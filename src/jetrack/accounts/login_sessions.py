"""Signed-in browsers: start, find, list and end sessions (the cookie token is never stored)."""

from __future__ import annotations

import re
import secrets
from datetime import timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from jetrack.accounts.tokens import digest, new_token
from jetrack.i18n.catalogs import gettext_noop
from jetrack.store.models import User, UserSession, as_utc, utcnow

SESSION_LIFETIME = timedelta(days=30)
PENDING_2FA_LIFETIME = timedelta(minutes=10)
TOUCH_EVERY = timedelta(minutes=5)

_BROWSERS = [
    ("Edg/", "Edge"),
    ("Firefox/", "Firefox"),
    ("Chrome/", "Chrome"),
    ("Safari/", "Safari"),
]
_SYSTEMS = [
    ("Android", "Android"),
    ("iPhone", "iOS"),
    ("iPad", "iPadOS"),
    ("Windows", "Windows"),
    ("Mac OS X", "macOS"),
    ("Linux", "Linux"),
]


def browser_label(user_agent: str) -> str:
    """A coarse label ("Firefox on Linux") so people recognise their sessions; the raw
    user agent is not kept."""
    browser = next(
        (name for token, name in _BROWSERS if token in user_agent), gettext_noop("A browser")
    )
    system = next((name for token, name in _SYSTEMS if token in user_agent), "")
    if re.search(r"HeadlessChrome", user_agent):
        browser = "Chrome"
    return f"{browser} on {system}" if system else browser


def start_session(
    session: Session, user: User, *, user_agent: str = "", pending_2fa: bool = False
) -> tuple[UserSession, str]:
    """A new session row and the token for the cookie (returned once, stored as a digest)."""
    token = new_token()
    now = utcnow()
    row = UserSession(
        user_id=user.id,
        token_hash=digest(token),
        csrf_token=secrets.token_urlsafe(32),
        pending_2fa=pending_2fa,
        browser=browser_label(user_agent)[:100],
        created_at=now,
        last_seen_at=now,
        expires_at=now + (PENDING_2FA_LIFETIME if pending_2fa else SESSION_LIFETIME),
    )
    session.add(row)
    session.flush()
    return row, token


def find_session(session: Session, token: str) -> tuple[UserSession, User] | None:
    """The live session for a cookie token and its unlocked account, else None."""
    if not token or len(token) > 100:
        return None
    row = session.scalar(select(UserSession).where(UserSession.token_hash == digest(token)))
    if row is None:
        return None
    now = utcnow()
    if as_utc(row.expires_at) <= now:
        session.delete(row)
        return None
    user = session.get(User, row.user_id)
    if user is None or user.locked_at is not None:
        return None
    if now - as_utc(row.last_seen_at) > TOUCH_EVERY:
        row.last_seen_at = now
    return row, user


def complete_2fa(session: Session, row: UserSession) -> str:
    """Promote a pending session after its second factor; the token changes (no fixation)."""
    token = new_token()
    row.token_hash = digest(token)
    row.pending_2fa = False
    row.csrf_token = secrets.token_urlsafe(32)
    row.expires_at = utcnow() + SESSION_LIFETIME
    return token


def end_session(session: Session, token: str) -> None:
    session.execute(delete(UserSession).where(UserSession.token_hash == digest(token)))


def end_user_sessions(session: Session, user_id: int, *, keep_id: int | None = None) -> int:
    """Ends every session of an account (except `keep_id`); returns how many ended."""
    query = delete(UserSession).where(UserSession.user_id == user_id)
    if keep_id is not None:
        query = query.where(UserSession.id != keep_id)
    return int(session.execute(query).rowcount or 0)  # type: ignore[attr-defined]


def list_sessions(session: Session, user: User) -> list[UserSession]:
    now = utcnow()
    rows = session.scalars(
        select(UserSession)
        .where(UserSession.user_id == user.id, UserSession.pending_2fa.is_(False))
        .order_by(UserSession.last_seen_at.desc())
    )
    return [row for row in rows if as_utc(row.expires_at) > now]


def revoke_session(session: Session, user: User, session_id: int) -> bool:
    """Ends one of the user's own sessions; False when it is not theirs or gone."""
    result = session.execute(
        delete(UserSession).where(UserSession.id == session_id, UserSession.user_id == user.id)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]
