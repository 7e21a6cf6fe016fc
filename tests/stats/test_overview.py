"""The sites overview: buckets in each site's time zone, the previous period, and all sites'
series from one statement (counted in the event store's own query log)."""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime

import pytest

from jetrack.stats.overview import SiteTrend, site_trends, windows
from jetrack.store.stores import Stores
from tests.stats.helpers import at, event, insert

NOW = at("2026-03-18 15:30")  # a Wednesday; New York is on summer time since March 8


def _utc(seconds: int) -> str:
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%d %H:%M")


@pytest.mark.parametrize(
    ("timezone", "period", "first", "last", "previous"),
    [
        # 24 local hours ending with the current one; the period before starts 24 h earlier.
        ("UTC", "24h", "2026-03-17 16:00", "2026-03-18 15:00", "2026-03-16 16:00"),
        # Kolkata is UTC+5:30: its hours start at half past in UTC.
        ("Asia/Kolkata", "24h", "2026-03-17 16:30", "2026-03-18 15:30", "2026-03-16 16:30"),
        # 7 local days ending today; New York's midnight moved from 05:00 to 04:00 UTC.
        ("America/New_York", "7d", "2026-03-12 04:00", "2026-03-18 04:00", "2026-03-05 05:00"),
        ("Pacific/Auckland", "7d", "2026-03-12 11:00", "2026-03-18 11:00", "2026-03-05 11:00"),
    ],
)
def test_windows_follow_the_site_time_zone(
    timezone: str, period: str, first: str, last: str, previous: str
) -> None:
    plan = windows(timezone, period, NOW)  # type: ignore[arg-type]
    assert len(plan.starts) == (24 if period == "24h" else 7)
    assert (_utc(plan.starts[0]), _utc(plan.starts[-1])) == (first, last)
    assert _utc(plan.previous_start) == previous
    assert list(plan.starts) == sorted(plan.starts)


def test_trends_count_visitors_per_local_bucket_and_period(stores: Stores) -> None:
    rows = [
        # Site 1, UTC, 24 h: buckets start at 16:00 yesterday; the cut is 15:30 yesterday.
        event("2026-03-18 14:10", site_id=1, visitor_id=1),  # bucket 23
        event("2026-03-18 15:05", site_id=1, visitor_id=1),  # bucket 24, same visitor
        event("2026-03-18 15:06", site_id=1, visitor_id=1, name="engagement"),  # not a visit
        event("2026-03-17 17:20", site_id=1, visitor_id=2),  # bucket 2
        event("2026-03-17 15:20", site_id=1, visitor_id=3),  # the previous period
        event("2026-03-16 16:00", site_id=1, visitor_id=4),  # the previous period
        event("2026-03-17 15:40", site_id=1, visitor_id=5),  # after the cut, before bucket 1
        event("2026-03-16 15:59", site_id=1, visitor_id=6),  # before the previous period
        # Site 2, Kolkata (UTC+5:30), 24 h: buckets start at 16:30 UTC yesterday.
        event("2026-03-18 15:29", site_id=2, visitor_id=7),  # bucket 23 (20:00-21:00 local)
        event("2026-03-17 16:35", site_id=2, visitor_id=8),  # bucket 1
        event("2026-03-17 16:20", site_id=2, visitor_id=9),  # after the cut, before bucket 1
    ]
    insert(stores, rows)
    trends = site_trends(stores.events, [(1, "UTC"), (2, "Asia/Kolkata"), (3, "UTC")], "24h", NOW)
    utc = trends[1]
    assert utc.series[22] == 1 and utc.series[23] == 1 and utc.series[1] == 1
    assert sum(utc.series) == 3
    assert (utc.visitors, utc.previous, utc.change) == (2, 2, 0)
    kolkata = trends[2]
    assert kolkata.series[0] == 1 and kolkata.series[22] == 1 and sum(kolkata.series) == 2
    assert (kolkata.visitors, kolkata.previous, kolkata.change) == (2, 0, None)
    assert trends[3] == SiteTrend((0,) * 24, 0, 0)  # no events at all


def test_seven_days_by_local_day(stores: Stores) -> None:
    rows = [
        # New York, 7 days: today is March 18 local; midnight is 04:00 UTC since March 8.
        event("2026-03-18 03:30", site_id=4, visitor_id=1),  # March 17, 23:30 local: day 6
        event("2026-03-18 04:30", site_id=4, visitor_id=2),  # March 18, 00:30 local: day 7
        event("2026-03-12 04:00", site_id=4, visitor_id=3),  # March 12, midnight: day 1
        event("2026-03-12 03:59", site_id=4, visitor_id=4),  # March 11 local, after the cut
        event("2026-03-05 05:10", site_id=4, visitor_id=5),  # previous period (EST midnight)
        event("2026-03-11 15:29", site_id=4, visitor_id=6),  # previous period, before the cut
        event("2026-03-05 04:50", site_id=4, visitor_id=7),  # March 4 local: before it
    ]
    insert(stores, rows)
    [trend] = site_trends(stores.events, [(4, "America/New_York")], "7d", NOW).values()
    assert trend.series == (1, 0, 0, 0, 0, 1, 1)
    assert (trend.visitors, trend.previous, trend.change) == (3, 2, 50)


def test_two_hundred_sites_in_one_statement(
    stores: Stores, caplog: pytest.LogCaptureFixture
) -> None:
    zones = ["UTC", "Europe/Berlin", "Asia/Kolkata", "America/New_York", "Asia/Kathmandu"]
    sites = [(site_id, zones[site_id % len(zones)]) for site_id in range(1, 201)]
    rows = [
        event(f"2026-03-{day:02d} {hour:02d}:10", site_id=site_id, visitor_id=visitor)
        for site_id in range(1, 201)
        for day, hour, visitor in [(18, 9, 1), (18, 12, 2), (14, 9, 3), (9, 9, 4)]
    ]
    insert(stores, rows)
    for period in ("24h", "7d"):
        caplog.clear()
        with caplog.at_level(logging.DEBUG, logger="jetrack.events"):
            started = time.perf_counter()
            trends = site_trends(stores.events, sites, period, NOW)
            elapsed = time.perf_counter() - started
        statements = [r for r in caplog.records if r.name == "jetrack.events"]
        assert len(statements) == 1, [r.getMessage() for r in statements]
        assert len(trends) == 200 and elapsed < 5
        if period == "24h":
            assert all(t.visitors == 2 and sum(t.series) == 2 for t in trends.values())
        else:
            assert all((t.visitors, t.previous) == (3, 1) for t in trends.values())
            assert all(t.change == 200 for t in trends.values())
