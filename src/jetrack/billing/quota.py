"""Quotas that never lose data: where a team stands against its plan's monthly quota, and
what the quota job does next (warn, start the grace period). Events are always stored;
only after the grace do the team's dashboards and Stats API lock (docs/billing.md).

`next_step` and `standing_of` decide from values alone; `quota_standing` reads the counted
usage (billing/usage.py) for the pages, never the event store.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from sqlalchemy.orm import Session

from jetrack.billing.plans import Plan, effective_plan
from jetrack.billing.usage import current_usage
from jetrack.store.models import Team, TeamUsage, as_utc

WARNING_RATIO = 0.8  # the first mail and banner: 80% of the month's quota
GRACE_DAYS = 7  # over quota: this long before the dashboards lock

State = Literal["ok", "warning", "grace", "locked"]
Mail = Literal["warning", "over"]


@dataclass(frozen=True, slots=True)
class QuotaStep:
    """What the quota job records for a counted month, and the mail it sends (if any)."""

    warned_at: datetime | None
    over_at: datetime | None
    mail: Mail | None


def next_step(
    used: int, quota: int | None, warned_at: datetime | None, over_at: datetime | None,
    now: datetime,
) -> QuotaStep:  # fmt: skip
    """Each threshold mails once a month: the warning at WARNING_RATIO, then "over" (which
    starts the grace) past 100%. A month back under quota (an upgrade) clears the grace."""
    if quota is None:
        return QuotaStep(warned_at, None, None)
    if used > quota:
        if over_at is not None:
            return QuotaStep(warned_at, over_at, None)
        return QuotaStep(warned_at or now, now, "over")
    over_at = None
    if used >= quota * WARNING_RATIO and warned_at is None:
        return QuotaStep(now, None, "warning")
    return QuotaStep(warned_at, None, None)


def grace_end(over_at: datetime) -> datetime:
    return as_utc(over_at) + timedelta(days=GRACE_DAYS)


def standing_of(used: int, quota: int | None, over_at: datetime | None, now: datetime) -> State:
    """Where a counted month stands: ok, warning (past WARNING_RATIO), grace (over quota,
    grace running), locked (over quota, grace over)."""
    if quota is None:
        return "ok"
    if used > quota and over_at is not None:
        return "locked" if grace_end(over_at) <= now else "grace"
    # Over without a grace yet (a plan change since the job's last run): warned until the
    # job starts one.
    return "warning" if used >= quota * WARNING_RATIO else "ok"


@dataclass(frozen=True, slots=True)
class QuotaStanding:
    """A team's month for the pages: its plan, usage against the quota, and its state."""

    plan: Plan
    used: int
    state: State
    period_end: datetime | None
    grace_ends_at: datetime | None

    @property
    def percent(self) -> int:
        quota = self.plan.monthly_pageviews
        return min(100, round(100 * self.used / quota)) if quota else 0


def quota_standing(session: Session, team: Team, billing: bool, now: datetime) -> QuotaStanding:
    """The team's standing from its last counted usage (no event query). A plan change
    since the count starts the warnings and grace over: the old plan's do not carry."""
    plan = effective_plan(billing, team.plan)
    row = current_usage(session, team.id, now) if billing else None
    if row is None:
        return QuotaStanding(plan, 0, "ok", None, None)
    over_at = row.over_at if _same_plan(row, team) else None
    state = standing_of(row.billable_events, plan.monthly_pageviews, over_at, now)
    grace = grace_end(over_at) if over_at is not None else None
    return QuotaStanding(plan, row.billable_events, state, as_utc(row.period_end), grace)


def _same_plan(row: TeamUsage, team: Team) -> bool:
    return row.plan == team.plan


class QuotaLocked(Exception):
    """The team is past its quota and its grace: its dashboards and Stats API answer 402
    with this (events are still stored; an upgrade or the next month lifts it)."""

    status = 402

    def __init__(self, team_id: int, standing: QuotaStanding) -> None:
        super().__init__(
            f"over quota: this team's {standing.plan.name} plan allows"
            f" {standing.plan.monthly_pageviews} pageviews a month and"
            f" {standing.used} were counted; upgrade to see the dashboard again"
        )
        self.team_id = team_id
        self.standing = standing


def require_unlocked(session: Session, team: Team | None, billing: bool, now: datetime) -> None:
    """Raise QuotaLocked when the team's dashboards are locked; nothing with billing off."""
    if not billing or team is None:
        return
    standing = quota_standing(session, team, billing, now)
    if standing.state == "locked":
        raise QuotaLocked(team.id, standing)
