"""One stored event as a tuple in the events table's column order, and its Arrow schema."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pyarrow as pa

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
