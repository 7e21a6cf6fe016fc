"""Plans as data: what each plan includes and costs.

With billing off (JETRACK_BILLING unset, the self-hosted default) every team has the
instance's `UNLIMITED` plan: no quota, no limits, every feature, and the retention of
JETRACK_RETENTION_DAYS. With billing on, a team's `plan` column names one of `PLANS`
(a team without one is on Free)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

# What a plan may include beyond the dashboard itself.
Feature = Literal["funnels", "revenue", "stats_api", "imports"]
FEATURES: tuple[Feature, ...] = ("funnels", "revenue", "stats_api", "imports")
CURRENCY = "eur"  # prices are in cents of this currency


@dataclass(frozen=True, slots=True)
class Plan:
    key: str
    name: str
    retention_days: int  # how long analytics data is kept; 0: the instance's setting
    monthly_pageviews: int | None  # billable events (pageviews + custom events); None: no quota
    sites: int | None  # None: no limit
    team_members: int | None  # accounts in the team, owner included; None: no limit
    price_month: int  # cents a month, billed monthly
    price_year: int  # cents a year, billed yearly
    features: frozenset[Feature]

    def includes(self, feature: Feature) -> bool:
        return feature in self.features


FREE = Plan(
    "free",
    "Free",
    retention_days=183,  # six months, as the privacy policy says
    monthly_pageviews=10_000,
    sites=1,
    team_members=1,
    price_month=0,
    price_year=0,
    features=frozenset({"imports"}),
)

PLANS: dict[str, Plan] = {
    plan.key: plan
    for plan in (
        FREE,
        Plan(
            "growth",
            "Growth",
            retention_days=3 * 365,
            monthly_pageviews=1_000_000,
            sites=10,
            team_members=5,
            price_month=1_900,
            price_year=19_000,
            features=frozenset({"imports", "funnels", "stats_api"}),
        ),
        Plan(
            "business",
            "Business",
            retention_days=5 * 365,
            monthly_pageviews=10_000_000,
            sites=50,
            team_members=20,
            price_month=6_900,
            price_year=69_000,
            features=frozenset(FEATURES),
        ),
    )
}

# The plan of every team when billing is off: the instance's own rules, nothing limited.
UNLIMITED = Plan(
    "unlimited",
    "Self-hosted",
    retention_days=0,
    monthly_pageviews=None,
    sites=None,
    team_members=None,
    price_month=0,
    price_year=0,
    features=frozenset(FEATURES),
)


def plan_named(key: str | None) -> Plan | None:
    """The plan for a team's `plan` value; None for self-hosted (no plan) or an unknown key."""
    return PLANS.get(key) if key else None


def effective_plan(billing: bool, key: str | None) -> Plan:
    """The plan that applies to a team whose `plan` column is `key`: UNLIMITED with billing
    off; with billing on the named plan, Free for a team without one."""
    if not billing:
        return UNLIMITED
    return plan_named(key) or FREE
