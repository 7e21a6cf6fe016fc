"""One stored event as a tuple in the events table's column order, and its Arrow schema;
its visit's row in the sessions table, built from the totals a row carries."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import pyarrow as pa

from jetrack.ingest.sessions import VisitState, VisitTotals
from jetrack.store import sessions as sessions_table

_STR = pa.string()

# Must list the columns of store/event_migrations/0001_events.sql (a test checks this).
COLUMNS: list[tuple[str, pa.DataType]] = [
    ("site_id", pa.uint32()),
    ("timestamp", pa.uint32()),
    ("name", _STR),
    ("visitor_id", pa.uint64()),
    ("session_id", pa.uint64()),
    ("hostname", _STR),
    ("pathname", _STR),
    # visit attributes, in VISIT_ATTRIBUTES order
    ("referrer", _STR),
    ("source", _STR),
    ("channel", _STR),
    ("utm_medium", _STR),
    ("utm_source", _STR),
    ("utm_campaign", _STR),
    ("utm_content", _STR),
    ("utm_term", _STR),
    ("click_id_param", _STR),
    ("entry_page", _STR),
    ("country_code", _STR),
    ("region_code", _STR),
    ("city", _STR),
    ("device", _STR),
    ("screen_size", _STR),
    ("browser", _STR),
    ("browser_version", _STR),
    ("os", _STR),
    ("os_version", _STR),
    ("language", _STR),
    # event details
    ("props", pa.map_(_STR, _STR)),
    ("revenue_amount", _STR),
    ("revenue_currency", _STR),
    ("interactive", pa.uint8()),
    ("scroll_depth", pa.uint8()),
    ("engagement_ms", pa.uint32()),
]

COLUMN_NAMES = [name for name, _ in COLUMNS]
VISIT_ATTRIBUTES = COLUMN_NAMES[COLUMN_NAMES.index("referrer") : COLUMN_NAMES.index("language") + 1]
SCHEMA = pa.schema([pa.field(name, kind, nullable=False) for name, kind in COLUMNS])

Row = tuple[Any, ...]


def to_arrow(rows: Sequence[Row]) -> pa.Table:
    """Column-wise Arrow table of rows (revenue goes as text so ClickHouse parses it exactly)."""
    arrays = []
    for index, (name, kind) in enumerate(COLUMNS):
        values = [row[index] for row in rows]
        if name == "props":
            values = [list(v.items()) for v in values]
        arrays.append(pa.array(values, type=kind))
    return pa.Table.from_arrays(arrays, schema=SCHEMA)


class EventRow(tuple[Any, ...]):
    """An events row, plus (not stored with it) its visit when the event was counted in
    the visit's totals (a pageview or custom event). The journal keeps only the tuple."""

    visit: VisitState | None = None


_C = {name: i for i, name in enumerate(COLUMN_NAMES)}

_SESSION_TYPES: dict[str, pa.DataType] = {
    "site_id": pa.uint32(),
    "session_id": pa.uint64(),
    "visitor_id": pa.uint64(),
    "start": pa.uint32(),
    "version": pa.uint64(),
    "pageviews": pa.uint32(),
    "events": pa.uint32(),
    "interactive_events": pa.uint32(),
    "duration": pa.uint32(),
}
SESSION_SCHEMA = pa.schema(
    [
        pa.field(name, _SESSION_TYPES.get(name, _STR), nullable=False)
        for name in sessions_table.SESSION_COLUMNS
    ]
)


def visit_key(row: Row) -> tuple[int, int]:
    return row[_C["site_id"]], row[_C["session_id"]]


def counted_visits(rows: Iterable[Row]) -> dict[int, set[int]]:
    """Site id -> ids of the visits with a pageview or custom event among the rows."""
    found: dict[int, set[int]] = {}
    for row in rows:
        if row[_C["name"]] != "engagement":
            found.setdefault(row[_C["site_id"]], set()).add(row[_C["session_id"]])
    return found


def _session_values(row: Row, totals: VisitTotals) -> dict[str, Any]:
    values = {name: row[_C[name]] for name in ("site_id", "session_id", "visitor_id")}
    values |= {
        "start": totals.start,
        "version": totals.version,
        "hostname": totals.hostname,
        "entry_page": row[_C["entry_page"]],
        "exit_page": totals.exit_page,
        "pageviews": totals.pageviews,
        "events": totals.custom_events,
        "interactive_events": totals.interactive_events,
        "duration": totals.last - totals.start,
    }
    values |= {name: row[_C[name]] for name in sessions_table.VISIT_ATTRIBUTES}
    return values


def sessions_to_arrow(visits: Iterable[tuple[Row, VisitTotals]]) -> pa.Table:
    """Sessions rows (the table's columns) from an event row of each visit and its totals."""
    values = [_session_values(row, totals) for row, totals in visits]
    arrays = [pa.array([v[f.name] for v in values], type=f.type) for f in SESSION_SCHEMA]
    return pa.Table.from_arrays(arrays, schema=SESSION_SCHEMA)
