"""`jetrack move-events --to clickhouse://...`: the embedded event store copied to a
ClickHouse server (the loopback endpoint) answers every stats question as before, and a
second or interrupted run copies nothing twice."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from jetrack.stats.engine import run_query
from jetrack.store.events import EventStore, Limits, ServerEventStore
from jetrack.store.move import move_events
from tests.conftest import ClickHouseEndpoint, make_settings
from tests.stats.conftest import BERLIN, UTC_SITE, fixture_rows, stored
from tests.stats.helpers import at
from tests.test_cli import invoke

pytestmark = pytest.mark.clickhouse_server

NOW = at("2024-03-20 12:00")
QUESTIONS: list[dict[str, Any]] = [
    {"metrics": ["visitors", "visits", "pageviews", "bounce_rate", "visit_duration"]},
    {"metrics": ["visitors", "pageviews"], "dimensions": ["visit:source"]},
    {
        "metrics": ["visitors"],
        "dimensions": ["time:day"],
        "date_range": ["2024-03-08", "2024-03-12"],
    },
    {"metrics": ["visitors", "events"], "dimensions": ["event:goal"]},
    {
        "metrics": ["visitors"],
        "filters": [["is", "visit:country", ["DE"]]],
        "dimensions": ["event:page"],
    },
    {"metrics": ["visitors", "visits"], "dimensions": ["visit:entry_page"], "date_range": "all"},
]


def answers(events: EventStore) -> list[Any]:
    found = []
    for site in (BERLIN, UTC_SITE):
        for question in QUESTIONS:
            body = {"site_id": site.domain, "date_range": ["2024-03-09", "2024-03-11"], **question}
            found.append(run_query(events, site, body, now=NOW)["results"])
    return found


def counts(events: EventStore) -> dict[str, int]:
    return {
        table: int(events.query(f"SELECT count() FROM {table}{final}").rows[0][0])
        for table, final in [("events", ""), ("events_by_page", ""), ("sessions", " FINAL"),
                             ("visit_rollups", " FINAL"), ("filter_rollups", " FINAL"),
                             ("event_rollups", " FINAL")]
    }  # fmt: skip


def test_moved_events_answer_the_same_and_a_rerun_copies_nothing_twice(
    clickhouse_endpoint: ClickHouseEndpoint, tmp_path: Path
) -> None:
    data_dir = tmp_path / "data"
    with stored(make_settings(data_dir), fixture_rows(), rolled=True) as source:
        before, source_counts = answers(source.events), counts(source.events)
        assert all(source_counts.values()), source_counts
        with clickhouse_endpoint.database() as url:
            target = ServerEventStore(url, Limits())
            try:
                # Batches of 400 rows: filter_rollups (~1,300 rows) in several.
                first = move_events(source.events, target, batch_rows=400)
                # events_by_page is filled by its view from the events copied, not copied.
                assert {t for t, _, _ in first.copied} == set(source_counts) - {"events_by_page"}
                assert counts(target) == source_counts
                again = move_events(source.events, target, batch_rows=400)
                assert (again.copied, again.skipped) == ([], len(first.copied))
                # An interrupted run: one partition half there and not recorded as moved
                # (its rows in events_by_page all there: they go and come again with it).
                partition = next(p for table, p, _ in first.copied if table == "events")
                params = {"p": partition}
                target.command(
                    "DELETE FROM jetrack_moved WHERE table = 'events' AND partition_id = {p:String}",
                    params,
                )
                target.command(
                    "DELETE FROM events WHERE _partition_id = {p:String} AND visitor_id % 2 = 0",
                    params,
                )
                resumed = move_events(source.events, target)
                assert [c[:2] for c in resumed.copied] == [("events", partition)]
                assert counts(target) == source_counts and answers(target) == before
            finally:
                target.close()
            source.close()
            # The command an operator runs, on the server as a Jetrack event store.
            done = invoke(data_dir, "move-events", "--to", url.replace("http://", "clickhouse://"))
            assert done.returncode == 0, done.stderr
            assert "0 partition(s) copied" in done.stdout
    refused = invoke(data_dir, "move-events", "--to", "clickhouse:8123")
    assert (
        refused.returncode == 2 and "--to/--cluster: is not a ClickHouse HTTP URL" in refused.stderr
    )
