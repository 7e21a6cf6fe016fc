"""One stored event as a tuple in the events table's column order, and its Arrow schema;
its visit's row in the sessions table, built from the totals a row carries."""

from __future__ import annotations

import operator
from collections.abc import Iterable, Sequence
from typing import Any

import pyarrow as pa

from jetrack.ingest.sessions import VisitTotals
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

# One events row, in COLUMNS order. `props` is a dict, or None for none (most events): a
# tuple of plain values only is one the garbage collector stops scanning.
Row = tuple[Any, ...]


_PROPS = COLUMN_NAMES.index("props")


def to_arrow(rows: Sequence[Row]) -> pa.Table:
    """Column-wise Arrow table of rows (revenue goes as text so ClickHouse parses it exactly).

    The rows are transposed in C (`zip(*rows)`) and each column converted in one call: the
    flush thread holds the GIL for milliseconds, not for a Python loop over every value."""
    columns: list[Sequence[Any]] = list(zip(*rows, strict=True)) if rows else [()] * len(COLUMNS)
    arrays = [
        _props_array(values) if index == _PROPS else pa.array(values, type=kind)
        for index, (values, (_, kind)) in enumerate(zip(columns, COLUMNS, strict=True))
    ]
    return pa.Table.from_arrays(arrays, schema=SCHEMA)


def _props_array(props: Sequence[dict[str, str] | None]) -> pa.Array:
    # Most events have no props: build the map from offsets, keys and values directly.
    offsets: list[int] = [0]
    keys: list[str] = []
    values: list[str] = []
    for item in props:
        if item:
            keys.extend(item)
            values.extend(item.values())
        offsets.append(len(keys))
    return pa.MapArray.from_arrays(
        pa.array(offsets, type=pa.int32()),
        pa.array(keys, type=_STR),
        pa.array(values, type=_STR),
        type=SCHEMA.field("props").type,
    )


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


# A sessions row is the event row's ids and visit attributes, then the visit's totals.
_FROM_ROW = ("site_id", "session_id", "visitor_id", "entry_page", *sessions_table.VISIT_ATTRIBUTES)
_row_part = operator.itemgetter(*(_C[name] for name in _FROM_ROW))
_FROM_TOTALS = {
    "start": "start",
    "version": "version",
    "hostname": "hostname",
    "exit_page": "exit_page",
    "pageviews": "pageviews",
    "events": "custom_events",
    "interactive_events": "interactive_events",
}
_POSITION = {name: index for index, name in enumerate(_FROM_ROW)} | {
    column: len(_FROM_ROW) + VisitTotals._fields.index(field)
    for column, field in _FROM_TOTALS.items()
}
_POSITION["duration"] = len(_FROM_ROW) + len(VisitTotals._fields)


def sessions_to_arrow(visits: Iterable[tuple[Row, VisitTotals]]) -> pa.Table:
    """Sessions rows (the table's columns) from an event row of each visit and its totals."""
    values = [(*_row_part(row), *totals, totals.last - totals.start) for row, totals in visits]
    columns: list[Sequence[Any]] = (
        list(zip(*values, strict=True)) if values else [()] * (_POSITION["duration"] + 1)
    )
    arrays = [pa.array(columns[_POSITION[f.name]], type=f.type) for f in SESSION_SCHEMA]
    return pa.Table.from_arrays(arrays, schema=SESSION_SCHEMA)
