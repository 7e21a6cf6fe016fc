"""TOTP two-factor authentication (RFC 6238) with one-use recovery codes."""

from __future__ import annotations

import secrets
import time

import pyotp
from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from jetrack.accounts.tokens import digest
from jetrack.store.models import RecoveryCode, TotpCredential, User, utcnow

ISSUER = "Jetrack"
RECOVERY_CODES = 10
_CODE_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no look-alikes (0/o, 1/l/i)


def credential_of(session: Session, user: User) -> TotpCredential | None:
    return session.scalar(select(TotpCredential).where(TotpCredential.user_id == user.id))


def enabled(session: Session, user: User) -> bool:
    credential = credential_of(session, user)
    return credential is not None and credential.enabled_at is not None


def begin_setup(session: Session, user: User) -> TotpCredential:
    """A fresh secret waiting for its first code (replaces an unconfirmed one)."""
    credential = credential_of(session, user)
    if credential is not None and credential.enabled_at is not None:
        return credential
    if credential is None:
        credential = TotpCredential(user_id=user.id, secret=pyotp.random_base32(), last_used_step=0)
        session.add(credential)
    else:
        credential.secret = pyotp.random_base32()
    session.flush()
    return credential


def provisioning_uri(credential: TotpCredential, user: User) -> str:
    return pyotp.TOTP(credential.secret).provisioning_uri(name=user.email, issuer_name=ISSUER)


def _matching_step(credential: TotpCredential, code: str) -> int | None:
    """The time step whose code this is, if it is a current one not used before."""
    code = code.replace(" ", "").strip()
    if not (code.isdigit() and len(code) == 6):
        return None
    totp = pyotp.TOTP(credential.secret)
    now = time.time()
    for drift in (-1, 0, 1):  # one 30 s step either side for clock skew
        step = int(now // totp.interval) + drift
        if step > credential.last_used_step and secrets.compare_digest(
            totp.generate_otp(step), code
        ):
            return step
    return None


def _check_code(session: Session, credential: TotpCredential, code: str) -> bool:
    step = _matching_step(credential, code)
    if step is None:
        return False
    # A step is spent by one conditional UPDATE: of several log-ins sending the same code
    # at once, exactly one moves the step forward (a code works once, no replay).
    spent = session.execute(
        update(TotpCredential)
        .where(TotpCredential.id == credential.id, TotpCredential.last_used_step < step)
        .values(last_used_step=step)
        .execution_options(synchronize_session=False)
    )
    session.expire(credential, ["last_used_step"])
    return bool(spent.rowcount == 1)  # type: ignore[attr-defined]


def _spend_recovery_code(session: Session, user: User, code: str) -> bool:
    raw = code.replace("-", "").replace(" ", "").strip().lower()
    if len(raw) != 16:
        return False
    # Conditional on "not used yet", so that a code sent twice at once is spent once.
    spent = session.execute(
        update(RecoveryCode)
        .where(
            RecoveryCode.user_id == user.id,
            RecoveryCode.code_hash == digest(raw),
            RecoveryCode.used_at.is_(None),
        )
        .values(used_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    return bool(spent.rowcount == 1)  # type: ignore[attr-defined]


def confirm_setup(session: Session, user: User, code: str) -> list[str] | None:
    """Turn 2FA on with a first valid code; returns the recovery codes (shown once)."""
    credential = credential_of(session, user)
    if credential is None or credential.enabled_at is not None:
        return None
    if not _check_code(session, credential, code):
        return None
    credential.enabled_at = utcnow()
    return new_recovery_codes(session, user)


def new_recovery_codes(session: Session, user: User) -> list[str]:
    """Replace the recovery codes; the plain codes are returned once, stored hashed."""
    session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    codes = []
    for _ in range(RECOVERY_CODES):
        raw = "".join(secrets.choice(_CODE_ALPHABET) for _ in range(16))
        code = "-".join(raw[i : i + 4] for i in range(0, 16, 4))
        codes.append(code)
        session.add(RecoveryCode(user_id=user.id, code_hash=digest(raw)))
    session.flush()
    return codes


def verify_second_factor(session: Session, user: User, code: str) -> bool:
    """A current TOTP code or an unused recovery code (which is then spent)."""
    credential = credential_of(session, user)
    if credential is None or credential.enabled_at is None:
        return False
    return _check_code(session, credential, code) or _spend_recovery_code(session, user, code)


def remaining_recovery_codes(session: Session, user: User) -> int:
    return len(
        list(
            session.scalars(
                select(RecoveryCode.id).where(
                    RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None)
                )
            )
        )
    )


def disable(session: Session, user: User) -> None:
    session.execute(delete(TotpCredential).where(TotpCredential.user_id == user.id))
    session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
