"""Visits: events of one visitor on one site belong to one session until 30 idle minutes.

The attributes of a visit (source, campaign, entry page, place, device) are fixed by its
first event and copied onto every later one, so visit filters need no join. A visit also
keeps running totals (pageviews, custom events, exit page...) that become its row in the
sessions table. State lives in memory; expired visits are swept regularly."""

from __future__ import annotations

import itertools
import secrets
from dataclasses import dataclass
from typing import NamedTuple

from jetrack.store.ids import SEQUENCE_BITS, session_id_at


class VisitTotals(NamedTuple):
    """A visit's totals just after one of its events was counted: its sessions row."""

    start: int
    last: int  # the last pageview or custom event
    version: int
    hostname: str
    exit_page: str
    pageviews: int
    custom_events: int
    interactive_events: int


@dataclass(slots=True)
class VisitState:
    session_id: int
    visitor_id: int
    last_seen: float  # any event, engagement pings included: for the idle timeout
    attributes: tuple[str, ...]
    # Running totals over the visit's pageviews and custom events (never engagement
    # pings), with the definitions of jetrack.store.sessions.rebuild_sessions.
    start: int = 0
    last: int = 0
    pageviews: int = 0
    custom_events: int = 0
    interactive_events: int = 0
    exit_page: str = ""  # path of the last pageview
    hostname: str = ""  # hostname of the last pageview

    def count(
        self, name: str, timestamp: int, hostname: str, pathname: str, interactive: bool
    ) -> None:
        """Add one accepted pageview or custom event to the totals."""
        self.last = max(self.last, timestamp)
        if name == "pageview":
            self.pageviews += 1
            self.exit_page, self.hostname = pathname, hostname
        else:
            self.custom_events += 1
            self.interactive_events += 1 if interactive else 0

    @property
    def version(self) -> int:
        """Grows with every counted event: the sessions row with the highest one wins."""
        return self.pageviews + self.custom_events

    def totals(self) -> VisitTotals:
        return VisitTotals(
            self.start,
            self.last,
            self.version,
            self.hostname,
            self.exit_page,
            self.pageviews,
            self.custom_events,
            self.interactive_events,
        )


class SessionTable:
    def __init__(self, timeout_seconds: float) -> None:
        self.timeout = timeout_seconds
        self._visits: dict[tuple[int, int], VisitState] = {}
        self._sequence = itertools.count(secrets.randbits(SEQUENCE_BITS))

    def __len__(self) -> int:
        return len(self._visits)

    def find(self, site_id: int, visitor_id: int, now: float) -> VisitState | None:
        """The live visit of this visitor id, if any."""
        visit = self._visits.get((site_id, visitor_id))
        if visit is not None and now - visit.last_seen <= self.timeout:
            return visit
        return None

    def start(
        self, site_id: int, visitor_id: int, now: float, attributes: tuple[str, ...]
    ) -> VisitState:
        start = int(now)
        visit = VisitState(
            session_id_at(start, next(self._sequence)), visitor_id, now, attributes, start=start
        )
        self._visits[(site_id, visitor_id)] = visit
        return visit

    def sweep(self, now: float) -> int:
        """Forget visits idle longer than the timeout; returns how many."""
        expired = [
            key for key, visit in self._visits.items() if now - visit.last_seen > self.timeout
        ]
        for key in expired:
            del self._visits[key]
        return len(expired)
