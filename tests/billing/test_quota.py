"""Quotas that never lose data: the decider, then the job's mails (once per threshold and
month, on a loopback SMTP server), the grace, the lock, and what lifts it."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from jetrack.billing.changes import apply_plan
from jetrack.billing.quota import (
    GRACE_DAYS,
    QuotaLocked,
    QuotaStep,
    next_step,
    quota_standing,
    require_unlocked,
    standing_of,
)
from jetrack.jobs import runner
from jetrack.jobs.quota import check_notices, check_team
from jetrack.store.models import Job, Team
from jetrack.store.stores import Stores, open_stores
from tests.billing.helpers import BILLING_ON, add_events, team_with_sites
from tests.conftest import Inbox, copy_template, make_settings
from tests.privacy.helpers import count_events

NOW = datetime(2027, 3, 10, 9, tzinfo=UTC)
EARLIER = NOW - timedelta(days=2)


@pytest.mark.parametrize(
    ("used", "quota", "warned", "over", "expected"),
    [
        (100, None, None, None, QuotaStep(None, None, None)),  # no quota: nothing
        (7_999, 10_000, None, None, QuotaStep(None, None, None)),
        (8_000, 10_000, None, None, QuotaStep(NOW, None, "warning")),
        (9_000, 10_000, EARLIER, None, QuotaStep(EARLIER, None, None)),  # warned once
        (10_000, 10_000, EARLIER, None, QuotaStep(EARLIER, None, None)),  # at, not over
        (10_001, 10_000, EARLIER, None, QuotaStep(EARLIER, NOW, "over")),
        (12_000, 10_000, None, None, QuotaStep(NOW, NOW, "over")),  # straight past 100%
        (15_000, 10_000, EARLIER, EARLIER, QuotaStep(EARLIER, EARLIER, None)),  # once
    ],
)
def test_next_step(
    used: int,
    quota: int | None,
    warned: datetime | None,
    over: datetime | None,
    expected: QuotaStep,
) -> None:
    assert next_step(used, quota, warned, over, NOW) == expected


@pytest.mark.parametrize(
    ("used", "over_days_ago", "state"),
    [
        (5_000, None, "ok"),
        (8_500, None, "warning"),
        (10_500, None, "warning"),  # over, no grace begun yet (a plan change since)
        (10_500, 0, "grace"),
        (10_500, GRACE_DAYS - 0.01, "grace"),
        (10_500, GRACE_DAYS, "locked"),
        (9_000, GRACE_DAYS + 3, "warning"),  # back under quota: no lock
    ],
)
def test_standing_of(used: int, over_days_ago: float | None, state: str) -> None:
    over = None if over_days_ago is None else NOW - timedelta(days=over_days_ago)
    assert standing_of(used, 10_000, over, NOW) == state


@pytest.fixture
def billed(
    tmp_path: Path, smtp: tuple[Inbox, int], data_dir_template: Path
) -> Iterator[tuple[Stores, Inbox]]:
    settings = make_settings(
        tmp_path / "data", **BILLING_ON, smtp_host="127.0.0.1", smtp_port=smtp[1],
        base_url="https://s.example",
    )  # fmt: skip
    copy_template(data_dir_template, settings)
    stores = open_stores(settings)
    try:
        yield stores, smtp[0]
    finally:
        stores.close()


def run_check(stores: Stores, team_id: int, now: datetime) -> int:
    with stores.control.session() as session:
        return check_team(session, stores.events, session.get_one(Team, team_id), now)


def send_mails(stores: Stores) -> None:
    while runner.run_one(stores, in_server=False, kinds=["plan_mail"]):
        pass


def standing(stores: Stores, team_id: int, now: datetime) -> str:
    with stores.control.session() as session:
        team = session.get_one(Team, team_id)
        return quota_standing(session, team, stores.settings.billing, now).state


def test_warning_then_over_then_grace_then_lock_and_events_stored_throughout(
    billed: tuple[Stores, Inbox],
) -> None:
    stores, inbox = billed
    _, team_id, (site,) = team_with_sites(stores, "ann@a.example", "a.example")
    add_events(stores.events, site, NOW - timedelta(days=1), 8_200)
    assert run_check(stores, team_id, NOW) == 1
    assert run_check(stores, team_id, NOW + timedelta(hours=1)) == 0  # once a month
    send_mails(stores)
    warning = inbox.last_to("ann@a.example")
    assert "82%" in str(warning["Subject"])
    assert "https://s.example/billing/teams/" in Inbox.text(warning)
    assert standing(stores, team_id, NOW) == "warning"

    add_events(stores.events, site, NOW, 2_000)
    over_at = NOW + timedelta(hours=2)
    assert run_check(stores, team_id, over_at) == 1
    assert run_check(stores, team_id, over_at + timedelta(hours=1)) == 0
    send_mails(stores)
    over = inbox.last_to("ann@a.example")
    assert "over this month's pageviews" in str(over["Subject"])
    until = (over_at + timedelta(days=GRACE_DAYS)).date().isoformat()
    assert until in Inbox.text(over)
    assert len(inbox.to("ann@a.example")) == 2

    assert standing(stores, team_id, over_at + timedelta(days=GRACE_DAYS - 1)) == "grace"
    locked_at = over_at + timedelta(days=GRACE_DAYS, minutes=1)
    assert standing(stores, team_id, locked_at) == "locked"
    with stores.control.session() as session, pytest.raises(QuotaLocked) as refused:
        require_unlocked(session, session.get_one(Team, team_id), True, locked_at)
    assert refused.value.standing.used == 10_200
    # Locked, yet every event is kept: more arrive and are counted.
    add_events(stores.events, site, NOW + timedelta(hours=3), 50)
    assert count_events(stores.events, site) == 10_250
    run_check(stores, team_id, locked_at)
    assert standing(stores, team_id, locked_at) == "locked"


def test_an_upgrade_lifts_the_lock_at_once(billed: tuple[Stores, Inbox]) -> None:
    stores, _ = billed
    _, team_id, (site,) = team_with_sites(stores, "ann@a.example", "a.example")
    add_events(stores.events, site, NOW - timedelta(days=1), 12_000)
    run_check(stores, team_id, NOW - timedelta(days=GRACE_DAYS + 1))
    assert standing(stores, team_id, NOW) == "locked"
    with stores.control.session() as session:
        apply_plan(session, session.get_one(Team, team_id), "growth", reason="checkout", now=NOW)
    assert standing(stores, team_id, NOW) == "ok"
    assert run_check(stores, team_id, NOW + timedelta(hours=1)) == 0  # 1.2% of Growth's quota
    assert standing(stores, team_id, NOW + timedelta(hours=1)) == "ok"


def test_the_next_month_under_quota_lifts_the_lock(billed: tuple[Stores, Inbox]) -> None:
    stores, _ = billed
    _, team_id, (site,) = team_with_sites(stores, "ann@a.example", "a.example")
    add_events(stores.events, site, datetime(2027, 3, 2, tzinfo=UTC), 11_000)
    run_check(stores, team_id, datetime(2027, 3, 3, tzinfo=UTC))
    assert standing(stores, team_id, datetime(2027, 3, 20, tzinfo=UTC)) == "locked"
    april = datetime(2027, 4, 1, 0, 10, tzinfo=UTC)
    assert standing(stores, team_id, april) == "ok"  # no count for April yet: open
    add_events(stores.events, site, april, 100)
    assert run_check(stores, team_id, april) == 0
    assert standing(stores, team_id, april) == "ok"
    # March's mails were March's: April warns again when it gets there.
    add_events(stores.events, site, april, 8_000)
    assert run_check(stores, team_id, april + timedelta(hours=1)) == 1


def test_with_billing_off_the_job_counts_and_mails_nothing(
    tmp_path: Path, smtp: tuple[Inbox, int], data_dir_template: Path
) -> None:
    settings = make_settings(tmp_path / "data", smtp_host="127.0.0.1", smtp_port=smtp[1])
    copy_template(data_dir_template, settings)
    stores = open_stores(settings)
    try:
        _, team_id, (site,) = team_with_sites(stores, "ann@a.example", "a.example")
        add_events(stores.events, site, datetime.now(UTC), 50_000)
        runner.run_pending(stores, kinds=["quota", "plan_mail"])
        with stores.control.session() as session:
            jobs = [job.kind for job in session.query(Job).filter(Job.kind == "plan_mail")]
            team = session.get_one(Team, team_id)
            assert quota_standing(session, team, False, datetime.now(UTC)).state == "ok"
        assert jobs == [] and smtp[0].messages == []
    finally:
        stores.close()


def test_a_downgrade_mails_its_owners_once_offering_the_export(
    billed: tuple[Stores, Inbox],
) -> None:
    stores, inbox = billed
    _, team_id, _ = team_with_sites(stores, "ann@a.example", "a.example", plan="business")
    with stores.control.session() as session:
        apply_plan(session, session.get_one(Team, team_id), "free", reason="cancelled", now=NOW)
    with stores.control.session() as session:
        assert check_notices(session, NOW) == 1
    with stores.control.session() as session:
        assert check_notices(session, NOW + timedelta(hours=1)) == 0
    send_mails(stores)
    (mail,) = inbox.to("ann@a.example")
    text = Inbox.text(mail)
    assert "183 days" in str(mail["Subject"])
    assert (NOW + timedelta(days=30)).date().isoformat() in text
    assert "https://s.example/account/privacy" in text


def test_without_smtp_a_plan_mail_is_logged_not_lost(
    stores: Stores, caplog: pytest.LogCaptureFixture
) -> None:
    """No JETRACK_SMTP_HOST (and billing off: an operator's downgrade): the notice's mail
    is written to the log, subject and text, without the recipient."""
    _, team_id, _ = team_with_sites(stores, "ann@a.example", "a.example", plan="growth")
    with stores.control.session() as session:
        apply_plan(session, session.get_one(Team, team_id), "free", reason="operator", now=NOW)
    with stores.control.session() as session:
        assert check_notices(session, NOW) == 1
    with caplog.at_level("WARNING", logger="jetrack.mail"):
        send_mails(stores)
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "data older than 183 days will be deleted on 2027-04-09" in logged
    assert "ann@a.example" not in logged
