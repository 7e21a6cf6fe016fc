"""A team's plan in figures for its settings page: this month's billable events against
the quota, and its sites and members against the plan's limits."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from jetrack.billing.limits import seat_count, site_count, upgrade_path
from jetrack.billing.quota import QuotaStanding, quota_standing
from jetrack.store.models import Team


@dataclass(frozen=True, slots=True)
class UsageSummary:
    standing: QuotaStanding
    sites: int
    members: int
    upgrade_url: str

    @property
    def plan_name(self) -> str:
        return self.standing.plan.name


def usage_summary(session: Session, team: Team, billing: bool, now: datetime) -> UsageSummary:
    """The Usage section's figures (no event-store query: the quota job's last count)."""
    return UsageSummary(
        quota_standing(session, team, billing, now),
        site_count(session, team.id),
        seat_count(session, team.id, now),
        upgrade_path(team.id),
    )
