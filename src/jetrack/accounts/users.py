"""Users: create and find accounts; passwords hashed with Argon2id."""

from __future__ import annotations

import contextlib
import re

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from jetrack.i18n.catalogs import gettext_noop
from jetrack.i18n.errors import FieldError
from jetrack.store.models import InstanceFact, User

_hasher = PasswordHasher()  # argon2-cffi defaults are Argon2id
EMAIL_RE = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]{2,}$")
MIN_PASSWORD = 10


class AccountError(FieldError):
    """Invalid account input; `field` names the bad field."""


def normalize_email(email: str) -> str:
    email = email.strip().lower()
    if len(email) > 320 or not EMAIL_RE.match(email):
        raise AccountError("email", gettext_noop("must be an email address like name@example.com"))
    return email


def hash_password(password: str) -> str:
    if len(password) < MIN_PASSWORD:
        raise AccountError(
            "password",
            gettext_noop("must be at least {min_password} characters"),
            min_password=str(MIN_PASSWORD),
        )
    if len(password) > 1024:
        raise AccountError("password", gettext_noop("must be at most 1024 characters"))
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


FIRST_ACCOUNT = "first_account"


def saved_locale(session: Session, email: str) -> str | None:
    """The language the account with this address chose (users.locale), if there is one:
    mails to it are in that language (docs/translations.md)."""
    user = find_user(session, email)
    return user.locale if user is not None else None


def had_accounts(session: Session) -> bool:
    """Whether the instance's first account was ever made (erasing accounts keeps this)."""
    return session.get(InstanceFact, FIRST_ACCOUNT) is not None


def _record_first_account(session: Session) -> bool:
    """Records that the instance has had an account; True for the one caller that did it
    first (the primary key decides between concurrent sign-ups)."""
    if had_accounts(session):
        return False
    try:
        with session.begin_nested():
            session.add(InstanceFact(name=FIRST_ACCOUNT))
    except IntegrityError:
        return False
    return True


def create_user(
    session: Session,
    email: str,
    *,
    name: str = "",
    password: str | None = None,
    admin: bool | None = None,
) -> User:
    """Create an account. With `admin=None` only the very first account of an empty
    instance becomes its admin; `admin=True` is the operator's choice (`jetrack user create
    --admin`); `admin=False` (the demo login) is no admin and does not count as the first."""
    email = normalize_email(email)
    if find_user(session, email) is not None:
        raise AccountError("email", gettext_noop("an account with this email already exists"))
    if admin is not False:
        first = _record_first_account(session)
        admin = first if admin is None else admin
    user = User(
        email=email,
        name=name.strip()[:200],
        password_hash=hash_password(password) if password is not None else None,
        is_admin=admin,
    )
    session.add(user)
    session.flush()
    return user


def other_admins(session: Session, user: User) -> int:
    """Admins besides `user` who can still log in (a locked one is on its way out)."""
    count = session.scalar(
        select(func.count())
        .select_from(User)
        .where(User.is_admin, User.id != user.id, User.locked_at.is_(None))
    )
    return int(count or 0)


def other_accounts(session: Session, user: User) -> int:
    """Accounts besides `user` that can still log in."""
    count = session.scalar(
        select(func.count()).select_from(User).where(User.id != user.id, User.locked_at.is_(None))
    )
    return int(count or 0)


def make_admin(session: Session, email: str) -> User:
    """Make an existing, usable account an instance admin."""
    successor = find_user(session, email) if email.strip() else None
    if successor is None or successor.locked_at is not None:
        raise AccountError("successor", gettext_noop("no active account has this email"))
    successor.is_admin = True
    return successor


def check_name(name: str) -> str:
    name = name.strip()
    if not name:
        raise AccountError("name", gettext_noop("please enter your name"))
    if len(name) > 200:
        raise AccountError("name", gettext_noop("must be at most 200 characters"))
    return name


def spend_hash_time(password: str) -> None:
    """Verify against a throwaway hash, so that answers for unknown accounts take as long
    as for known ones (no account enumeration by timing)."""
    with contextlib.suppress(VerificationError, InvalidHashError):
        _hasher.verify(DUMMY_HASH, password)


# An Argon2id hash (of "not a password anyone uses") with _hasher's parameters, written out:
# hashing it at import cost every process ~0.2 s of CPU at start (docs/benchmarks.md). A test
# checks that it still has the parameters of _hasher, so that the wasted verify costs the same.
DUMMY_HASH = "$argon2id$v=19$m=65536,t=3,p=4$QuXjj/JTuOlabUxA7lYoxQ$BU2Y+p3VoWmvOieNln9EjQGOBc5Uz9KgyragnkhoTPI"


def change_password(session: Session, user: User, current: str, new: str) -> None:
    if not verify_password(user, current):
        raise AccountError("current_password", gettext_noop("this is not your current password"))
    user.password_hash = hash_password(new)
