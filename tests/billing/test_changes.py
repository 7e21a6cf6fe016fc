"""billing/changes.py: every plan change is recorded, and a downgrade keeps the longer
retention through its notice period before the shorter one applies."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.orm import Session

from jetrack.accounts.teams import personal_team
from jetrack.accounts.users import create_user
from jetrack.billing.changes import (
    RETENTION_NOTICE_DAYS,
    PlanChange,
    active_notice,
    apply_plan,
    plan_history,
)
from jetrack.privacy.retention import retention_days, site_cutoffs
from jetrack.sites.sites import add_site, find_site
from jetrack.store.control import ControlStore
from jetrack.store.models import RetentionNotice, Team
from jetrack.store.stores import Stores
from tests.conftest import make_settings

NOW = datetime(2027, 3, 10, 9, tzinfo=UTC)


def new_team(session: Session, plan: str | None = None) -> Team:
    owner = create_user(session, "owner@example.com")
    add_site(session, owner, "example.com")
    team = personal_team(session, owner)
    team.plan = plan
    session.flush()
    return team


def test_each_change_is_recorded_in_order_and_no_change_records_nothing(stores: Stores) -> None:
    with stores.control.session() as session:
        team = new_team(session, "free")
        first = apply_plan(session, team, "business", reason="checkout", now=NOW)
        assert apply_plan(session, team, "business", reason="subscription_updated", now=NOW) is None
        apply_plan(session, team, "growth", reason="subscription_updated", now=NOW + timedelta(1))
        apply_plan(session, team, None, reason="operator", now=NOW + timedelta(2))
        team_id = team.id
    assert first == PlanChange(team_id, "free", "business", "checkout", NOW, None)
    with stores.control.session() as session:
        history = plan_history(session, team_id)
        assert session.get(Team, team_id).plan is None  # type: ignore[union-attr]
    assert [(c.from_plan, c.to_plan, c.reason, c.changed_at) for c in history] == [
        ("free", "business", "checkout", NOW),
        ("business", "growth", "subscription_updated", NOW + timedelta(1)),
        ("growth", None, "operator", NOW + timedelta(2)),
    ]


def test_plan_history_is_the_teams_own(stores: Stores) -> None:
    with stores.control.session() as session:
        team = new_team(session)
        other = personal_team(session, create_user(session, "other@example.com"))
        apply_plan(session, other, "growth", reason="checkout", now=NOW)
        assert plan_history(session, team.id) == []
        assert [c.to_plan for c in plan_history(session, other.id)] == ["growth"]


@pytest.mark.parametrize(
    ("before", "after", "notice"),
    [
        ("business", "growth", True),  # 5 years -> 3 years
        ("growth", "free", True),
        (None, "free", True),  # the instance's setting may be forever
        ("free", "growth", False),  # an upgrade keeps longer at once
        ("free", None, False),  # back to the instance's settings
    ],
)
def test_a_notice_only_when_retention_gets_shorter(
    stores: Stores, before: str | None, after: str | None, notice: bool
) -> None:
    with stores.control.session() as session:
        team = new_team(session, before)
        change = apply_plan(session, team, after, reason="operator", now=NOW)
        assert change is not None
        ends = NOW + timedelta(days=RETENTION_NOTICE_DAYS)
        assert change.notice_ends_at == (ends if notice else None)
        assert (active_notice(session, team.id, NOW) is not None) == notice


def test_the_longer_retention_holds_through_the_notice_then_the_shorter_applies(
    stores: Stores,
) -> None:
    settings = make_settings(stores.settings.data_dir, retention_days=0)
    with stores.control.session() as session:
        team = new_team(session, "business")
        apply_plan(session, team, "free", reason="cancelled", now=NOW)
    with stores.control.session() as session:
        site = find_site(session, "example.com")
        assert site is not None
        during = NOW + timedelta(days=RETENTION_NOTICE_DAYS - 1)
        after = NOW + timedelta(days=RETENTION_NOTICE_DAYS, seconds=1)
        assert retention_days(site, settings, during) == 5 * 365
        assert retention_days(site, settings, after) == 183
        # The daily job's cut moves only once the notice has run out.
        cut_during = site_cutoffs(session, settings, during)[site.id]
        cut_after = site_cutoffs(session, settings, after)[site.id]
        assert during - cut_during > timedelta(days=5 * 365 - 1)
        assert after - cut_after < timedelta(days=184)


def test_a_second_downgrade_inside_the_notice_keeps_the_first_plans_retention(
    stores: Stores,
) -> None:
    settings = make_settings(stores.settings.data_dir, retention_days=0)
    with stores.control.session() as session:
        team = new_team(session, "business")
        apply_plan(session, team, "growth", reason="subscription_updated", now=NOW)
        later = NOW + timedelta(days=10)
        change = apply_plan(session, team, "free", reason="cancelled", now=later)
        assert change is not None and change.notice_ends_at == later + timedelta(
            days=RETENTION_NOTICE_DAYS
        )
        notice = session.get(RetentionNotice, team.id)
        assert notice is not None and (notice.keep_days, notice.new_days) == (5 * 365, 183)
        site = find_site(session, "example.com")
        assert site is not None
        assert retention_days(site, settings, later + timedelta(days=25)) == 5 * 365


def test_an_upgrade_during_the_notice_ends_it(stores: Stores) -> None:
    with stores.control.session() as session:
        team = new_team(session, "growth")
        apply_plan(session, team, "free", reason="cancelled", now=NOW)
        apply_plan(session, team, "business", reason="checkout", now=NOW + timedelta(days=2))
        assert session.get(RetentionNotice, team.id) is None


def test_the_instance_setting_counts_when_it_is_longer_than_the_new_plan(stores: Stores) -> None:
    settings = make_settings(stores.settings.data_dir, retention_days=400)
    with stores.control.session() as session:
        team = new_team(session, None)
        apply_plan(session, team, "free", reason="operator", now=NOW)
        site = find_site(session, "example.com")
        assert site is not None
        assert retention_days(site, settings, NOW + timedelta(days=1)) == 400
        assert retention_days(site, settings, NOW + timedelta(days=31)) == 183


def test_plan_set_goes_through_apply_plan(stores: Stores) -> None:
    from tests.test_cli import invoke

    with stores.control.session() as session:
        team_id = new_team(session, "business").id
    data_dir = stores.settings.data_dir  # `plan set` opens the control store alone
    result = invoke(data_dir, "plan", "set", "--team", str(team_id), "free")
    assert result.returncode == 0, result.stderr
    assert "the longer retention stays until" in result.stdout
    assert invoke(data_dir, "plan", "set", "--team", str(team_id), "free").returncode == 0
    with stores.control.session() as session:
        history = plan_history(session, team_id)
        notice = session.get(RetentionNotice, team_id)
    assert [(c.from_plan, c.to_plan, c.reason) for c in history] == [
        ("business", "free", "operator")
    ]
    assert notice is not None and notice.keep_days == 5 * 365


def test_history_notices_and_counted_usage_on_both_control_stores(control: ControlStore) -> None:
    """The plan's tables on SQLite and PostgreSQL: history in order, the notice's end
    compared as an instant, and the counted month found by the moment inside it."""
    from jetrack.billing.quota import quota_standing
    from jetrack.billing.usage import billing_month, current_usage
    from jetrack.store.models import TeamUsage

    with control.session() as session:
        team = personal_team(session, create_user(session, "ann@a.example"))
        team.plan = "business"
        session.flush()
        apply_plan(session, team, "free", reason="cancelled", now=NOW)
        month = billing_month(NOW)
        session.add(
            TeamUsage(team_id=team.id, period_start=month.start, period_end=month.end,
                      billable_events=12_000, counted_at=NOW, plan="free",
                      warned_at=NOW, over_at=NOW - timedelta(days=8))
        )  # fmt: skip
        team_id = team.id
    with control.session() as session:
        team = session.get_one(Team, team_id)
        assert [(c.from_plan, c.to_plan) for c in plan_history(session, team_id)] == [
            ("business", "free")
        ]
        ends = NOW + timedelta(days=RETENTION_NOTICE_DAYS)
        assert active_notice(session, team_id, ends - timedelta(seconds=1)) is not None
        assert active_notice(session, team_id, ends) is None
        counted = current_usage(session, team_id, month.end - timedelta(seconds=1))
        assert counted is not None and counted.billable_events == 12_000
        assert current_usage(session, team_id, month.end) is None
        assert quota_standing(session, team, True, NOW).state == "locked"
        assert quota_standing(session, team, False, NOW).state == "ok"
