"""Changes of a team's plan: the one way `team.plan` changes, its history, and the notice
period before a downgrade shortens how long data is kept.

Every change (a checkout, a webhook, the operator's `jetrack plan set`) goes through
`apply_plan`, which records it in the plan history. A move to a plan that keeps data for
less time does not shorten retention at once: the old retention stays in force for
`RETENTION_NOTICE_DAYS`, while the owners are mailed and shown a banner offering the
export; `team_retention_days` (read by privacy/retention.py) honours that.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from jetrack.billing.plans import plan_named
from jetrack.config import Settings
from jetrack.store.models import PlanHistoryEntry, RetentionNotice, Team, as_utc

# How long the old, longer retention stays in force after a downgrade (docs/billing.md).
RETENTION_NOTICE_DAYS = 30

ChangeReason = Literal[
    "checkout", "subscription_updated", "past_due_grace_ended", "cancelled", "operator"
]


@dataclass(frozen=True, slots=True)
class PlanChange:
    """One change of a team's plan; `notice_ends_at` when it shortened retention (which
    then applies from that moment)."""

    team_id: int
    from_plan: str | None
    to_plan: str | None
    reason: str
    changed_at: datetime
    notice_ends_at: datetime | None = None


def plan_days(key: str | None) -> int:
    """How long the plan `key` keeps data in days; 0: the instance's setting decides."""
    plan = plan_named(key)
    return plan.retention_days if plan is not None else 0


def keeps_less(new_days: int, old_days: int) -> bool:
    """Whether `new_days` keeps data for less time than `old_days` (0: the instance's
    setting, which may be forever, so any set number may be less)."""
    return new_days > 0 and (old_days == 0 or new_days < old_days)


def longer_days(first: int, second: int) -> int:
    """The longer of two retentions in plan days (0, the instance's setting, counts longest)."""
    return 0 if 0 in (first, second) else max(first, second)


def apply_plan(
    session: Session, team: Team, new_key: str | None, *, reason: ChangeReason, now: datetime
) -> PlanChange | None:
    """Put `team` on the plan `new_key` (None: the instance's settings) for `reason`;
    None when it is already on it."""
    old_key = team.plan
    if old_key == new_key:
        return None
    session.add(
        PlanHistoryEntry(
            team_id=team.id, from_plan=old_key, to_plan=new_key, reason=reason, changed_at=now
        )
    )
    team.plan = new_key
    notice = _update_notice(session, team.id, plan_days(old_key), plan_days(new_key), now)
    session.flush()
    return PlanChange(team.id, old_key, new_key, reason, now, notice)


def _update_notice(
    session: Session, team_id: int, old_days: int, new_days: int, now: datetime
) -> datetime | None:
    """Start (or restart) the notice period when retention gets shorter; drop a notice the
    new plan makes moot. The notice's end when one is running after the change."""
    notice = active_notice(session, team_id, now)
    kept = longer_days(notice.keep_days, old_days) if notice is not None else old_days
    if not keeps_less(new_days, kept):
        if notice is not None:
            session.delete(notice)
        return None
    stored = session.get(RetentionNotice, team_id)
    if stored is None:
        stored = RetentionNotice(team_id=team_id)
        session.add(stored)
    stored.keep_days = kept
    stored.new_days = new_days
    stored.starts_at = now
    stored.ends_at = now + timedelta(days=RETENTION_NOTICE_DAYS)
    stored.mailed_at = None
    return stored.ends_at


def active_notice(session: Session, team_id: int, now: datetime) -> RetentionNotice | None:
    """The team's retention notice while it runs, else None."""
    notice = session.get(RetentionNotice, team_id)
    if notice is None or as_utc(notice.ends_at) <= now:
        return None
    return notice


def team_retention_days(
    session: Session | None, team: Team | None, settings: Settings, now: datetime
) -> int | None:
    """How long a team's sites keep data (days), or None to keep it forever: the plan's,
    or the longer retention a running downgrade notice still keeps."""
    days = _resolved(plan_days(team.plan if team is not None else None), settings)
    if session is not None and team is not None:
        notice = active_notice(session, team.id, now)
        if notice is not None:
            kept = _resolved(notice.keep_days, settings)
            days = None if days is None or kept is None else max(days, kept)
    return days


def _resolved(days: int, settings: Settings) -> int | None:
    """Plan days made real: 0 is the instance's setting, whose 0 is forever (None)."""
    days = days or settings.retention_days
    return days if days > 0 else None


def plan_history(session: Session, team_id: int) -> list[PlanChange]:
    """Every change of the team's plan, oldest first (the account export includes it)."""
    entries = session.scalars(
        select(PlanHistoryEntry)
        .where(PlanHistoryEntry.team_id == team_id)
        .order_by(PlanHistoryEntry.changed_at, PlanHistoryEntry.id)
    )
    return [
        PlanChange(
            entry.team_id, entry.from_plan, entry.to_plan, entry.reason, as_utc(entry.changed_at)
        )
        for entry in entries
    ]
