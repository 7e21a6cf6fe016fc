"""The journal's replay at start: every acknowledged event of an earlier run stored once.

A segment's suffix says how far the killed run got in storing it (`jetrack.ingest.journal`):

- `.journal`: its insert was never sent: the rows go in (the file is marked `.storing`
  first, so a replay killed in turn leaves the next one the same question as a flush).
- `.stored`: its events are in; only its visits' sessions rows are rebuilt from events.
- `.storing`: the insert was sent; it may or may not have committed. The engine's
  de-duplication tokens cannot answer: embedded chDB dies with the process, and a SIGKILL
  right after an insert can lose its de-duplication log entry while the part stays
  (measured, see `jetrack.imports.plausible`), so inserting again under the same token
  stored a whole segment twice. The store itself answers instead (`unstored_rows`).

An insert is atomic per partition: the events table is PARTITION BY toYYYYMM(timestamp),
and one insert writes one part per month its rows fall in, each committed whole (a
segment, at most `flush_max_events` rows, is far below the engine's insert block size, so
it is never split further). Per month of the segment the question is binary, and the
stored rows decide it: a month is in iff every distinct row of the segment in that month
is stored at least as many times as the segment holds it (every column compared). Only
absent months are inserted, under a token no insert has used: whatever the engine's log
kept of the first attempt (its token, without the part) cannot drop them.

The one case this rule gets wrong: a month that did not commit, every row of which has an
identical twin (every column, to the second) stored by other inserts as many times.
Those events are then lost. Twins come from a tracker firing the same event twice within
a second of a visit; it takes a kill inside the insert's few milliseconds AND a segment
whose whole month is such repeats (a segment of one repeated event on a quiet site). The
other way round (a committed month taken for absent, stored twice) takes a deletion of
its rows since the kill, and the one deletion of live events, a site's erasure, waits
first until the journal segments written before it are stored (`jetrack.privacy.purge`).

Why not an exact marker (a column carrying the segment's name): it would add a column
to every events row, an event migration, and a field to every row builder, where one
rename per flush and one query per segment a crash left half-stored suffice.

On a cluster (`events.cluster`) a `.storing` segment goes in again under its own token:
replicated tables keep tokens in ClickHouse Keeper, beyond this process and any node, and
a Distributed insert may still wait in a node's queue, where no query sees it yet."""

from __future__ import annotations

import logging
import secrets
from collections import Counter
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from jetrack.ingest.journal import STORED_SUFFIX, STORING_SUFFIX, SUFFIX, Journal
from jetrack.ingest.rows import counted_visits, to_arrow
from jetrack.store.events import EventStore, Limits
from jetrack.store.rollups import rebuild_days
from jetrack.store.schema import EVENT_COLUMNS, EventRow
from jetrack.store.sessions import rebuild_sessions

log = logging.getLogger("jetrack.ingest")

# A row as compared with its stored copies: every column, props as sorted pairs and the
# revenue as a number (the engine returns a map as pairs and Decimal64(3) with 3 places).
RowKey = tuple[Any, ...]
_PROPS = EVENT_COLUMNS.index("props")
_REVENUE = EVENT_COLUMNS.index("revenue_amount")
# The stored rows of the segment's visits in its seconds: about as many as the segment's
# own (at most flush_max_events); the cap only keeps a runaway query bounded.
CHECK_LIMITS = Limits(timeout_seconds=600, max_rows=10_000_000)
_SELECTED = ", ".join(
    "toUInt32(timestamp)" if column == "timestamp" else f"`{column}`" for column in EVENT_COLUMNS
)


def replay_segments(journal: Journal, events: EventStore, *, skip: Path) -> int:
    """Store what earlier runs journaled but did not store, each event once; returns how
    many events the replayed segments held. `skip`: the segment this run writes."""
    replayed = 0
    for path in journal.leftover_segments():
        if path == skip:
            continue
        rows = journal.read_segment(path)
        if rows:
            path = _store_events(journal, events, path, rows)
            # The visits' totals were in memory only: rebuild their rows from events.
            stamps = [row.timestamp for row in rows]
            since = datetime.fromtimestamp(min(stamps), UTC)
            until = datetime.fromtimestamp(max(stamps) + 1, UTC)
            for site_id, session_ids in counted_visits(rows).items():
                rebuild_sessions(
                    events, site_id=site_id, session_ids=session_ids, since=since, until=until
                )
            # Days already rolled up that these events belong to are rolled up again.
            rebuild_days(events, since, until, datetime.now(UTC))
        path.unlink()
        replayed += len(rows)
    if replayed:
        log.info("replayed %d journaled events", replayed)
    return replayed


def _store_events(journal: Journal, events: EventStore, path: Path, rows: list[EventRow]) -> Path:
    """Store the segment's events that are not in yet; returns the segment's path now."""
    name = path.stem
    if path.suffix == STORED_SUFFIX:
        return path
    if path.suffix == STORING_SUFFIX and not events.cluster:
        missing = unstored_rows(rows, stored_copies(events, rows))
        log.info(
            "journal segment %s: %d of its %d events were not stored", name, len(missing), len(rows)
        )
        if missing:
            token = f"{name}-replay-{secrets.token_hex(8)}"
            events.insert_arrow("events", to_arrow(missing), dedup_token=token)
        return path
    if path.suffix == SUFFIX:
        path = journal.mark_storing(path)
    events.insert_arrow("events", to_arrow(rows), dedup_token=name)
    return path


def unstored_rows(segment: Sequence[EventRow], stored: Counter[RowKey]) -> list[EventRow]:
    """The rows of the segment's months that its insert did not commit, in segment order.

    `stored`: how many times each row of the segment's visits and seconds is in the store
    (from any insert). A month is in iff each of its distinct rows is stored at least as
    many times as the segment holds it."""
    by_month: dict[int, Counter[RowKey]] = {}
    for row in segment:
        by_month.setdefault(_month(row.timestamp), Counter())[row_key(row)] += 1
    absent = {
        month
        for month, counts in by_month.items()
        if any(stored[key] < count for key, count in counts.items())
    }
    return [row for row in segment if _month(row.timestamp) in absent]


def stored_copies(events: EventStore, rows: Sequence[EventRow]) -> Counter[RowKey]:
    """How many times each stored row of these rows' visits, in their seconds, is stored."""
    result = events.query(
        f"SELECT {_SELECTED} FROM events"
        " WHERE site_id IN {sites:Array(UInt32)} AND session_id IN {visits:Array(UInt64)}"
        " AND timestamp BETWEEN toDateTime({first:UInt32}, 'UTC')"
        " AND toDateTime({last:UInt32}, 'UTC')",
        {
            "sites": sorted({row.site_id for row in rows}),
            "visits": sorted({row.session_id for row in rows}),
            "first": min(row.timestamp for row in rows),
            "last": max(row.timestamp for row in rows),
        },
        limits=CHECK_LIMITS,
    )
    return Counter(row_key(values) for values in result.rows)


def row_key(values: Sequence[Any]) -> RowKey:
    """A row (journaled, or as the store returns it) in a form both compare equal in."""
    key = list(values)
    key[_PROPS] = _pairs(values[_PROPS])
    key[_REVENUE] = Decimal(str(values[_REVENUE]))
    return tuple(key)


def _pairs(props: dict[str, str] | Iterable[tuple[str, str]] | None) -> tuple[tuple[str, str], ...]:
    if props is None:
        return ()
    return tuple(sorted(props.items() if isinstance(props, dict) else props))


def _month(timestamp: int) -> int:
    """The row's partition (toYYYYMM of its UTC timestamp)."""
    moment = datetime.fromtimestamp(timestamp, UTC)
    return moment.year * 100 + moment.month


__all__ = ["replay_segments", "row_key", "stored_copies", "unstored_rows"]
