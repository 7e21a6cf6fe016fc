"""Stored rows to Arrow: events rows (`jetrack.store.schema.EventRow`) column by column,
and each visit's row in the sessions table, built from the totals a row carries."""

from __future__ import annotations

import operator
from collections.abc import Iterable, Sequence
from typing import Any

import pyarrow as pa

from jetrack.ingest.sessions import VisitTotals
from jetrack.store.schema import (
    EVENT_ARROW_COLUMNS,
    EVENT_COLUMNS,
    EVENT_SCHEMA,
    SESSION_SCHEMA,
    EventRow,
)
from jetrack.store.schema import VISIT_ATTRIBUTES as SESSION_VISIT_ATTRIBUTES

_STR = pa.string()
_PROPS = EVENT_COLUMNS.index("props")


def to_arrow(rows: Sequence[EventRow]) -> pa.Table:
    """Column-wise Arrow table of rows (revenue goes as text so ClickHouse parses it exactly).

    The rows are transposed in C (`zip(*rows)`) and each column converted in one call: the
    flush thread holds the GIL for milliseconds, not for a Python loop over every value."""
    columns: list[Sequence[Any]] = (
        list(zip(*rows, strict=True)) if rows else [()] * len(EVENT_COLUMNS)
    )
    arrays = [
        _props_array(values) if index == _PROPS else pa.array(values, type=kind)
        for index, (values, (_, kind)) in enumerate(zip(columns, EVENT_ARROW_COLUMNS, strict=True))
    ]
    return pa.Table.from_arrays(arrays, schema=EVENT_SCHEMA)


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
        type=EVENT_SCHEMA.field("props").type,
    )


def visit_key(row: EventRow) -> tuple[int, int]:
    return row.site_id, row.session_id


def counted_visits(rows: Iterable[EventRow]) -> dict[int, set[int]]:
    """Site id -> ids of the visits with a pageview or custom event among the rows."""
    found: dict[int, set[int]] = {}
    for row in rows:
        if row.name != "engagement":
            found.setdefault(row.site_id, set()).add(row.session_id)
    return found


# A sessions row is the event row's ids and visit attributes, then the visit's totals.
_FROM_ROW = (
    "site_id", "session_id", "visitor_id", "entry_page", *SESSION_VISIT_ATTRIBUTES, "import_id"
)  # fmt: skip
_row_part = operator.itemgetter(*(EVENT_COLUMNS.index(name) for name in _FROM_ROW))
_FROM_TOTALS = {
    "start": "start",
    "version": "version",
    "hostname": "hostname",
    "entry_page_hostname": "entry_hostname",
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


def sessions_to_arrow(visits: Iterable[tuple[EventRow, VisitTotals]]) -> pa.Table:
    """Sessions rows (the table's columns) from an event row of each visit and its totals."""
    values = [(*_row_part(row), *totals, totals.last - totals.start) for row, totals in visits]
    columns: list[Sequence[Any]] = (
        list(zip(*values, strict=True)) if values else [()] * (_POSITION["duration"] + 1)
    )
    arrays = [pa.array(columns[_POSITION[f.name]], type=f.type) for f in SESSION_SCHEMA]
    return pa.Table.from_arrays(arrays, schema=SESSION_SCHEMA)
