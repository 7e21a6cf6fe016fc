"""One-use mailed tokens: confirm an email address, reset a password, change the email."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from jetrack.accounts.tokens import digest, new_token
from jetrack.i18n.catalogs import gettext_noop
from jetrack.store.models import EmailToken, User, as_utc, utcnow

LIFETIMES = {
    "verify_email": timedelta(hours=48),
    "reset_password": timedelta(hours=1),
    "change_email": timedelta(hours=24),
}


class TokenError(ValueError):
    """A link that cannot be used; the message says why, plainly."""


def issue_token(session: Session, user: User, purpose: str, new_email: str | None = None) -> str:
    """A new token for a mailed link; earlier unused ones of the same purpose stop working."""
    if purpose not in LIFETIMES:
        raise ValueError(f"unknown token purpose {purpose!r}")
    now = utcnow()
    session.execute(
        update(EmailToken)
        .where(
            EmailToken.user_id == user.id,
            EmailToken.purpose == purpose,
            EmailToken.used_at.is_(None),
        )
        .values(used_at=now)
    )
    token = new_token()
    session.add(
        EmailToken(
            user_id=user.id,
            purpose=purpose,
            token_hash=digest(token),
            new_email=new_email,
            created_at=now,
            expires_at=now + LIFETIMES[purpose],
        )
    )
    session.flush()
    return token


def peek_token(session: Session, token: str, purpose: str) -> EmailToken:
    """The token's row if it can still be used; TokenError otherwise."""
    if not token or len(token) > 100:
        raise TokenError(gettext_noop("This link is not valid. Check that you copied all of it."))
    row = session.scalar(
        select(EmailToken).where(
            EmailToken.token_hash == digest(token), EmailToken.purpose == purpose
        )
    )
    if row is None:
        raise TokenError(gettext_noop("This link is not valid. Check that you copied all of it."))
    if row.used_at is not None:
        raise TokenError(gettext_noop("This link was already used or replaced by a newer one."))
    if as_utc(row.expires_at) <= utcnow():
        raise TokenError(gettext_noop("This link has expired. Ask for a new one."))
    user = session.get(User, row.user_id)
    if user is None or user.locked_at is not None:
        raise TokenError(gettext_noop("This link is not valid. Check that you copied all of it."))
    return row


def use_token(session: Session, token: str, purpose: str) -> tuple[EmailToken, User]:
    """Consume a token (once); returns its row and account."""
    row = peek_token(session, token, purpose)
    row.used_at = utcnow()
    user = session.get(User, row.user_id)
    assert user is not None  # peek_token checked it
    return row, user
