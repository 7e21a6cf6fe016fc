"""The one list of each table's columns (jetrack.store.schema) is the tables' columns as
the migrations make them, in order: rows travel by position into Arrow and INSERTs."""

from __future__ import annotations

from typing import Any

import pytest

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
