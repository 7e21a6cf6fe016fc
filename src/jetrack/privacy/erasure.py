"""Account erasure: the one entry point that starts deleting an account.

`request_account_erasure` locks the account at once (nobody can log in or use its API
keys), ends its sessions and records the request; the purge job erases the account and
its data after the grace period (JETRACK_ERASURE_GRACE_DAYS).
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from jetrack.accounts.instance_keys import instance_key
from jetrack.accounts.login_sessions import end_user_sessions
from jetrack.accounts.users import AccountError, make_admin, other_accounts, other_admins
from jetrack.i18n.catalogs import gettext_noop
from jetrack.store.models import ApiKey, ErasureRequest, User, as_utc, utcnow
from jetrack.store.stores import Stores

LAST_ADMIN = gettext_noop(
    "this is the instance's only admin: name another account (its email) to become admin, "
    "so that the instance keeps one"
)


def _hand_over_admin(session: Session, row: User, successor: str) -> None:
    """The last admin goes only when it names a successor (AccountError "successor")."""
    if not row.is_admin or other_admins(session, row) or not other_accounts(session, row):
        return  # with nobody else, there is no one to hand over to (and none to fear)
    if not successor.strip():
        raise AccountError("successor", LAST_ADMIN)
    if successor.strip().lower() == row.email:
        raise AccountError(
            "successor", gettext_noop("name another account than the one being deleted")
        )
    make_admin(session, successor)


def request_account_erasure(stores: Stores, user: User, successor: str = "") -> None:
    """Lock the account, end its sessions, revoke its API keys and record the request.
    The instance's last admin must name `successor`, the email of who becomes admin."""
    with stores.control.session() as session:
        lock_for_erasure(session, user.id, stores.settings.erasure_grace_days, successor)


def lock_for_erasure(session: Session, user_id: int, grace_days: int, successor: str = "") -> None:
    """`request_account_erasure` within a unit of work (the CLI opens only the control store)."""
    now = utcnow()
    row = session.get(User, user_id)
    if row is None:
        return
    _hand_over_admin(session, row, successor)
    row.locked_at = row.locked_at or now
    end_user_sessions(session, row.id)
    session.execute(
        update(ApiKey)
        .where(ApiKey.user_id == row.id, ApiKey.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    pending = session.scalar(
        select(ErasureRequest).where(
            ErasureRequest.user_id == row.id, ErasureRequest.completed_at.is_(None)
        )
    )
    if pending is None:
        session.add(
            ErasureRequest(
                user_id=row.id,
                requested_at=now,
                purge_after=now + timedelta(days=grace_days),
            )
        )


# --- Undo within the grace period (added with the purge job) --------------------------------

UNDO_KEY = "erasure_undo"


def undo_signature(session: Session, request: ErasureRequest) -> str:
    """The signature of a request's mailed undo link (no token needs storing)."""
    key = instance_key(session, UNDO_KEY)
    requested = int(as_utc(request.requested_at).timestamp())
    message = f"{request.id}:{request.user_id}:{requested}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def undo_link_path(session: Session, request: ErasureRequest) -> str:
    return f"/account/erasure/undo?request={request.id}&sig={undo_signature(session, request)}"


def pending_request(session: Session, request_id: int, signature: str) -> ErasureRequest | None:
    """The pending request a mailed undo link names, if its signature is right."""
    request = session.get(ErasureRequest, request_id)
    if request is None or request.completed_at is not None:
        return None
    if as_utc(request.purge_after) <= utcnow():
        return None  # the window closed: the purge may already be running
    if not hmac.compare_digest(undo_signature(session, request), signature):
        return None
    return request


def cancel_account_erasure(session: Session, user_id: int) -> bool:
    """Undo: drop the pending request and unlock the account (API keys stay revoked).
    False when there is nothing to undo (unknown, purged, or its window has closed)."""
    pending = [
        request
        for request in session.scalars(
            select(ErasureRequest).where(
                ErasureRequest.user_id == user_id, ErasureRequest.completed_at.is_(None)
            )
        )
        if as_utc(request.purge_after) > utcnow()
    ]
    user = session.get(User, user_id)
    if not pending or user is None:
        return False
    for request in pending:
        session.delete(request)
    user.locked_at = None
    return True
