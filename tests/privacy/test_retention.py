"""Retention: rows older than each site's cut are gone, newer rows stay, per engine table."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from jetrack.jobs import runner
from jetrack.privacy.retention import (
    apply_retention,
    data_available_from,
    retention_cutoff,
    site_cutoffs,
)
from jetrack.store import job_queue
from jetrack.store.models import Job, Site
from jetrack.store.stores import Stores
from tests.conftest import make_settings
from tests.privacy.helpers import days_ago, event_times, insert_events, make_account

AGES = [2, 29, 31, 60, 200, 500]


def _set_retention(stores: Stores, site_id: int, days: int | None) -> None:
    with stores.control.session() as session:
        site = session.get(Site, site_id)
        assert site is not None
        site.retention_days = days


@pytest.mark.slow
def test_each_site_keeps_exactly_its_period(open_with: Callable[..., Stores]) -> None:
    stores = open_with(retention_days=30)
    _, (default, longer, forever) = make_account(
        stores, "o@example.com", "a.example", "b.example", "c.example"
    )
    _set_retention(stores, longer, 400)
    _set_retention(stores, forever, 0)
    now = datetime.now(UTC)
    for site_id in (default, longer, forever):
        insert_events(stores.events, site_id, [days_ago(age, now) for age in AGES])

    with stores.control.session() as session:
        cutoffs = site_cutoffs(session, stores.settings, now)
    assert set(cutoffs) == {default, longer}
    report = apply_retention(stores.events, cutoffs)

    def ages(site_id: int) -> list[int]:
        return sorted(
            round((now - moment) / timedelta(days=1))
            for moment in event_times(stores.events, site_id)
        )

    assert ages(default) == [2, 29]
    assert ages(longer) == [2, 29, 31, 60, 200]
    assert ages(forever) == AGES
    assert report.trimmed and not report.dropped_partitions  # "forever" holds every month
    # Idempotent: a second run changes nothing and has nothing to do.
    again = apply_retention(stores.events, cutoffs)
    assert again.trimmed == [] and ages(default) == [2, 29]


def test_whole_months_are_dropped_when_every_site_is_past_its_cut(
    open_with: Callable[..., Stores],
) -> None:
    stores = open_with(retention_days=45)
    _, (one, two) = make_account(stores, "o@example.com", "a.example", "b.example")
    now = datetime.now(UTC)
    for site_id in (one, two):
        insert_events(stores.events, site_id, [days_ago(age, now) for age in (1, 200, 400)])
    with stores.control.session() as session:
        report = apply_retention(stores.events, site_cutoffs(session, stores.settings, now))
    dropped = [p.split(":")[0] for p in report.dropped_partitions]
    assert dropped == ["events", "events", "events_by_page", "events_by_page"], report
    assert [m.date() for m in event_times(stores.events, one)] == [days_ago(1, now).date()]


def test_data_available_from_follows_site_and_instance_settings(
    open_with: Callable[..., Stores], tmp_path: Path
) -> None:
    stores = open_with(retention_days=183)
    now = datetime(2026, 3, 10, 23, 30, tzinfo=UTC)
    site = Site(domain="x.example", timezone="Asia/Tokyo", retention_days=None)
    # 23:30 UTC is already 11 March in Tokyo: the days count in the site's zone.
    assert data_available_from(site, stores.settings, now) == date(2026, 3, 11) - timedelta(
        days=183
    )
    cut = retention_cutoff(site, stores.settings, now)
    assert cut is not None and cut.astimezone(UTC).hour == 15  # Tokyo midnight in UTC
    site.retention_days = 0
    assert data_available_from(site, stores.settings, now) is None
    site.retention_days = 7
    assert data_available_from(site, stores.settings, now) == date(2026, 3, 4)
    unlimited = make_settings(tmp_path / "other")
    assert data_available_from(Site(domain="y.example", timezone="UTC"), unlimited) is None


def test_the_daily_job_runs_once_a_day_and_is_recorded(open_with: Callable[..., Stores]) -> None:
    stores = open_with(retention_days=30)
    _, (site_id,) = make_account(stores, "o@example.com", "a.example")
    insert_events(stores.events, site_id, [days_ago(1), days_ago(90)])
    assert runner.run_pending(stores) >= 2  # retention and purge
    assert len(event_times(stores.events, site_id)) == 1
    with stores.control.session() as session:
        assert job_queue.last_finished(session, "retention") is not None
        jobs = session.scalars(select(Job).where(Job.kind == "retention")).all()
        assert len(jobs) == 1 and jobs[0].state == "done"
        assert "trimmed" in jobs[0].payload["report"]
    assert runner.run_pending(stores) == 0  # today's run is done


def test_every_event_table_is_cleaned_including_sessions(
    open_with: Callable[..., Stores],
) -> None:
    from jetrack.privacy.event_tables import delete_site_rows, present_tables

    stores = open_with(retention_days=30)
    _, (site_id,) = make_account(stores, "o@example.com", "a.example")
    tables = present_tables(stores.events)
    assert "events" in tables
    if "sessions" not in tables:
        return  # the sessions table is not migrated in this tree yet
    for age in (1, 90):
        stores.events.command(
            "INSERT INTO sessions (site_id, session_id, visitor_id, start, version)"
            " VALUES ({site:UInt32}, {age:UInt64}, 1, {ts:DateTime('UTC')}, 1)",
            {"site": site_id, "age": age, "ts": days_ago(age).strftime("%Y-%m-%d %H:%M:%S")},
        )
    with stores.control.session() as session:
        apply_retention(stores.events, site_cutoffs(session, stores.settings))

    def session_ids() -> list[int]:
        result = stores.events.query(
            "SELECT session_id FROM sessions WHERE site_id = {site:UInt32}", {"site": site_id}
        )
        return [int(row[0]) for row in result.rows]

    assert session_ids() == [1]
    delete_site_rows(stores.events, site_id)
    assert session_ids() == []
