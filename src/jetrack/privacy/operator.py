"""The operator console's actions, each recorded in the admin audit log (ids and action
names only: the log never holds visitor data, nor the content of what was changed)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from jetrack.accounts.login_sessions import end_user_sessions
from jetrack.privacy.erasure import cancel_account_erasure
from jetrack.sites.sites import list_sites
from jetrack.store import job_queue
from jetrack.store.events import EventStore
from jetrack.store.models import AdminAuditEntry, ErasureRequest, Site, User, utcnow
from jetrack.support.tickets import close_ticket

USAGE_DAYS = 30


def record(session: Session, actor: User, action: str, target: str = "") -> None:
    session.add(AdminAuditEntry(actor_id=actor.id, action=action[:64], target=target[:120]))


def audit_log(session: Session, limit: int = 200) -> list[AdminAuditEntry]:
    return list(
        session.scalars(select(AdminAuditEntry).order_by(AdminAuditEntry.id.desc()).limit(limit))
    )


@dataclass(frozen=True)
class UserRow:
    id: int
    email: str
    name: str
    is_admin: bool
    locked: bool
    erasure_pending: bool
    created_at: datetime


def list_users(session: Session) -> list[UserRow]:
    pending = set(
        session.scalars(select(ErasureRequest.user_id).where(ErasureRequest.completed_at.is_(None)))
    )
    return [
        UserRow(
            u.id,
            u.email,
            u.name,
            u.is_admin,
            u.locked_at is not None,
            u.id in pending,
            u.created_at,
        )
        for u in session.scalars(select(User).order_by(User.id))
    ]


def sites_with_owners(session: Session) -> list[Site]:
    """Every site by domain, each with its owner loaded (the page renders after the session)."""
    sites = list_sites(session)
    for site in sites:
        _ = site.owner.email
    return sites


def set_locked(session: Session, actor: User, user_id: int, locked: bool) -> bool:
    """Lock (ends the sessions) or unlock an account; unlocking cancels a pending erasure."""
    user = session.get(User, user_id)
    if user is None or user.id == actor.id:
        return False  # an operator cannot lock themself out
    if locked:
        user.locked_at = user.locked_at or utcnow()
        end_user_sessions(session, user.id)
    elif not cancel_account_erasure(session, user.id):
        user.locked_at = None
    record(session, actor, "lock_user" if locked else "unlock_user", f"user:{user.id}")
    return True


def set_paused(session: Session, actor: User, site_id: int, paused: bool) -> bool:
    site = session.get(Site, site_id)
    if site is None:
        return False
    site.paused = paused
    record(session, actor, "pause_site" if paused else "resume_site", f"site:{site.id}")
    return True


def close(session: Session, actor: User, ticket_id: int) -> bool:
    if not close_ticket(session, ticket_id):
        return False
    record(session, actor, "close_ticket", f"ticket:{ticket_id}")
    return True


def retry_job(session: Session, actor: User, job_id: int) -> bool:
    if not job_queue.retry(session, job_id):
        return False
    record(session, actor, "retry_job", f"job:{job_id}")
    return True


def usage_by_site(events: EventStore, now: datetime | None = None) -> dict[int, int]:
    """Events per site over the last 30 days."""
    since = (now or datetime.now(UTC)) - timedelta(days=USAGE_DAYS)
    result = events.query(
        "SELECT site_id, count() FROM events WHERE timestamp >= {since:DateTime('UTC')}"
        " GROUP BY site_id",
        {"since": since.strftime("%Y-%m-%d %H:%M:%S")},
    )
    return {int(site): int(count) for site, count in result.rows}
