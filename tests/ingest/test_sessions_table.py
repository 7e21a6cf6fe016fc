"""The sessions table as ingestion writes it: one up-to-date row per visit at each flush,
the same rows `rebuild_sessions` computes from the stored events, and a journal replay
after a crash rebuilds the rows of the visits it stores."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from jetrack.enrich import GeoLookup
from jetrack.ingest.buffer import WriteBuffer
from jetrack.ingest.client_ip import parse_address
from jetrack.ingest.journal import Journal
from jetrack.ingest.pipeline import Incoming, Pipeline
from jetrack.ingest.rows import to_arrow
from jetrack.ingest.sessions import SessionTable
from jetrack.ingest.site_cache import SiteCache
from jetrack.ingest.wire import parse_event
from jetrack.store.salts import SaltRing
from jetrack.store.schema import EVENT_COLUMNS as COLUMN_NAMES
from jetrack.store.sessions import SESSION_COLUMNS, rebuild_sessions
from jetrack.store.stores import Stores
from tests.ingest.conftest import CHROME, configure_site

T0 = datetime(2031, 3, 10, 9, 0, tzinfo=UTC)  # far from the real clock
A, B, C, D = "203.0.113.1", "203.0.113.2", "203.0.113.3", "203.0.113.4"

# (seconds after T0, visitor address, event name, path, extra wire fields); None = flush.
SEQUENCE: list[tuple[int, str, str, str, dict[str, Any]] | None] = [
    (0, A, "pageview", "/", {}),
    (5, B, "pageview", "/blog", {}),
    (6, A, "engagement", "/", {"sd": 40, "e": 5000}),
    None,
    # A continues over three flushes; B's bounce becomes an engaged visit.
    (60, A, "pageview", "/pricing", {}),
    (70, B, "Download", "/blog", {}),
    (75, C, "pageview", "/", {}),
    (76, C, "Outbound Link: Click", "/", {"i": False}),  # not interactive: still a bounce
    (80, A, "engagement", "/pricing", {"sd": 90, "e": 20000}),
    None,
    (300, A, "Signup", "/pricing", {"p": {"plan": "pro"}}),
    (310, D, "Signup", "/api", {}),  # a visit without pageviews
    # and one on other.org; on another hostname: the visit's exit hostname, not its entry's
    (
        320,
        A,
        "pageview",
        "/docs",
        {"d": "example.com,other.org", "u": "https://docs.example.com/docs"},
    ),
    None,
]


def _pipeline(stores: Stores) -> Pipeline:
    sites = SiteCache(stores.control)
    sites.refresh()
    ring = SaltRing(stores.control)
    ring.rotate(T0)
    return Pipeline(sites, GeoLookup(), SessionTable(30 * 60), ring)


def _send(
    pipeline: Pipeline, buffer: WriteBuffer, step: tuple[int, str, str, str, dict[str, Any]]
) -> None:
    seconds, ip, name, path, extra = step
    raw = {"n": name, "u": f"https://example.com{path}", "d": "example.com", **extra}
    wire = parse_event(raw)
    moment = (T0 + timedelta(seconds=seconds)).timestamp()
    rows, counted = [], []
    for domain in wire.domains:
        incoming = Incoming(wire, domain, parse_address(ip), CHROME, "en", moment)
        rows.append(pipeline.run(incoming))
        if incoming.counted_in is not None:
            counted.append((rows[-1], incoming.counted_in))
    buffer.append(rows, counted)


def _sessions(stores: Stores) -> list[dict[str, Any]]:
    result = stores.events.query(
        f"SELECT {', '.join(SESSION_COLUMNS)}, is_bounce, timestamp FROM sessions FINAL"
        " ORDER BY site_id, start, session_id"
    )
    return [dict(zip(result.columns, row, strict=True)) for row in result.rows]


def test_ingest_writes_the_rows_rebuild_sessions_computes(
    site_stores: Stores, tmp_path: Path
) -> None:
    pipeline = _pipeline(site_stores)
    buffer = WriteBuffer(
        Journal(tmp_path / "journal", None), site_stores.events, interval=60, max_events=1000
    )
    for step in SEQUENCE:
        if step is None:
            asyncio.run(buffer.flush())
        else:
            _send(pipeline, buffer, step)

    written = _sessions(site_stores)
    raw_rows = site_stores.events.query("SELECT count() FROM sessions").rows[0][0]
    assert raw_rows > len(written)  # A and B got a newer row at later flushes
    by_entry = {(r["site_id"], r["entry_page"], r["pageviews"]): r for r in written}
    a = by_entry[(1, "/", 3)]
    assert (a["exit_page"], a["events"], a["interactive_events"], a["is_bounce"]) == (
        "/docs", 1, 1, 0,
    )  # fmt: skip
    assert a["duration"] == 320 and a["version"] == 4
    assert (a["entry_page_hostname"], a["hostname"]) == ("example.com", "docs.example.com")
    b = by_entry[(1, "/blog", 1)]
    assert (b["events"], b["interactive_events"], b["is_bounce"], b["duration"]) == (1, 1, 0, 65)
    c = by_entry[(1, "/", 1)]
    assert (c["events"], c["interactive_events"], c["is_bounce"]) == (1, 0, 1)
    d = by_entry[(1, "/api", 0)]
    assert (d["exit_page"], d["hostname"], d["is_bounce"], d["events"]) == ("", "", 0, 1)
    other = by_entry[(2, "/docs", 1)]
    assert other["is_bounce"] == 1 and other["exit_page"] == "/docs"
    assert len(written) == 5

    site_stores.events.command("TRUNCATE TABLE sessions")
    rebuild_sessions(site_stores.events)
    assert _sessions(site_stores) == written


def test_replay_rebuilds_the_rows_of_replayed_visits(site_stores: Stores, tmp_path: Path) -> None:
    pipeline = _pipeline(site_stores)
    journal = Journal(tmp_path / "journal", None)
    buffer = WriteBuffer(journal, site_stores.events, interval=60, max_events=1000)
    steps = [s for s in SEQUENCE if s is not None]
    for step in steps[:3]:
        _send(pipeline, buffer, step)
    asyncio.run(buffer.flush())  # A's and B's first events are stored ...
    for step in steps[3:]:
        _send(pipeline, buffer, step)  # ... the rest only journaled: then the process dies

    restarted = WriteBuffer(journal, site_stores.events, interval=60, max_events=1000)
    assert restarted.replay() == len(steps) - 3 + 1  # + the other.org copy
    replayed = _sessions(site_stores)
    site_stores.events.command("TRUNCATE TABLE sessions")
    rebuild_sessions(site_stores.events)
    assert replayed == _sessions(site_stores)
    assert sorted((r["site_id"], r["entry_page"], r["pageviews"]) for r in replayed) == [
        (1, "/", 1), (1, "/", 3), (1, "/api", 0), (1, "/blog", 1), (2, "/docs", 1),
    ]  # fmt: skip


def test_cookie_mode_visits_continue_like_cookieless_ones(site_stores: Stores) -> None:
    configure_site(site_stores, "example.com", cookie_mode=True)
    pipeline = _pipeline(site_stores)
    ids = []
    for seconds, ip in ((0, A), (60, B)):  # one cookie, the address changed
        wire = parse_event({"n": "pageview", "u": "https://example.com/", "d": "example.com",
                            "c": "random-cookie-id-1"})  # fmt: skip
        moment = (T0 + timedelta(seconds=seconds)).timestamp()
        incoming = Incoming(wire, "example.com", parse_address(ip), CHROME, "en", moment)
        row = pipeline.run(incoming)
        ids.append(row[COLUMN_NAMES.index("session_id")])
        assert incoming.counted_in is not None and incoming.counted_in.pageviews == len(ids)
    assert ids[0] == ids[1]


def test_a_segment_killed_after_its_events_were_stored_is_not_stored_again(
    site_stores: Stores, tmp_path: Path
) -> None:
    """A killed process forgets the event store's de-duplication tokens: the segment's
    `.stored` mark is what keeps its replay from inserting the events a second time."""
    pipeline = _pipeline(site_stores)
    journal = Journal(tmp_path / "journal", None)
    buffer = WriteBuffer(journal, site_stores.events, interval=60, max_events=1000)
    steps = [s for s in SEQUENCE if s is not None]
    for step in steps:
        _send(pipeline, buffer, step)
    segment, rows = buffer._segment, buffer._batch.rows
    segment.close()
    # What _store does before the kill: the events go in (no token: as if forgotten).
    site_stores.events.insert_arrow("events", to_arrow(rows))
    journal.mark_stored(segment.path)

    restarted = WriteBuffer(journal, site_stores.events, interval=60, max_events=1000)
    assert restarted.replay() == len(rows)
    assert site_stores.events.query("SELECT count() FROM events").rows[0][0] == len(rows)
    assert {r["entry_page"] for r in _sessions(site_stores)} == {"/", "/blog", "/api", "/docs"}
    assert journal.leftover_segments() == [restarted._segment.path]
