"""The one list of each table's columns (jetrack.store.schema) is the tables' columns as
the migrations make them, in order: rows travel by position into Arrow and INSERTs."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest

from jetrack.store.event_schema import applied_versions, migrate_events
from jetrack.store.events import EventStore, EventStoreError, LimitedEventStore, first_value
from jetrack.store.schema import (
    EVENT_COLUMNS,
    EVENT_SCHEMA,
    FILTER_ROLLUP_COLUMNS,
    ROLLUP_COLUMNS,
    SESSION_COLUMNS,
    SESSION_SCHEMA,
    EventRow,
)
from jetrack.store.stores import Stores


def _stored_columns(stores: Stores, table: str) -> list[str]:
    # ALIAS columns are computed on read, never written.
    result = stores.events.query(
        "SELECT name FROM system.columns WHERE database = currentDatabase()"
        " AND table = {t:String} AND default_kind != 'ALIAS' ORDER BY position",
        {"t": table},
    )
    return [row[0] for row in result.rows]


@pytest.mark.parametrize(
    ("table", "columns"),
    [
        ("events", list(EVENT_COLUMNS)),
        ("visit_rollups", list(ROLLUP_COLUMNS)),
        ("filter_rollups", list(FILTER_ROLLUP_COLUMNS)),
        ("event_rollups", list(FILTER_ROLLUP_COLUMNS)),
    ],
)
def test_the_schema_lists_a_tables_columns_in_order(
    stores: Stores, table: str, columns: list[str]
) -> None:
    assert _stored_columns(stores, table) == columns


def test_the_schema_lists_the_sessions_columns(stores: Stores) -> None:
    assert sorted(_stored_columns(stores, "sessions")) == sorted(SESSION_COLUMNS)
    assert SESSION_SCHEMA.names == SESSION_COLUMNS


def test_an_event_row_is_named_and_in_arrow_order() -> None:
    assert EVENT_SCHEMA.names == list(EventRow._fields)
    row = EventRow._make(range(len(EVENT_COLUMNS)))
    assert (row.site_id, row.session_id) == (0, EVENT_COLUMNS.index("session_id"))


def test_journal_records_of_earlier_versions_keep_their_columns() -> None:
    from jetrack.store.schema import event_row

    full: list[Any] = list(range(1, len(EVENT_COLUMNS) + 1))
    at = EVENT_COLUMNS.index("city_geoname_id")
    # Written before city_geoname_id (with import_id), and before both: 0 where they go.
    older = full[:at] + full[at + 1 :]
    assert event_row(older) == EventRow(*[*full[:at], 0, *full[at + 1 :]])
    oldest = older[:-1]
    assert event_row(oldest) == EventRow(*[*full[:at], 0, *full[at + 1 : -1], 0])
    assert event_row(full) == EventRow(*full)


def _plan_and_answer(stores: Stores, where: str, projections: int = 1) -> tuple[str, Any]:
    sql = (
        "SELECT country_code, count(), uniqExact(session_id) FROM events"
        f" WHERE {where} GROUP BY country_code ORDER BY country_code"
        f" SETTINGS optimize_use_projections = {projections}"
    )
    plan = "\n".join(row[0] for row in stores.events.query(f"EXPLAIN projections = 1 {sql}").rows)
    return plan, stores.events.query(sql).rows


def test_a_page_or_event_name_filter_reads_the_events_by_name_and_page(stores: Stores) -> None:
    """0012: the projection by site, name, page and day is what a page or custom event
    filter reads (fewer granules than the table's own order gives), with the table's
    answers, also after a lightweight DELETE (the demo's) and a mutation (an erasure's)
    changed the parts."""
    stores.events.command(
        "INSERT INTO events (site_id, timestamp, name, pathname, visitor_id, session_id,"
        " country_code) SELECT 1 + number % 2, toDateTime('2024-05-01 00:00:00', 'UTC')"
        " + number * 7, if(number % 13 = 0, 'Signup', 'pageview'),"
        " concat('/p', toString(number % 41)), number % 997, intDiv(number, 3),"
        " ['DE', 'FR', 'US'][1 + number % 3] FROM numbers(60000)"
    )
    cases = [
        "site_id = 1 AND pathname = '/p7' AND country_code = 'DE'",
        "site_id = 2 AND name = 'Signup'",
        "site_id = 1 AND (name = 'pageview' AND pathname = '/p3' OR name = 'Signup')",
    ]
    for where in cases:
        plan, answer = _plan_and_answer(stores, where)
        assert "ReadFromMergeTree (by_name_page)" in plan, (where, plan)
        assert answer and answer == _plan_and_answer(stores, where, projections=0)[1]
    for delete in (
        "DELETE FROM events WHERE site_id = 2 AND pathname = '/p2'",
        "ALTER TABLE events DELETE WHERE site_id = 1 AND pathname = '/p3'"
        " SETTINGS mutations_sync = 2",
    ):
        stores.events.command(delete)
        for where in cases:
            answer = _plan_and_answer(stores, where)[1]
            assert answer and answer == _plan_and_answer(stores, where, projections=0)[1]
    # A filter of neither reads the table.
    plan, _ = _plan_and_answer(stores, "site_id = 1 AND country_code = 'FR'")
    assert "by_name_page" not in plan


class _Failing(LimitedEventStore):
    """The event store, whose engine fails statements containing `text` with `error`: out
    of memory, as a 512 MB server did building the projection for a 10M-event part (the
    engine's limit cannot be lowered for one test: it is the process's)."""

    def __init__(self, inner: EventStore, text: str, error: str) -> None:
        super().__init__(inner, inner.limits)
        self.text, self.error = text, error

    def command(self, sql: str, params: Mapping[str, Any] | None = None) -> None:
        if self.text in sql:
            raise EventStoreError(self.error)
        self.inner.command(sql, params)


OUT_OF_MEMORY = (
    "Code: 241. DB::Exception: (total) memory limit exceeded: would use 258.01 MiB"
    " (MEMORY_LIMIT_EXCEEDED)"
)


def test_a_projection_too_big_for_memory_is_dropped_and_the_start_goes_on(stores: Stores) -> None:
    """0012 on a data dir of events stored before it: where building the projection runs
    out of memory, the migration drops it again (parts with and without it would never
    merge), is recorded, and the events are read from the table; other errors stop it."""
    events = stores.events
    events.command("ALTER TABLE events DROP PROJECTION by_name_page SETTINGS mutations_sync = 2")
    events.command("DELETE FROM jetrack_migrations WHERE version = 12")
    events.command(
        "INSERT INTO events (site_id, timestamp, name, pathname) SELECT 1,"
        " toDateTime('2024-05-01 00:00:00', 'UTC') + number, 'pageview', '/p' FROM numbers(100)"
    )
    with pytest.raises(EventStoreError, match="TOO_MANY_PARTS"):
        migrate_events(_Failing(events, "MATERIALIZE", "Code: 252. (TOO_MANY_PARTS)"))
    assert 12 not in applied_versions(events)
    assert migrate_events(_Failing(events, "MATERIALIZE", OUT_OF_MEMORY)) == [
        "0012_events_by_name_page.sql"
    ]
    assert 12 in applied_versions(events)
    assert "by_name_page" not in first_value(events.query("SHOW CREATE TABLE events"))
    plan, answer = _plan_and_answer(stores, "site_id = 1 AND pathname = '/p'")
    assert "by_name_page" not in plan and answer == [("", 100, 1)]
