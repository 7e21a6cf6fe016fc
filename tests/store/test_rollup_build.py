"""A daily rollup build that fails part way (MEMORY_LIMIT_EXCEEDED on a big site-day, say)
leaves its day read from the tables, and the job builds it again: every mark that says a
day is rolled up is written after the rows it vouches for (jetrack.store.rollups)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from jetrack.stats.engine import run_query
from jetrack.store import rollups
from jetrack.store.events import EventStore
from jetrack.store.filter_rollups import older_builds
from jetrack.store.stores import Stores
from tests.stats.conftest import BERLIN, UTC_SITE, fixture_rows, with_dated_ids
from tests.stats.helpers import SITE_ID, at, insert

NOW = at("2024-03-20 12:00")
DAY = date(2024, 3, 10)
ZONES = {SITE_ID: BERLIN.timezone}  # also the rows cut at Berlin's midnight
# (metrics, filters): unfiltered (visit_rollups), by a visit column (filter_rollups), by a
# page (event_rollups).
QUERIES: list[tuple[list[str], list[Any]]] = [
    (["visitors", "visits", "pageviews", "events"], []),
    (["visitors", "pageviews"], [["is", "visit:country", ["DE"]]]),
    (["visitors", "visits"], [["is", "event:page", ["/pricing"]]]),
]


class Recorded:
    """The event store, whose commands are recorded, not run (a build runs no query)."""

    def __init__(self, events: EventStore) -> None:
        self.events = events
        self.commands: list[tuple[str, Mapping[str, Any] | None]] = []

    def command(self, sql: str, params: Mapping[str, Any] | None = None) -> None:
        self.commands.append((sql, params))

    def __getattr__(self, name: str) -> Any:
        return getattr(self.events, name)


def answers(events: EventStore) -> list[Any]:
    rollups._forget_lookups(events)  # the builds cleared their wrapper's answers
    return [
        run_query(events, UTC_SITE, {
            "site_id": UTC_SITE.domain, "date_range": ["2024-03-10", "2024-03-10"],
            "metrics": metrics, "filters": filters,
        }, now=NOW)["results"]
        for metrics, filters in QUERIES
    ]  # fmt: skip


def build(events: EventStore) -> None:
    rollups.build_rollups(events, DAY, zones=ZONES, min_visits_per_row=1, min_filtered_visits=1)


def test_a_build_that_fails_at_any_statement_leaves_the_day_to_the_tables(
    stores: Stores,
) -> None:
    events = stores.events
    insert(stores, with_dated_ids(fixture_rows()))
    raw = answers(events)
    assert raw[1] == [{"dimensions": [], "metrics": [1, 4]}]  # DE: v101's two visits
    recorded = Recorded(events)
    build(recorded)
    # The statements that write rows; the DELETEs of an earlier build's rows come after
    # (a day never built has none: the state after each of them is that after the last).
    writes = sum(sql.startswith("INSERT") for sql, _ in recorded.commands)
    assert writes > 10 and all(sql.startswith("DELETE") for sql, _ in recorded.commands[writes:])
    # The build failing at each statement in turn: its statements before that one run
    # (one more each time: the same as building again from the start, at a fraction of
    # the cost), then the day must answer as the tables do and be due to the job.
    for done, (sql, params) in enumerate(recorded.commands[:writes], start=1):
        events.command(sql, params)
        assert answers(events) == raw, f"after statement {done}: {sql[:120]}"
        assert (DAY in rollups.days_to_build(events, NOW)) == (done < writes), done
    for sql, params in recorded.commands[writes:]:
        events.command(sql, params)
    assert rolled_up(events)
    build(events)
    assert answers(events) == raw and rolled_up(events)
    assert DAY not in rollups.days_to_build(events, NOW)


def rolled_up(events: EventStore) -> bool:
    """Whether queries of DAY read its rows (unfiltered, filtered, by page, cut)."""
    rollups._forget_lookups(events)
    return (
        rollups.rolled_days(events, SITE_ID, DAY, DAY),
        rollups.filtered_rolled_days(events, SITE_ID, DAY, DAY, "country_code", ("",)),
        rollups.event_rolled_days(events, SITE_ID, DAY, DAY, ("pathname", "/pricing"), ("",)),
        rollups.cut_rolled(events, SITE_ID, DAY, "", "from:82800"),
    ) == ([DAY], [DAY], [DAY], True)


def test_a_first_build_runs_no_delete_and_a_later_one_finds_the_rows_to_delete(
    stores: Stores,
) -> None:
    events = stores.events
    insert(stores, with_dated_ids(fixture_rows()))
    recorded = Recorded(events)
    build(recorded)
    # A DELETE is a mutation (waited for: 1-2 s on chDB); a day never built has no rows of
    # an earlier build for it to remove.
    assert [sql for sql, _ in recorded.commands if sql.startswith("DELETE")] == []
    for sql, params in recorded.commands:
        events.command(sql, params)
    assert rolled_up(events)
    later: dict[str, object] = {"day": DAY.isoformat(), "built": "2100-01-01 00:00:00"}
    tables = ["visit_rollups", "filter_rollups", "event_rollups"]
    assert older_builds(events, later, "", tables) == tables
    other_site = " AND site_id IN {sites:Array(UInt32)}"
    assert older_builds(events, later | {"sites": [SITE_ID + 1]}, other_site, tables) == []
