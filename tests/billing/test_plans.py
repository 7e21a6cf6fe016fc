"""billing/plans.py: the plans, and how a team's stored `plan` value resolves to one.
How retention follows the plan is tested in tests/privacy/test_plans.py."""

from __future__ import annotations

import dataclasses
import itertools

import pytest

from jetrack.accounts.teams import personal_team
from jetrack.accounts.users import create_user
from jetrack.billing.plans import FEATURES, FREE, PLANS, UNLIMITED, Plan, effective_plan, plan_named
from jetrack.store.models import Team
from jetrack.store.stores import Stores


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("free", ("Free", 183, 10_000)),  # six months
        ("growth", ("Growth", 3 * 365, 1_000_000)),
        ("business", ("Business", 5 * 365, 10_000_000)),
        (None, None),  # self-hosted: the instance's settings decide
        ("", None),
        ("Free", None),  # keys are exact: a miscased value is no plan, not the free one
        ("enterprise", None),  # a key from a newer version: the instance's settings
    ],
)
def test_plan_named(value: str | None, expected: tuple[str, int, int] | None) -> None:
    plan = plan_named(value)
    found = None if plan is None else (plan.name, plan.retention_days, plan.monthly_pageviews)
    assert found == expected


def test_each_plan_is_filed_under_its_key_and_a_bigger_plan_gives_more() -> None:
    assert all(key == plan.key for key, plan in PLANS.items())
    tiers = list(PLANS.values())
    for smaller, bigger in itertools.pairwise(tiers):
        assert bigger.retention_days > smaller.retention_days
        for limit in ("monthly_pageviews", "sites", "team_members", "price_month", "price_year"):
            assert getattr(bigger, limit) > getattr(smaller, limit), limit
        assert bigger.features >= smaller.features
        assert bigger.price_year < 12 * bigger.price_month or bigger.price_month == 0


def test_plans_cannot_be_changed_in_place() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        PLANS["free"].retention_days = 10_000  # type: ignore[misc]
    assert isinstance(PLANS["free"], Plan) and PLANS["free"].retention_days == 183


def test_a_teams_stored_plan_resolves_after_a_round_trip(stores: Stores) -> None:
    with stores.control.session() as session:
        owner = create_user(session, "ada@example.com", password="correct horse battery")
        team = personal_team(session, owner)
        team.plan = "growth"
        team_id = team.id
    with stores.control.session() as session:
        stored = session.get(Team, team_id)
        assert stored is not None
        plan = plan_named(stored.plan)
    assert plan is PLANS["growth"]


@pytest.mark.parametrize(
    ("billing", "value", "expected"),
    [
        (False, None, "unlimited"),
        (False, "business", "unlimited"),  # billing off: nothing is limited whatever the column
        (True, None, "free"),  # billing on: a team without a plan is on Free
        (True, "growth", "growth"),
        (True, "enterprise", "free"),
    ],
)
def test_effective_plan(billing: bool, value: str | None, expected: str) -> None:
    assert effective_plan(billing, value).key == expected


def test_the_unlimited_plan_limits_nothing() -> None:
    assert UNLIMITED.monthly_pageviews is None and UNLIMITED.sites is None
    assert UNLIMITED.team_members is None
    assert all(UNLIMITED.includes(feature) for feature in FEATURES)
    assert not FREE.includes("funnels")
