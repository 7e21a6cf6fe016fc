"""Accepting checked events: the client address resolved, each event through the
pipeline once per site it names, the accepted rows journaled by the group commit.

The HTTP ways in (`jetrack.web.ingest`) decode and check a request, call `accept`, and
encode the `Outcome` it reports; nothing here knows of HTTP answers."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import partial

from jetrack.ingest.buffer import Counted
from jetrack.ingest.client_ip import ClientAddress, resolve_client
from jetrack.ingest.pipeline import Dropped, Incoming
from jetrack.ingest.service import IngestService
from jetrack.ingest.shared_visits import VisitAnswer
from jetrack.ingest.wire import WireEvent
from jetrack.store.schema import EventRow

log = logging.getLogger("jetrack")


@dataclass(slots=True)
class Accepted:
    """The request's events went through: these rows are journaled, these were dropped."""

    rows: list[EventRow]
    counted: list[Counted]  # the rows counted in their visit's totals, with the visit
    dropped: list[str]  # reasons

    def add(self, incoming: Incoming, row_of: Callable[[Incoming], EventRow]) -> None:
        """The event's row from `row_of` (the pipeline), or the reason it was dropped."""
        try:
            row = row_of(incoming)
        except Dropped as drop:
            self.dropped.append(drop.reason.value)
            return
        self.rows.append(row)
        if incoming.counted_in is not None:
            self.counted.append((row, incoming.counted_in))


@dataclass(frozen=True, slots=True)
class OverBudget:
    """A batch that would take its address past the minute's budget: nothing accepted."""

    limit: int  # events a minute from one address
    retry_after: int  # seconds


@dataclass(frozen=True, slots=True)
class NotJournaled:
    """The journal could not take the rows (a full disk): nothing accepted."""


NOT_JOURNALED = NotJournaled()
Outcome = Accepted | OverBudget | NotJournaled


def unknown_site_due(service: IngestService, events: list[WireEvent]) -> bool:
    """An event names a domain the site cache lacks, and the cache may be read again now."""
    sites = service.pipeline.sites
    return (
        any(sites.get(domain) is None for wire in events for domain in wire.domains)
        and service.miss_refresh_due()
    )


def over_budget(
    service: IngestService, ip: ClientAddress | None, events: list[WireEvent], now: float
) -> OverBudget | None:
    """A batch over its address's budget (counted in events times the sites each names),
    or None once the batch's share is spent."""
    budget = service.batch_budget
    if budget.take(ip, sum(len(wire.domains) for wire in events), now):
        return None
    service.batches_refused += 1
    return OverBudget(budget.limit, budget.retry_after(now))


def run_pipeline(
    service: IngestService,
    ip: ClientAddress | None,
    headers: Mapping[str, str],
    events: list[WireEvent],
    now: float,
) -> Accepted:
    """Each event through the pipeline, once per site it names. The client address goes
    no further than the pipeline's `Incoming`."""
    user_agent, language = headers["user-agent"], headers.get("accept-language", "")
    accepted = Accepted([], [], [])
    run = service.pipeline.run
    for wire in events:
        for domain in wire.domains:
            accepted.add(Incoming(wire, domain, ip, user_agent, language, now), run)
    return accepted


def accept(
    service: IngestService,
    peer: str | None,
    headers: Mapping[str, str],
    events: list[WireEvent],
    done: Callable[[Outcome], None],
    *,
    batch: bool,
) -> None:
    """Run checked events through the pipeline and journal the accepted rows. `done` is
    called once: at once when nothing is to be journaled (or a batch is over its
    address's budget), else when the group commit has written the rows (Accepted) or
    could not (NOT_JOURNALED). The client address is resolved here from the peer and the
    forwarding headers of trusted proxies."""
    ip = resolve_client(peer, headers, service.trusted_proxies)
    now = time.time()
    refused = over_budget(service, ip, events, now) if batch else None
    if refused is not None:
        done(refused)
        return
    if service.shared_visits is not None:
        _accept_shared(service, ip, headers, events, now, done)
        return
    _journal(service, run_pipeline(service, ip, headers, events, now), done)


def _journal(service: IngestService, accepted: Accepted, done: Callable[[Outcome], None]) -> None:
    if not accepted.rows:
        done(accepted)
        return

    def journaled(error: BaseException | None) -> None:
        if error is None:
            done(accepted)
        else:
            log.error("journal write failed: %s", type(error).__name__)
            done(NOT_JOURNALED)

    service.buffer.commit_then(accepted.rows, accepted.counted, journaled)


def _accept_shared(
    service: IngestService,
    ip: ClientAddress | None,
    headers: Mapping[str, str],
    events: list[WireEvent],
    now: float,
    done: Callable[[Outcome], None],
) -> None:
    """Shared mode: the steps before the visit here, the visits of the event-loop turn's
    events from Redis in one round trip, then the rows journaled as in `accept`."""
    assert service.shared_visits is not None
    user_agent, language = headers["user-agent"], headers.get("accept-language", "")
    pipeline = service.pipeline
    prepared: list[Incoming] = []
    dropped: list[str] = []
    for wire in events:
        for domain in wire.domains:
            incoming = Incoming(wire, domain, ip, user_agent, language, now)
            try:
                pipeline.prepare(incoming)
            except Dropped as drop:
                dropped.append(drop.reason.value)
                continue
            prepared.append(incoming)
    if not prepared:
        done(Accepted([], [], dropped))
        return

    def resolved(answers: list[VisitAnswer] | BaseException) -> None:
        if isinstance(answers, BaseException):
            done(NOT_JOURNALED)
            return
        accepted = Accepted([], [], dropped)
        for incoming, answer in zip(prepared, answers, strict=True):
            accepted.add(incoming, partial(pipeline.settle, answer=answer))
        _journal(service, accepted, done)

    service.shared_visits.submit([pipeline.ask(incoming) for incoming in prepared], resolved)
