"""Visits: events of one visitor on one site belong to one session until 30 idle minutes.

The attributes of a visit (source, campaign, entry page, place, device) are fixed by its
first event and copied onto every later one, so visit filters need no join. A visit also
keeps running totals (pageviews, custom events, exit page...) that become its row in the
sessions table. State lives in memory, bounded (`SessionTable`); expired visits are swept
regularly."""

from __future__ import annotations

import itertools
import marshal
import secrets
from collections import OrderedDict
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
    entry_hostname: str = ""  # hostname of the first pageview


@dataclass(slots=True)
class VisitState:
    session_id: int
    visitor_id: int
    last_seen: float  # any event, engagement pings included: for the idle timeout
    attributes: tuple[str | int, ...]
    # Running totals over the visit's pageviews and custom events (never engagement
    # pings), with the definitions of jetrack.store.sessions.rebuild_sessions.
    start: int = 0
    last: int = 0
    pageviews: int = 0
    custom_events: int = 0
    interactive_events: int = 0
    exit_page: str = ""  # path of the last pageview
    hostname: str = ""  # hostname of the last pageview
    entry_hostname: str = ""  # hostname of the first pageview

    def count(
        self, name: str, timestamp: int, hostname: str, pathname: str, interactive: bool
    ) -> None:
        """Add one accepted pageview or custom event to the totals."""
        self.last = max(self.last, timestamp)
        if name == "pageview":
            if not self.pageviews:
                self.entry_hostname = hostname
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
            self.entry_hostname,
        )


DEFAULT_MAX_LIVE_VISITS = 100_000
PACKED_PER_LIVE = 2  # packed visits kept per whole one (~420 against ~790 bytes, tracemalloc)


def _key(site_id: int, visitor_id: int) -> int:
    # One int instead of a tuple of two: ~60 bytes less per visit. Visitor ids are below
    # 2^33 (cookie-mode ids carry bit 32).
    return (site_id << 40) | visitor_id


def _pack(v: VisitState) -> bytes:
    # In VisitState's field order, spelled out: a loop over __slots__ took 3x as long.
    return marshal.dumps(
        (v.session_id, v.visitor_id, v.last_seen, v.attributes, v.start, v.last, v.pageviews,
         v.custom_events, v.interactive_events, v.exit_page, v.hostname, v.entry_hostname)
    )  # fmt: skip


def _unpack(packed: bytes) -> VisitState:
    return VisitState(*marshal.loads(packed))


class SessionTable:
    """The live visits, bounded: at most `max_live` whole `VisitState`s, least recently
    active first. Beyond it the least recently active visit is packed into a few hundred
    bytes (`_packed`, at most PACKED_PER_LIVE times as many) and unpacked, under the
    same id with the same totals, when its visitor comes back: eviction changes no count.
    Past both bounds the oldest packed visit is forgotten (`forgotten` counts them), and a
    later event of it starts a new visit, as after the idle timeout."""

    def __init__(self, timeout_seconds: float, max_live: int = DEFAULT_MAX_LIVE_VISITS) -> None:
        self.timeout = timeout_seconds
        self.max_live = max_live
        self.max_packed = PACKED_PER_LIVE * max_live
        self._visits: OrderedDict[int, VisitState] = OrderedDict()
        self._packed: OrderedDict[int, bytes] = OrderedDict()
        self._sequence = itertools.count(secrets.randbits(SEQUENCE_BITS))
        self.packed_total = 0
        self.forgotten = 0

    def __len__(self) -> int:
        return len(self._visits)

    @property
    def packed(self) -> int:
        return len(self._packed)

    def find(self, site_id: int, visitor_id: int, now: float) -> VisitState | None:
        """The live visit of this visitor id, if any, marked active now."""
        key = _key(site_id, visitor_id)
        visit = self._visits.get(key)
        if visit is None:
            if not self._packed:  # the common case: nothing was ever evicted
                return None
            packed = self._packed.pop(key, None)
            if packed is None:
                return None
            visit = _unpack(packed)
            if now - visit.last_seen > self.timeout:
                return None
            self._visits[key] = visit
            visit.last_seen = now
            self._make_room(now)
            return visit
        if now - visit.last_seen > self.timeout:
            return None
        self._visits.move_to_end(key)
        visit.last_seen = now
        return visit

    def start(
        self, site_id: int, visitor_id: int, now: float, attributes: tuple[str | int, ...]
    ) -> VisitState:
        start = int(now)
        visit = VisitState(
            session_id_at(start, next(self._sequence)), visitor_id, now, attributes, start=start
        )
        key = _key(site_id, visitor_id)
        self._visits.pop(key, None)  # an ended visit's place: the new one is the most recent
        if self._packed:
            self._packed.pop(key, None)  # an ended visit packed away
        self._visits[key] = visit
        self._make_room(now)
        return visit

    def restore(self, site_id: int, visit: VisitState) -> None:
        """Put back a visit that was under way when its writer stopped (an import resumed
        after a restart goes on with the visits its stored events left open)."""
        self._visits[_key(site_id, visit.visitor_id)] = visit
        self._make_room(visit.last_seen)

    def _make_room(self, now: float) -> None:
        visits, packed = self._visits, self._packed
        while len(visits) > self.max_live:
            key, visit = visits.popitem(last=False)
            if now - visit.last_seen > self.timeout:
                continue  # over anyway
            packed[key] = _pack(visit)
            self.packed_total += 1
            if len(packed) > self.max_packed:
                packed.popitem(last=False)
                self.forgotten += 1

    def sweep(self, now: float) -> int:
        """Forget visits idle longer than the timeout; returns how many. Both tables are in
        order of last activity, so only the expired ones at their heads are looked at."""
        expired = 0
        visits, packed = self._visits, self._packed
        while visits:
            key = next(iter(visits))
            if now - visits[key].last_seen <= self.timeout:
                break
            del visits[key]
            expired += 1
        while packed:
            key = next(iter(packed))
            if now - _unpack(packed[key]).last_seen <= self.timeout:
                break
            del packed[key]
            expired += 1
        return expired


# jetrack.stats.sql still reads the layout here; it moves to jetrack.store.ids (hx/plan).
__all__ = ["SEQUENCE_BITS"]
