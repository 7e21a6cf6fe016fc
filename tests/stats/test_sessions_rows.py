"""The engine reads visits from the sessions table: older rows of a visit (written at
earlier flushes, not merged yet) never count, whatever they say."""

from __future__ import annotations

from jetrack.stats.engine import run_query
from jetrack.stats.query import SiteInfo
from jetrack.store.sessions import SESSION_COLUMNS
from jetrack.store.stores import Stores
from tests.stats.helpers import insert, visit

SITE = SiteInfo(300, "example.com")


def test_older_rows_of_a_visit_are_hidden(fixture_stores: Stores) -> None:
    steps = [("2024-05-01 10:00", "/"), ("2024-05-01 10:05", "/pricing")]
    insert(fixture_stores, visit(7, 70, steps, site_id=300))
    # What an earlier flush wrote: one pageview, a bounce, exit page "/".
    stale = {"version": "1", "pageviews": "1", "exit_page": "'/'", "duration": "0"}
    columns = ", ".join(stale.get(c, c) for c in SESSION_COLUMNS)
    fixture_stores.events.command(
        f"INSERT INTO sessions ({', '.join(SESSION_COLUMNS)}) SELECT {columns} FROM sessions"
        " WHERE site_id = 300"
    )
    body = {"site_id": "example.com", "date_range": ["2024-05-01", "2024-05-01"],
            "metrics": ["visits", "bounce_rate", "visit_duration", "views_per_visit"]}  # fmt: skip
    assert run_query(fixture_stores.events, SITE, body)["results"][0]["metrics"] == [1, 0, 300, 2.0]
    by_exit = run_query(fixture_stores.events, SITE, {**body, "dimensions": ["visit:exit_page"]})
    assert [r["dimensions"] for r in by_exit["results"]] == [["/pricing"]]
    filtered = {**body, "filters": [["is", "visit:exit_page", ["/"]]]}
    assert run_query(fixture_stores.events, SITE, filtered)["results"][0]["metrics"][0] == 0
