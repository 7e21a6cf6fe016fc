"""The stored shape of events, visits and rollups: the one list of each table's columns.

`EventRow` is one row of the events table, its fields in the table's column order
(store/event_migrations/0001_events.sql; a test checks they agree): ingestion builds it,
the journal and the write buffer carry it, Arrow takes it column by column. Everything
else that writes or reads those columns by position (the demo's INSERT, exports) spells
them from here. The bit layouts of the ids in these rows are in `jetrack.store.ids`."""

from __future__ import annotations

from typing import Any, NamedTuple

import pyarrow as pa


class EventRow(NamedTuple):
    """One events row. `props` is a dict, or None for none (most events)."""

    site_id: int
    timestamp: int  # Unix seconds
    name: str
    visitor_id: int
    session_id: int
    hostname: str
    pathname: str
    # the visit's attributes, in VISIT_ATTRIBUTES order (fixed by its first event)
    referrer: str
    source: str
    channel: str
    utm_medium: str
    utm_source: str
    utm_campaign: str
    utm_content: str
    utm_term: str
    click_id_param: str
    entry_page: str
    country_code: str
    region_code: str
    city: str
    city_geoname_id: int  # GeoNames id of the city, 0 unknown (event migration 0009)
    device: str
    screen_size: str
    browser: str
    browser_version: str
    os: str
    os_version: str
    language: str
    # the event's own details
    props: dict[str, str] | None
    revenue_amount: str  # decimal text, parsed exactly by ClickHouse
    revenue_currency: str
    interactive: int
    scroll_depth: int
    engagement_ms: int
    # 0 for live traffic; the id of the import (jetrack.imports) that wrote the row
    import_id: int = 0


_STR = pa.string()
_EVENT_TYPES: dict[str, pa.DataType] = {
    "site_id": pa.uint32(),
    "timestamp": pa.uint32(),
    "visitor_id": pa.uint64(),
    "session_id": pa.uint64(),
    "props": pa.map_(_STR, _STR),
    "interactive": pa.uint8(),
    "scroll_depth": pa.uint8(),
    "engagement_ms": pa.uint32(),
    "city_geoname_id": pa.uint32(),
    "import_id": pa.uint32(),
}  # every other column is a string

EVENT_COLUMNS: tuple[str, ...] = EventRow._fields
_GEONAME_AT = EVENT_COLUMNS.index("city_geoname_id")
EVENT_ARROW_COLUMNS: list[tuple[str, pa.DataType]] = [
    (name, _EVENT_TYPES.get(name, _STR)) for name in EVENT_COLUMNS
]
EVENT_SCHEMA = pa.schema(
    [pa.field(name, kind, nullable=False) for name, kind in EVENT_ARROW_COLUMNS]
)
# A visit's attributes as its events carry them: from `referrer` to `language`.
EVENT_VISIT_ATTRIBUTES = EVENT_COLUMNS[
    EVENT_COLUMNS.index("referrer") : EVENT_COLUMNS.index("language") + 1
]


def event_row(values: tuple[Any, ...] | list[Any]) -> EventRow:
    """An EventRow of values in column order (a journal record, a test's tuple); a record
    written before import_id existed takes its default, one written before
    city_geoname_id (event migration 0009) gets 0 there."""
    if len(values) < len(EventRow._fields):
        values = [*values[:_GEONAME_AT], 0, *values[_GEONAME_AT:]]
    return EventRow(*values)


# Sessions table (one row per visit): visit attributes copied from the visit's first event
# (the same on all its events; `entry_page` is a tally column there).
VISIT_ATTRIBUTES = [
    "referrer", "source", "channel", "utm_medium", "utm_source", "utm_campaign",
    "utm_content", "utm_term", "click_id_param", "country_code", "region_code", "city",
    "city_geoname_id", "device", "screen_size", "browser", "browser_version", "os", "os_version", "language",
]  # fmt: skip
# Stored columns computed from the visit's events (`timestamp`, the last event, and
# `is_bounce` are ALIAS columns of these).
TALLY_COLUMNS = [
    "site_id", "session_id", "visitor_id", "start", "version", "hostname",
    "entry_page_hostname", "entry_page", "exit_page", "pageviews", "events",
    "interactive_events", "duration",
]  # fmt: skip
# import_id (0008_import_id.sql): the import that wrote the visit, 0 for live traffic.
SESSION_COLUMNS = TALLY_COLUMNS + VISIT_ATTRIBUTES + ["import_id"]
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
    "city_geoname_id": pa.uint32(),
    "import_id": pa.uint32(),
}  # every other column is a string
SESSION_SCHEMA = pa.schema(
    [pa.field(name, _SESSION_TYPES.get(name, _STR), nullable=False) for name in SESSION_COLUMNS]
)

# visit_rollups (store/event_migrations/0004_visit_rollups.sql): a row per site, day,
# sessions column and value.
ROLLUP_COLUMNS = (
    "site_id", "day", "column", "value", "visitors", "visits", "bounces", "pageviews",
    "duration", "event_visitors", "event_pageviews", "event_count", "last_event", "built_at",
)  # fmt: skip
# Sessions columns with a row per value and day: the visit dimensions of a dashboard.
# Referrer URLs, utm_content and utm_term are left out (many values, rarely shown
# unfiltered); a query grouped by them reads the sessions table.
ROLLED_COLUMNS = (
    "source", "channel", "utm_medium", "utm_source", "utm_campaign", "entry_page",
    "exit_page", "country_code", "region_code", "city", "device", "screen_size", "browser",
    "browser_version", "os", "os_version", "language",
)  # fmt: skip

# filter_rollups (store/event_migrations/0006_filter_rollups.sql): visit_rollups' rows
# again for the visits of one value of one visit column (a dashboard filter).
FILTER_ROLLUP_COLUMNS = (
    "site_id", "day", "filter", "filter_value", "column", "value", "visitors", "visits",
    "bounces", "pageviews", "duration", "event_visitors", "event_pageviews", "event_count",
    "built_at",
)  # fmt: skip
# The value a filter compares, per filtered column: the column itself, but for the source,
# whose empty value is shown (and filtered) as Direct / None. jetrack.stats.dimensions
# reads the source's expression from here.
SOURCE_SQL = "if(source = '', 'Direct / None', source)"
FILTERED_COLUMNS: dict[str, str] = {
    column: SOURCE_SQL if column == "source" else column
    for column in ROLLED_COLUMNS
    if column != "exit_page"  # known once the visit is over: not on its events
}
