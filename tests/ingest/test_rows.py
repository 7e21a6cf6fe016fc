"""Rows to Arrow: the events and sessions tables' columns, value for value."""

from __future__ import annotations

from typing import Any

import pytest

from jetrack.ingest.rows import sessions_to_arrow, to_arrow
from jetrack.ingest.sessions import VisitTotals
from jetrack.store.schema import EVENT_COLUMNS as COLUMN_NAMES
from jetrack.store.schema import EVENT_SCHEMA as SCHEMA
from jetrack.store.schema import EVENT_VISIT_ATTRIBUTES as VISIT_ATTRIBUTES
from jetrack.store.schema import SESSION_SCHEMA, EventRow


def _row(**values: Any) -> EventRow:
    defaults: dict[str, Any] = {
        "site_id": 1, "timestamp": 1_700_000_000, "name": "pageview", "visitor_id": 2**63 + 5,
        "session_id": 7, "hostname": "example.com", "pathname": "/a", "props": {},
        "revenue_amount": "0", "revenue_currency": "", "interactive": 1, "scroll_depth": 0,
        "engagement_ms": 0,
    } | {name: f"{name}-value" for name in VISIT_ATTRIBUTES} | {"city_geoname_id": 2950159}  # fmt: skip
    return EventRow(**(defaults | values))


@pytest.mark.parametrize(
    "props_per_row",
    [
        [{}],
        [None, None],
        [{"plan": "pro"}, None],
        [{}, {"plan": "pro", "size": "L"}, {}, {"é": "ü"}],
        [{"a": "1"}, {"b": "2"}],
    ],
)
def test_events_columns_hold_each_rows_values(props_per_row: list[dict[str, str] | None]) -> None:
    rows = [_row(props=props, session_id=n) for n, props in enumerate(props_per_row)]
    table = to_arrow(rows)
    assert table.schema == SCHEMA
    stored = table.to_pylist()
    for row, got in zip(rows, stored, strict=True):
        expected: dict[str, Any] = dict(zip(COLUMN_NAMES, row, strict=True))
        expected["props"] = list((row.props or {}).items())
        assert got == expected


def test_no_rows_make_an_empty_table() -> None:
    assert to_arrow([]).num_rows == 0
    assert to_arrow([]).schema == SCHEMA
    assert sessions_to_arrow([]).num_rows == 0


def test_a_sessions_row_takes_ids_and_attributes_from_the_event_and_the_rest_from_totals() -> None:
    row = _row(session_id=9, visitor_id=4, entry_page="/landing", import_id=7)
    totals = VisitTotals(
        start=100, last=160, version=5, hostname="example.com", exit_page="/exit",
        pageviews=3, custom_events=2, interactive_events=1, entry_hostname="www.example.com",
    )  # fmt: skip
    table = sessions_to_arrow([(row, totals)])
    assert table.schema == SESSION_SCHEMA
    (got,) = table.to_pylist()
    assert got == {
        "site_id": 1, "session_id": 9, "visitor_id": 4, "start": 100, "version": 5,
        "hostname": "example.com", "entry_page_hostname": "www.example.com",
        "entry_page": "/landing", "exit_page": "/exit",
        "pageviews": 3, "events": 2, "interactive_events": 1, "duration": 60, "import_id": 7,
    } | {name: f"{name}-value" for name in VISIT_ATTRIBUTES if name != "entry_page"} | {
        "city_geoname_id": 2950159}  # fmt: skip
