"""The write buffer: journal first, acknowledge, then batches to the event store.

A flush closes the current journal segment, opens a new one for the events that keep
arriving, and stores the closed segment's rows in one insert whose de-duplication token is
the segment's name, then one sessions row per visit the segment touched (its totals as
they stood when the segment was closed; token: the name + "-sessions"). The segment file
is renamed `.storing` before its events insert is sent and `.stored` once it is in, and
deleted once both inserts succeeded: a killed process forgets the tokens, and the replay
(`jetrack.ingest.replay`) goes by these marks instead. One rename per flush, no query."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from starlette.concurrency import run_in_threadpool

from jetrack.ingest.journal import SUFFIX, Journal, JournalSegment
from jetrack.ingest.replay import replay_segments
from jetrack.ingest.rows import sessions_to_arrow, to_arrow, visit_key
from jetrack.ingest.sessions import VisitState, VisitTotals
from jetrack.metrics import Metrics
from jetrack.store.events import EventStore, EventStoreError
from jetrack.store.schema import EventRow

log = logging.getLogger("jetrack.ingest")

Counted = tuple[EventRow, VisitState]  # an event row counted in its visit's totals, and the visit
Committed = Callable[[BaseException | None], None]  # told when rows are journaled, or why not


@dataclass
class PendingBatch:
    name: str
    path: Path
    rows: list[EventRow] = field(default_factory=list)
    # (site, session) -> an event row of each visit the batch counted in, and the visit
    visits: dict[tuple[int, int], Counted] = field(default_factory=dict)
    # The visits' totals, taken when the batch is closed: exactly its events and earlier.
    sessions: list[tuple[EventRow, VisitTotals]] = field(default_factory=list)
    events_stored: bool = False


class WriteBuffer:
    def __init__(
        self,
        journal: Journal,
        events: EventStore,
        *,
        interval: float,
        max_events: int,
        metrics: Metrics | None = None,
    ) -> None:
        self.journal = journal
        self.metrics = metrics
        self.events = events
        self.interval = interval
        self.max_events = max_events
        self.stored = 0
        self._segment: JournalSegment = journal.open_segment()
        self._batch = PendingBatch(self._segment.name, self._segment.path)
        self._unstored: list[PendingBatch] = []
        self._wake = asyncio.Event()
        self._flush_lock = asyncio.Lock()
        self._waiting: list[Committed] = []
        self._waiting_rows: list[EventRow] = []
        self._waiting_visits: list[Counted] = []

    def commit_then(
        self, rows: Sequence[EventRow], visits: Sequence[Counted], then: Committed
    ) -> None:
        """Journal the rows in one write with those of the other requests of this event-loop
        turn (group commit), then call `then(None)`: from then on they are safe to
        acknowledge. `then(error)` when they could not be journaled (a full disk: nobody is
        acknowledged). `visits`: the rows counted in a visit's totals, with their visit."""
        if not self._waiting:
            asyncio.get_running_loop().call_soon(self._commit_waiting)
        self._waiting.append(then)
        self._waiting_rows.extend(rows)
        self._waiting_visits.extend(visits)

    def _commit_waiting(self) -> None:
        waiting, self._waiting = self._waiting, []
        rows, self._waiting_rows = self._waiting_rows, []
        visits, self._waiting_visits = self._waiting_visits, []
        if not waiting:
            return
        error: BaseException | None = None
        try:
            self.append(rows, visits)
        except Exception as exc:
            error = exc
        for then in waiting:
            try:
                then(error)
            except Exception as exc:  # one failed answer must not keep the others waiting
                log.error("answering a journaled request failed: %s", type(exc).__name__)

    def append(self, rows: Sequence[EventRow], visits: Sequence[Counted] = ()) -> None:
        """Journal the rows; when this returns they are safe to acknowledge. `visits` as in
        `commit_then` (their totals are not journaled: a replay rebuilds them from events)."""
        self._segment.append(rows)
        self._batch.rows.extend(rows)
        touched = self._batch.visits
        for row, visit in visits:
            touched[visit_key(row)] = (row, visit)
        if len(self._batch.rows) >= self.max_events:
            self._wake.set()

    @property
    def pending(self) -> int:
        return len(self._batch.rows) + sum(len(b.rows) for b in self._unstored)

    def replay(self) -> int:
        """Store what earlier runs journaled but did not store (at start, before serving)."""
        return replay_segments(self.journal, self.events, skip=self._segment.path)

    async def flush(self) -> None:
        async with self._flush_lock:
            if self._batch.rows:
                closed, batch = self._segment, self._batch
                batch.sessions = [(row, visit.totals()) for row, visit in batch.visits.values()]
                self._segment = self.journal.open_segment()
                self._batch = PendingBatch(self._segment.name, self._segment.path)
                self._unstored.append(batch)
                # Later events go to the new segment; the fsync (milliseconds) off the loop.
                await run_in_threadpool(closed.close)
            while self._unstored:
                batch = self._unstored[0]
                started = time.perf_counter()
                try:
                    await run_in_threadpool(self._store, batch)
                except EventStoreError as exc:
                    log.error("storing %d events failed, will retry: %s", len(batch.rows), exc)
                    self._count_flush("failed", started)
                    return
                self._count_flush("stored", started)
                self._unstored.pop(0)

    def _count_flush(self, outcome: str, started: float) -> None:
        if self.metrics is not None:
            self.metrics.flushes.labels(outcome).inc()
            if outcome == "stored":
                self.metrics.flush_seconds.observe(time.perf_counter() - started)

    def _store(self, batch: PendingBatch) -> None:
        if not batch.events_stored:
            if batch.path.suffix == SUFFIX:  # the first attempt; a retry is `.storing` already
                batch.path = self.journal.mark_storing(batch.path)
            self.events.insert_arrow("events", to_arrow(batch.rows), dedup_token=batch.name)
            batch.events_stored = True
            batch.path = self.journal.mark_stored(batch.path)
        if batch.sessions:
            visits = sessions_to_arrow(batch.sessions)
            self.events.insert_arrow("sessions", visits, dedup_token=batch.name + "-sessions")
        batch.path.unlink(missing_ok=True)
        self.stored += len(batch.rows)

    async def run(self) -> None:
        """Flush every interval, or sooner when a batch is full; runs until cancelled."""
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=self.interval)
            self._wake.clear()
            # Shielded: cancelling `run` (shutdown) must not abandon a store step that is
            # running in a thread; `close` then waits for it on the flush lock instead of
            # storing the same batch a second time beside it.
            await asyncio.shield(self.flush())

    async def close(self) -> None:
        """Graceful shutdown: store everything, leave no segment behind."""
        self._commit_waiting()
        await self.flush()
        self._segment.close()
        if not self._batch.rows and not self._unstored:
            self._segment.path.unlink(missing_ok=True)
