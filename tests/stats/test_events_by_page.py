"""events_by_page (0012): the events that may match a page or goal filter, by page. The
dashboard's answers with it are the answers of the events table; the table is kept by
every insert and cleaned with the others."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from jetrack.imports.replay import delete_import
from jetrack.privacy.event_tables import delete_site_rows, present_tables
from jetrack.stats import sql, tables
from jetrack.stats.engine import prepare, run_query
from jetrack.stats.query import GoalInfo, SiteInfo
from jetrack.store.event_schema import migrate_events
from jetrack.store.events import first_value
from jetrack.store.rollups import build_rollups
from jetrack.store.stores import Stores
from tests.stats.helpers import demo_site

DEMO_NOW = datetime(2024, 6, 1, 12, tzinfo=UTC)

# Filters with a page or goal condition beside others, as a dashboard combines them.
FILTERS: list[list[Any]] = [
    [["is", "visit:country", ["US"]], ["is", "event:page", ["/pricing"]]],
    [["is", "visit:source", ["Google"]], ["is", "event:goal", ["Signup"]]],
    [["is", "visit:device", ["Mobile"]], ["contains", "event:page", ["blog"]]],
    [["is", "visit:browser", ["Chrome"]], ["is_not", "event:page", ["/"]]],
    [["is", "event:name", ["Signup"]], ["is", "visit:browser", ["Safari"]]],
    [["is", "visit:os", ["Mac"]], ["is", "event:goal", ["Visit /blog/*"]]],
    [["has_done", ["is", "event:page", ["/pricing"]]], ["is", "visit:country", ["DE"]]],
    [["or", [["is", "event:page", ["/pricing"]], ["is", "event:page", ["/docs"]]]],
     ["is", "visit:exit_page", ["/"]]],
    [["is", "visit:country", ["US"]], ["matches", "event:page", ["^/blog/"]]],
    # Alone (the graph of days not rolled up, or in a zone off UTC, reads events_by_page).
    [["is", "event:page", ["/pricing"]]],
    [["contains", "event:page", ["blog"]]],
    [["is", "event:goal", ["Signup"]]],
]  # fmt: skip


def dashboard(filters: list[Any]) -> list[dict[str, Any]]:
    base = {"site_id": "", "date_range": "7d", "filters": filters}
    return [
        {**base, "metrics": ["visitors", "visits", "pageviews", "bounce_rate", "visit_duration"],
         "include": {"comparisons": {"mode": "previous_period"}}},
        {**base, "metrics": ["visitors"], "dimensions": ["time:day"]},
        {**base, "metrics": ["visitors"], "dimensions": ["visit:source"]},
        {**base, "metrics": ["visitors", "pageviews"], "dimensions": ["event:page"]},
        {**base, "metrics": ["visitors"], "dimensions": ["event:page"]},
        {**base, "metrics": ["visitors"], "dimensions": ["event:name", "time:hour"]},
        {**base, "metrics": ["visitors", "visits"], "dimensions": ["visit:entry_page"]},
        {**base, "metrics": ["visitors", "visits"], "dimensions": ["visit:exit_page"]},
        {**base, "metrics": ["visitors", "percentage"], "dimensions": ["visit:country"]},
        {**base, "metrics": ["visitors", "percentage"], "dimensions": ["visit:device"]},
        {**base, "metrics": ["visitors", "events", "conversion_rate"],
         "dimensions": ["event:goal"]},
    ]  # fmt: skip


def blog_site(stores: Stores) -> SiteInfo:
    return demo_site(stores, DEMO_NOW, GoalInfo("Visit /blog/*", page_path="/blog/*"))


def answers(stores: Stores, site: SiteInfo) -> list[Any]:
    return [
        run_query(stores.events, site, {**request, "site_id": site.domain}, now=DEMO_NOW)
        for filters in FILTERS
        for request in dashboard(filters)
    ]


def test_the_dashboard_answers_as_from_the_events_table(
    stores: Stores, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Raw and rolled up, with each kind of page and goal filter beside a visit filter:
    every answer as when the visits are found in the events table (the way before
    events_by_page), and the same again with every row of events_by_page written twice."""
    site = blog_site(stores)
    read: list[str] = []
    execute = stores.events.query

    def recording(statement: str, *args: Any, **kwargs: Any) -> Any:
        read.append(statement)
        return execute(statement, *args, **kwargs)

    monkeypatch.setattr(stores.events, "query", recording)
    for rolled_up in (False, True):
        if rolled_up:
            for day in range(8, 0, -1):
                build_rollups(stores.events, (DEMO_NOW - timedelta(days=day)).date())
        found = answers(stores, site)
        assert any("events_by_page" in statement for statement in read)
        with monkeypatch.context() as events_only:
            events_only.setattr(tables, "found_by_page", lambda query: False)
            events_only.setattr(sql, "by_page", lambda tree, goals: False)
            read.clear()
            assert answers(stores, site) == found, rolled_up
            assert not any("events_by_page" in statement for statement in read)
        assert any(row["metrics"][0] for answer in found for row in answer["results"])
    stores.events.command("INSERT INTO events_by_page SELECT * FROM events_by_page")
    assert answers(stores, site) == found


def test_every_insert_into_events_writes_its_rows_and_erasure_removes_them(
    stores: Stores,
) -> None:
    site = blog_site(stores)
    count = "SELECT count() FROM {table} WHERE site_id = {{s:UInt32}}"
    events = first_value(
        stores.events.query(
            count.format(table="events") + " AND name != 'engagement'", {"s": site.id}
        )
    )
    assert events > 1000
    by_page = stores.events.query(count.format(table="events_by_page"), {"s": site.id})
    assert first_value(by_page) == events
    assert "events_by_page" in present_tables(stores.events)
    # An import's events (replayed logs), then the import deleted: its rows go from both.
    stores.events.command(
        "INSERT INTO events SELECT * REPLACE (toUInt32(5) AS import_id) FROM events"
        " WHERE site_id = {s:UInt32} AND name = 'pageview' LIMIT 50",
        {"s": site.id},
    )
    imported = count.format(table="events_by_page") + " AND import_id = 5"
    assert first_value(stores.events.query(imported, {"s": site.id})) == 50
    assert delete_import(stores.events, site.id, 5) == 50
    assert not first_value(stores.events.query(imported, {"s": site.id}))
    assert first_value(by_page) == first_value(
        stores.events.query(count.format(table="events_by_page"), {"s": site.id})
    )
    delete_site_rows(stores.events, site.id)
    assert not first_value(
        stores.events.query(count.format(table="events_by_page"), {"s": site.id})
    )


def test_the_migration_fills_it_from_the_events_already_stored(stores: Stores) -> None:
    site = blog_site(stores)
    stores.events.command("DROP VIEW events_by_page_writer")
    stores.events.command("DROP TABLE events_by_page")
    stores.events.command(
        "ALTER TABLE jetrack_migrations DELETE WHERE version = 12 SETTINGS mutations_sync = 1"
    )
    assert migrate_events(stores.events) == ["0012_events_by_page.sql"]
    pairs = "SELECT name, pathname, session_id, timestamp FROM {} WHERE site_id = {{s:UInt32}}"
    filled = stores.events.query(pairs.format("events_by_page"), {"s": site.id}).rows
    stored = stores.events.query(
        pairs.format("events") + " AND name != 'engagement'", {"s": site.id}
    ).rows
    assert sorted(filled) == sorted(stored) and filled


@pytest.mark.parametrize(
    ("page", "from_sessions"),
    [
        (["is", "event:page", ["/pricing"]], True),
        (["contains", "event:page", ["blog"]], True),
        (["is_not", "event:page", ["/"]], False),  # nearly every visit: a scan is cheaper
        (["not", ["is", "event:page", ["/"]]], False),
        (["is", "event:props:plan", ["pro"]], False),  # not a column of events_by_page
    ],
)
def test_visitors_come_from_the_visits_found_by_page_only_for_a_narrowing_filter(
    stores: Stores, page: list[Any], from_sessions: bool
) -> None:
    site = SiteInfo(1, "example.com", "UTC", ())
    request = {"site_id": "example.com", "date_range": "7d", "metrics": ["visitors"],
               "dimensions": ["visit:source"], "filters": [["is", "visit:country", ["US"]], page]}  # fmt: skip
    query = prepare(stores.events, site, request, now=DEMO_NOW)
    assert tables.choose(query).provider["visitors"] == ("sessions" if from_sessions else "events")
