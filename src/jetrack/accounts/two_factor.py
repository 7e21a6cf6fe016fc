"""TOTP two-factor authentication (RFC 6238) with one-use recovery codes."""

from __future__ import annotations

import secrets
import time

import pyotp
from sqlalchemy import delete, select
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


def _check_code(credential: TotpCredential, code: str) -> bool:
    code = code.replace(" ", "").strip()
    if not (code.isdigit() and len(code) == 6):
        return False
    totp = pyotp.TOTP(credential.secret)
    now = time.time()
    for drift in (-1, 0, 1):  # one 30 s step either side for clock skew
        step = int(now // totp.interval) + drift
        if step > credential.last_used_step and secrets.compare_digest(
            totp.generate_otp(step), code
        ):
            credential.last_used_step = step  # a code works once (no replay)
            return True
    return False


def confirm_setup(session: Session, user: User, code: str) -> list[str] | None:
    """Turn 2FA on with a first valid code; returns the recovery codes (shown once)."""
    credential = credential_of(session, user)
    if credential is None or credential.enabled_at is not None:
        return None
    if not _check_code(credential, code):
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
    if _check_code(credential, code):
        return True
    raw = code.replace("-", "").replace(" ", "").strip().lower()
    if len(raw) != 16:
        return False
    recovery = session.scalar(
        select(RecoveryCode).where(
            RecoveryCode.user_id == user.id,
            RecoveryCode.code_hash == digest(raw),
            RecoveryCode.used_at.is_(None),
        )
    )
    if recovery is None:
        return False
    recovery.used_at = utcnow()
    return True


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
