"""What the dashboard and the sites list tell a team about its plan: the quota's warning,
grace and lock, and a downgrade's retention notice (with the export offered first)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from sqlalchemy.orm import Session

from jetrack.billing.changes import active_notice
from jetrack.billing.limits import upgrade_path
from jetrack.billing.quota import quota_standing
from jetrack.store.models import Team, as_utc

BannerKind = Literal["warning", "grace", "locked", "retention"]


@dataclass(frozen=True, slots=True)
class Banner:
    kind: BannerKind
    team_id: int
    team_name: str
    plan_name: str
    percent: int  # of the month's quota used (quota banners)
    until: datetime | None  # the grace's or the retention notice's end
    upgrade_url: str
    keep_days: int = 0  # retention banners: the days kept now and after the notice
    new_days: int = 0


def team_banners(session: Session, team: Team, billing: bool, now: datetime) -> list[Banner]:
    """The banners of one team: none with billing off but a running retention notice (an
    operator's downgrade shortens retention there too)."""
    found: list[Banner] = []
    url = upgrade_path(team.id)
    standing = quota_standing(session, team, billing, now)
    if billing and standing.state != "ok":
        quota_banner = Banner(
            standing.state, team.id, team.name, standing.plan.name, standing.percent,
            standing.grace_ends_at, url,
        )  # fmt: skip
        found.append(quota_banner)
    notice = active_notice(session, team.id, now)
    if notice is not None:
        retention_banner = Banner(
            "retention", team.id, team.name, standing.plan.name, 0, as_utc(notice.ends_at),
            url, keep_days=notice.keep_days, new_days=notice.new_days,
        )  # fmt: skip
        found.append(retention_banner)
    return found


def banners_for(session: Session, teams: list[Team], billing: bool, now: datetime) -> list[Banner]:
    return [banner for team in teams for banner in team_banners(session, team, billing, now)]
