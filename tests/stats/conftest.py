"""One migrated data dir per module holding the hand-built fixture of fixture_rows()."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from jetrack.config import Settings
from jetrack.stats.query import GoalInfo, SiteInfo
from jetrack.store.ids import session_id_at
from jetrack.store.rollups import build_rollups
from jetrack.store.stores import Stores, open_stores
from tests.conftest import EVENT_BACKENDS, backend_settings
from tests.stats.helpers import SITE_ID, event, insert, visit
from tests.stats.shop import shop_rows

GOALS = (
    GoalInfo("Signup", event_name="Signup"),
    GoalInfo("Visit /blog/*", page_path="/blog/*"),
)
BERLIN = SiteInfo(SITE_ID, "example.com", "Europe/Berlin", GOALS)
UTC_SITE = SiteInfo(SITE_ID, "example.com", "UTC", GOALS)


def fixture_rows() -> list[dict[str, Any]]:
    """Day D is 2024-03-10 in Berlin (UTC+1): [2024-03-09 23:00, 2024-03-10 23:00) UTC.

    S0 v200 D-1 Google DE      /                                   bounce
    S1 v101 D   Google DE      / -> /pricing, Signup, engagement   180 s
    S2 v102 D   direct US      / (+ engagement)                    bounce
    S3 v103 D   Twitter US     /blog/a + non-interactive Outbound  bounce, 60 s
    S4 v101 D   Google DE      /blog/a -> /blog/b (props plan=free) 600 s
    S5 v104 D..D+1 Newsletter FR  / 23:50 -> /pricing 00:10 local  1200 s, crosses midnight
    S6 v105 D+1 local (still D in UTC) Bing  /                     bounce
    """
    de = {"source": "Google", "country_code": "DE", "region_code": "DE-BE", "city": "Berlin"}
    de |= {"browser": "Chrome", "device": "Desktop", "channel": "Organic Search"}
    us = {"country_code": "US", "region_code": "US-CA", "device": "Mobile"}
    rows = visit(0, 200, [("2024-03-09 11:00", "/")], **de)
    rows += visit(1, 101, [("2024-03-10 08:00", "/"), ("2024-03-10 08:02", "/pricing")], **de)
    s1 = {"session_id": 1, "visitor_id": 101, "entry_page": "/", **de}
    rows += [
        event("2024-03-10 08:03", name="Signup", pathname="/pricing", props={"plan": "pro"}, **s1),
        event("2024-03-10 08:01", name="engagement", pathname="/", scroll_depth=100,
              engagement_ms=20_000, **s1),
        event("2024-03-10 08:04", name="engagement", pathname="/pricing", scroll_depth=60,
              engagement_ms=40_000, **s1),
        event("2024-03-10 08:06", name="engagement", pathname="/pricing", scroll_depth=80,
              engagement_ms=5_000, **s1),
    ]  # fmt: skip
    rows += visit(2, 102, [("2024-03-10 09:00", "/")], browser="Firefox", **us)
    rows += [
        event("2024-03-10 09:00", name="engagement", session_id=2, visitor_id=102,
              scroll_depth=30, engagement_ms=10_000, browser="Firefox", **us),
    ]  # fmt: skip
    tw = {"source": "Twitter", "browser": "Safari", "channel": "Organic Social", **us}
    rows += visit(3, 103, [("2024-03-10 11:00", "/blog/a")], **tw)
    rows += [
        event("2024-03-10 11:01", name="Outbound", interactive=0, session_id=3, visitor_id=103,
              pathname="/blog/a", entry_page="/blog/a", **tw),
    ]  # fmt: skip
    rows += visit(4, 101, [("2024-03-10 19:00", "/blog/a")], **de)
    rows += [
        event("2024-03-10 19:10", session_id=4, visitor_id=101, pathname="/blog/b",
              entry_page="/blog/a", props={"plan": "free"}, **de),
    ]  # fmt: skip
    fr = {"source": "Newsletter", "country_code": "FR", "utm_campaign": "spring"}
    rows += visit(5, 104, [("2024-03-10 22:50", "/"), ("2024-03-10 23:10", "/pricing")], **fr)
    rows += visit(6, 105, [("2024-03-10 23:30", "/")], source="Bing", device="Tablet")
    return rows


def with_dated_ids(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The same events with visit ids as ingestion makes them (start second + sequence)."""
    starts: dict[int, datetime] = {}
    for row in rows:
        if row["name"] != "engagement":
            sid = row["session_id"]
            starts[sid] = min(starts.get(sid, row["timestamp"]), row["timestamp"])
    return [
        row
        | {
            "session_id": session_id_at(
                int(starts[row["session_id"]].timestamp()), row["session_id"]
            )
        }
        for row in rows
    ]


def roll_up_all(stores: Stores, rows: list[dict[str, Any]]) -> None:
    """Daily rollups of every day with data, with a row for every value (also of every
    filtered value, whatever the site's size)."""
    days = {row["timestamp"].date() for row in rows}
    # Also cut at Berlin's midnights (BERLIN is the same site in that zone).
    zones = {SITE_ID: BERLIN.timezone}
    for day in sorted(days | {d - timedelta(days=1) for d in days}):
        build_rollups(stores.events, day, zones=zones, min_visits_per_row=1, min_filtered_visits=1)


@contextmanager
def stored(settings: Settings, rows: list[dict[str, Any]], rolled: bool) -> Iterator[Stores]:
    """`rows` as ingestion stores them in a migrated data dir; `rolled`: also with
    ingestion's visit ids and every day rolled up, so the same hand-computed numbers check
    the rollup path."""
    stores = open_stores(settings)
    if rolled:
        rows = with_dated_ids(rows)
    insert(stores, rows)
    if rolled:
        roll_up_all(stores, rows)
    try:
        yield stores
    finally:
        stores.close()


# The layouts of a module's stored fixture (events and sessions alone, or rolled up too),
# each on both event store backends: "rollups-server" is the rolled-up fixture on the
# ClickHouse server endpoint.
LAYOUTS = ["sessions", "rollups"]
STORED = [
    *LAYOUTS,
    *(pytest.param(f"{name}-server", marks=pytest.mark.clickhouse_server) for name in LAYOUTS),
]


@contextmanager
def stored_as(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    name: str,
    rows: list[dict[str, Any]],
) -> Iterator[Stores]:
    """`rows` stored in the layout and on the backend of `request.param` (one of STORED)."""
    layout, _, backend = str(request.param).partition("-")
    data_dir = tmp_path_factory.mktemp(name) / "data"
    with (
        backend_settings(request, backend or "embedded", data_dir) as settings,
        stored(settings, rows, layout == "rollups") as stores,
    ):
        yield stores


@pytest.fixture(params=EVENT_BACKENDS)
def settings(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Settings]:
    """Every stats test that opens stores runs on both event store backends."""
    with backend_settings(request, request.param, tmp_path / "data") as chosen:
        yield chosen


@pytest.fixture(scope="module", params=STORED)
def fixture_stores(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Stores]:
    """The fixture as ingestion stores it, with and without rollups."""
    with stored_as(request, tmp_path_factory, "stats", fixture_rows()) as stores:
        yield stores


@pytest.fixture(scope="module", params=STORED)
def shop_stores(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Stores]:
    """tests/stats/shop.py's day, stored like fixture_stores (with and without rollups)."""
    with stored_as(request, tmp_path_factory, "shop", shop_rows()) as stores:
        yield stores
