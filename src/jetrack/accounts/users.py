"""Users: create and find accounts; passwords hashed with Argon2id."""

from __future__ import annotations

import contextlib
import re

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from jetrack.store.models import User

_hasher = PasswordHasher()  # argon2-cffi defaults are Argon2id
EMAIL_RE = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]{2,}$")
MIN_PASSWORD = 10


class AccountError(ValueError):
    """Invalid account input; `field` names the bad field."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def normalize_email(email: str) -> str:
    email = email.strip().lower()
    if len(email) > 320 or not EMAIL_RE.match(email):
        raise AccountError("email", "must be an email address like name@example.com")
    return email


def hash_password(password: str) -> str:
    if len(password) < MIN_PASSWORD:
        raise AccountError("password", f"must be at least {MIN_PASSWORD} characters")
    if len(password) > 1024:
        raise AccountError("password", "must be at most 1024 characters")
    return _hasher.hash(password)


def verify_password(user: User, password: str) -> bool:
    if not user.password_hash:
        return False
    try:
        return _hasher.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def find_user(session: Session, email: str) -> User | None:
    return session.scalar(select(User).where(User.email == email.strip().lower()))


def create_user(
    session: Session, email: str, *, name: str = "", password: str | None = None
) -> User:
    """Create an account; the first account of an instance becomes its admin (the demo
    account that `jetrack demo` makes is never an admin, so it does not count)."""
    email = normalize_email(email)
    if find_user(session, email) is not None:
        raise AccountError("email", "an account with this email already exists")
    first = session.scalar(select(func.count()).select_from(User).where(User.is_admin)) == 0
    user = User(
        email=email,
        name=name.strip()[:200],
        password_hash=hash_password(password) if password is not None else None,
        is_admin=first,
    )
    session.add(user)
    session.flush()
    return user


def check_name(name: str) -> str:
    name = name.strip()
    if not name:
        raise AccountError("name", "please enter your name")
    if len(name) > 200:
        raise AccountError("name", "must be at most 200 characters")
    return name


def spend_hash_time(password: str) -> None:
    """Verify against a throwaway hash, so that answers for unknown accounts take as long
    as for known ones (no account enumeration by timing)."""
    with contextlib.suppress(VerificationError, InvalidHashError):
        _hasher.verify(_DUMMY_HASH, password)


_DUMMY_HASH = _hasher.hash("not a password anyone uses")


def change_password(session: Session, user: User, current: str, new: str) -> None:
    if not verify_password(user, current):
        raise AccountError("current_password", "this is not your current password")
    user.password_hash = hash_password(new)
