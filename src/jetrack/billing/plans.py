"""Plans and what they include. A team without a plan is self-hosted: the instance's
settings decide (retention: JETRACK_RETENTION_DAYS, unlimited by default)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Plan:
    key: str
    name: str
    retention_days: int  # how long analytics data is kept
    monthly_events: int  # the usage the plan is sized for


PLANS: dict[str, Plan] = {
    plan.key: plan
    for plan in (
        Plan("free", "Free", retention_days=183, monthly_events=10_000),  # six months
        Plan("growth", "Growth", retention_days=3 * 365, monthly_events=1_000_000),
        Plan("business", "Business", retention_days=5 * 365, monthly_events=10_000_000),
    )
}


def plan_named(key: str | None) -> Plan | None:
    """The plan for a team's `plan` value; None for self-hosted (no plan) or an unknown key."""
    return PLANS.get(key) if key else None
