"""The live visit table is bounded, and eviction changes no count: a visit packed away
to make room goes on, under its id, when its visitor comes back."""

from __future__ import annotations

import asyncio
from pathlib import Path

from jetrack.ingest.buffer import WriteBuffer
from jetrack.ingest.journal import Journal
from jetrack.ingest.sessions import PACKED_PER_LIVE, SessionTable, VisitState, _pack, _unpack
from jetrack.store.stores import Stores
from tests.ingest.test_sessions_table import _pipeline, _send, _sessions


def test_an_evicted_visit_goes_on_with_the_right_totals(
    site_stores: Stores, tmp_path: Path
) -> None:
    pipeline = _pipeline(site_stores)
    pipeline.sessions = SessionTable(30 * 60, max_live=2)
    buffer = WriteBuffer(
        Journal(tmp_path / "journal", None), site_stores.events, interval=60, max_events=1000
    )
    _send(pipeline, buffer, (0, "203.0.113.1", "pageview", "/", {}))
    for n in range(2, 6):  # four later visitors push the first one out of the live table
        _send(pipeline, buffer, (10 * n, f"203.0.113.{n}", "pageview", "/other", {}))
    assert len(pipeline.sessions) == 2 and pipeline.sessions.packed == 3
    asyncio.run(buffer.flush())
    _send(pipeline, buffer, (300, "203.0.113.1", "pageview", "/pricing", {}))
    _send(pipeline, buffer, (400, "203.0.113.1", "Signup", "/pricing", {}))
    asyncio.run(buffer.flush())

    [first] = [row for row in _sessions(site_stores) if row["entry_page"] == "/"]
    assert (first["pageviews"], first["events"], first["duration"]) == (2, 1, 400)
    assert (first["exit_page"], first["is_bounce"]) == ("/pricing", 0)
    assert len(_sessions(site_stores)) == 5  # one row per visit, the first one's newest
    ids = site_stores.events.query(
        "SELECT DISTINCT session_id FROM events WHERE entry_page = '/'"
    ).rows
    assert len(ids) == 1


def test_memory_stays_bounded_under_a_flood_of_new_visitors() -> None:
    table = SessionTable(30 * 60, max_live=100)
    for visitor in range(10_000):
        visit = table.start(1, visitor, 1_900_000_000 + visitor / 100, ())
        visit.count("pageview", 1_900_000_000, "example.com", "/", True)
    assert len(table) == 100
    assert table.packed == PACKED_PER_LIVE * 100
    assert table.forgotten == 10_000 - 100 - PACKED_PER_LIVE * 100
    # The most recent visitors are still found, whole or packed; the oldest are forgotten.
    assert table.find(1, 9_999, 1_900_000_200) is not None
    assert table.find(1, 9_750, 1_900_000_200) is not None  # packed
    assert table.find(1, 0, 1_900_000_200) is None


def test_sweep_forgets_expired_visits_in_both_tables() -> None:
    table = SessionTable(60, max_live=2)
    for visitor in range(5):
        table.start(1, visitor, 1000 + visitor, ())
    table.find(1, 0, 1030)  # unpacked: now the most recent
    assert table.sweep(1065) == 4  # 1..4 idle since 1001-1004
    assert len(table) == 1 and table.packed == 0
    assert table.find(1, 0, 1065) is not None


def test_a_packed_visit_unpacks_whole() -> None:
    visit = VisitState(7 << 31, 42, 1000.5, ("a", "", "ü"), 990, 999, 3, 2, 1, "/x", "h")
    assert _unpack(_pack(visit)) == visit
