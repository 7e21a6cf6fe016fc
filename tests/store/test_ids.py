"""Id formats that the stats engine relies on (docs/architecture.md, "Ids")."""

from __future__ import annotations

import secrets

from jetrack.ingest.sessions import SessionTable
from jetrack.store.identity import cookie_visitor_id, visitor_id
from jetrack.store.ids import COOKIE_ID_FLAG, SEQUENCE_BITS, session_id_at


def test_visit_ids_hold_their_start_second_and_are_unique_within_a_second() -> None:
    table = SessionTable(1800)
    start = 1_900_000_000
    ids = [table.start(1, n, start + 0.5, ()).session_id for n in range(1000)]
    assert len(set(ids)) == 1000
    assert {i >> SEQUENCE_BITS for i in ids} == {start}
    later = table.start(1, 5000, start + 1, ()).session_id
    assert later >> SEQUENCE_BITS == start + 1 and later > max(ids)  # ordered by start
    # Signed 64-bit safe until 2106 (the last second that fits 32 bits).
    assert session_id_at(2**32 - 1, 2**31 - 1) < 2**63


def test_daily_visitor_ids_are_32_bit_and_cookie_ids_are_flagged() -> None:
    salt = secrets.token_bytes(16)
    daily = {visitor_id(salt, 1, f"203.0.113.{n}", "UA") for n in range(200)}
    assert len(daily) == 200 and max(daily) < COOKIE_ID_FLAG
    cookie = cookie_visitor_id(1, "abc")
    assert cookie & COOKIE_ID_FLAG and cookie < 2 * COOKIE_ID_FLAG
    assert cookie_visitor_id(1, "abc") == cookie != cookie_visitor_id(2, "abc")
