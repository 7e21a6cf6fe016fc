"""What a team's plan allows: more sites, more members, and the features it includes.

`require` is the one gate every place that adds a site, invites a member or uses a plan's
feature calls (web pages and APIs); with billing off every team is UNLIMITED and it never
refuses. A refusal names the plan and where to upgrade (docs/billing.md).
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from jetrack.billing.plans import Feature, Plan, effective_plan
from jetrack.i18n.catalogs import gettext_noop
from jetrack.i18n.errors import FieldError
from jetrack.store.models import Invitation, Membership, Site, Team, utcnow

Ask = Literal["site", "member", "funnels", "revenue", "stats_api", "imports"]
# HTTP status of a refusal: 402 Payment Required (the plan, not the person, says no).
REFUSED_STATUS = 402

_FEATURE_MESSAGES: dict[Feature, str] = {
    "funnels": gettext_noop("The {plan} plan does not include funnels. Upgrade: {url}"),
    "revenue": gettext_noop("The {plan} plan does not include revenue goals. Upgrade: {url}"),
    "stats_api": gettext_noop("The {plan} plan does not include the Stats API. Upgrade: {url}"),
    "imports": gettext_noop("The {plan} plan does not include imports. Upgrade: {url}"),
}


def upgrade_path(team_id: int) -> str:
    """The team's plans page, where an owner upgrades (web/billing_pages.py)."""
    return f"/billing/teams/{team_id}"


class PlanLimitError(FieldError):
    """The team's plan does not allow this: `field` the form field it concerns (or the
    feature), the message names the plan and the upgrade page."""

    status = REFUSED_STATUS

    def __init__(self, field: str, message: str, *, plan: Plan, upgrade_url: str, **params: object):
        super().__init__(field, message, plan=plan.name, url=upgrade_url, **params)
        self.plan = plan
        self.upgrade_url = upgrade_url

    def body(self) -> dict[str, object]:
        """The JSON APIs' answer."""
        return {
            "error": str(self.problem),
            "plan": self.plan.key,
            "upgrade_url": self.upgrade_url,
        }


def require(session: Session, team: Team, billing: bool, ask: Ask, field: str = "") -> None:
    """Raise PlanLimitError when the team's plan does not allow `ask` (one more site, one
    more member, or a feature); nothing with billing off."""
    plan = effective_plan(billing, team.plan)
    url = upgrade_path(team.id)
    if ask == "site":
        if plan.sites is not None and site_count(session, team.id) >= plan.sites:
            raise PlanLimitError(
                field or "domain",
                gettext_noop("The {plan} plan allows {limit} site(s). Upgrade: {url}"),
                plan=plan, upgrade_url=url, limit=plan.sites,
            )  # fmt: skip
    elif ask == "member":
        if (
            plan.team_members is not None
            and seat_count(session, team.id, utcnow()) >= plan.team_members
        ):
            raise PlanLimitError(
                field or "email",
                gettext_noop("The {plan} plan allows {limit} team member(s). Upgrade: {url}"),
                plan=plan, upgrade_url=url, limit=plan.team_members,
            )  # fmt: skip
    elif not plan.includes(ask):
        raise PlanLimitError(field or ask, _FEATURE_MESSAGES[ask], plan=plan, upgrade_url=url)


def site_count(session: Session, team_id: int) -> int:
    return session.scalar(select(func.count(Site.id)).where(Site.team_id == team_id)) or 0


def seat_count(session: Session, team_id: int, now: datetime | None = None) -> int:
    """Members plus the team invitations still open (an accepted one becomes a member)."""
    members = session.scalar(select(func.count(Membership.id)).where(Membership.team_id == team_id))
    conditions = [
        Invitation.team_id == team_id,
        Invitation.site_id.is_(None),
        Invitation.accepted_at.is_(None),
        Invitation.revoked_at.is_(None),
    ]
    if now is not None:
        conditions.append(Invitation.expires_at > now)
    invited = session.scalar(select(func.count(Invitation.id)).where(*conditions))
    return (members or 0) + (invited or 0)
