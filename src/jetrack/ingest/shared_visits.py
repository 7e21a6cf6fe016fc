"""Visits shared by several Jetrack processes: each visit's state in Redis, updated by one
Lua script per event, so requests of one visitor that land on different processes still
form one visit with one id and one set of totals.

The script finds the visitor's live visit (today's id, else yesterday's to go on across
midnight), starts one when there is none (its sequence from one shared counter: visit ids
are unique across processes), counts the event in its totals and answers the visit as it
stands just after this event: its id, attributes and totals (`VisitState`). The totals
are the whole visit's, whichever process counted its other events, so the sessions row a
process writes from them is the visit's row at that version (`VisitState.version`, which
grows by one per counted event): the row of the visit's last event is its total.

The events of one event-loop turn (all requests answered in it) go to Redis in one
pipelined round trip (`VisitBatcher`); the pipeline blocks the loop for it (~0.1-0.3 ms
on loopback), as the journal's group commit does for its write. A visit's key expires
after the idle timeout (plus a minute), so nothing needs sweeping."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable, Sequence
from typing import NamedTuple

import redis

from jetrack.ingest.sessions import VisitState
from jetrack.store.ids import session_id_at

log = logging.getLogger("jetrack.ingest")

PAGEVIEW, CUSTOM, ENGAGEMENT = "p", "c", "e"
NO_VISIT, NOT_ALLOWED = 0, -1  # the script's answers when it neither found nor started one

# KEYS: today's visit key, yesterday's ("" when none), the sequence counter.
# ARGV: now, timeout (s), expiry (ms), may start (1/0), kind (p/c/e), timestamp (s),
#       hostname, pathname, interactive (1/0), attributes (JSON), visitor id.
# Fields: q sequence, s start, n last seen, a attributes, v visitor id, l last counted
#       event, p pageviews, c custom events, i interactive events, x exit page,
#       h its hostname, e entry page's hostname.
_SCRIPT = """
local now = tonumber(ARGV[1])
local timeout = tonumber(ARGV[2])
local function live(key)
  if key == '' then return nil end
  local seen = redis.call('HGET', key, 'n')
  if seen and now - tonumber(seen) <= timeout then return key end
  return nil
end
local key = live(KEYS[1]) or live(KEYS[2])
local started = 0
if not key then
  if ARGV[5] == 'e' then return {0} end
  if ARGV[4] ~= '1' then return {-1} end
  key = KEYS[1]
  local sequence = redis.call('INCR', KEYS[3])
  redis.call('DEL', key)
  redis.call('HSET', key, 'q', sequence, 's', math.floor(now), 'a', ARGV[10],
    'v', ARGV[11], 'l', 0, 'p', 0, 'c', 0, 'i', 0, 'x', '', 'h', '', 'e', '')
  started = 1
end
redis.call('HSET', key, 'n', ARGV[1])
local kind = ARGV[5]
if kind == 'p' then
  if redis.call('HINCRBY', key, 'p', 1) == 1 then redis.call('HSET', key, 'e', ARGV[7]) end
  redis.call('HSET', key, 'x', ARGV[8], 'h', ARGV[7])
elseif kind == 'c' then
  redis.call('HINCRBY', key, 'c', 1)
  if ARGV[9] == '1' then redis.call('HINCRBY', key, 'i', 1) end
end
if kind ~= 'e' and tonumber(ARGV[6]) > tonumber(redis.call('HGET', key, 'l')) then
  redis.call('HSET', key, 'l', ARGV[6])
end
redis.call('PEXPIRE', key, ARGV[3])
local v = redis.call('HMGET', key, 'q', 's', 'v', 'a', 'l', 'p', 'c', 'i', 'x', 'h', 'e')
return {1 + started, v[1], v[2], v[3], v[4], v[5], v[6], v[7], v[8], v[9], v[10], v[11]}
"""


class VisitAsk(NamedTuple):
    """One event's question to the shared visits: its visitor, what it counts, and the
    attributes a visit it starts would take."""

    site_id: int
    visitor_id: int
    previous_visitor_id: int | None  # yesterday's id of the same visitor, to go on
    now: float
    may_start: bool  # the address's new-visitor budget has room
    kind: str  # PAGEVIEW, CUSTOM or ENGAGEMENT
    hostname: str
    pathname: str
    interactive: bool
    attributes: tuple[str, ...]


class VisitAnswer(NamedTuple):
    """The visit as it stands after the event (None: no visit, `refused` tells why)."""

    visit: VisitState | None
    started: bool = False
    refused: int = NO_VISIT




class SharedVisits:
    """The visits of every process, in Redis; `resolve` is one round trip per batch."""

    def __init__(self, client: redis.Redis, timeout_seconds: float, prefix: str) -> None:
        self.client = client
        self.prefix = prefix
        self._sequence_key = prefix + "visit-sequence"
        self.timeout = timeout_seconds
        self._expiry_ms = str(int((timeout_seconds + 60) * 1000))
        self._script = client.register_script(_SCRIPT)

    def key(self, site_id: int, visitor_id: int) -> str:
        return f"{self.prefix}visit:{site_id}:{visitor_id}"

    def resolve(self, asks: Sequence[VisitAsk]) -> list[VisitAnswer]:
        """Each event counted in its visit, in order; raises redis.RedisError."""
        if not asks:
            return []
        pipe = self.client.pipeline(transaction=False)
        timeout = str(self.timeout)
        for ask in asks:
            previous = (
                self.key(ask.site_id, ask.previous_visitor_id)
                if ask.previous_visitor_id is not None
                else ""
            )
            self._script(
                keys=[self.key(ask.site_id, ask.visitor_id), previous, self._sequence_key],
                args=[
                    repr(ask.now), timeout, self._expiry_ms, "1" if ask.may_start else "0",
                    ask.kind, str(int(ask.now)), ask.hostname, ask.pathname,
                    "1" if ask.interactive else "0", json.dumps(ask.attributes),
                    str(ask.visitor_id),
                ],
                client=pipe,
            )  # fmt: skip
        return [_answer(reply, ask.now) for reply, ask in zip(pipe.execute(), asks, strict=True)]


def _answer(reply: list[bytes | int], now: float) -> VisitAnswer:
    status = int(reply[0])
    if status <= 0:
        return VisitAnswer(None, refused=status)
    seq, start, visitor, attributes, last, pageviews, custom, interactive = reply[1:9]
    exit_page, hostname, entry_hostname = (_text(value) for value in reply[9:12])
    start_second = int(start)
    visit = VisitState(
        session_id_at(start_second, int(seq)),
        int(visitor),
        now,
        tuple(json.loads(attributes)),
        start=start_second,
        last=int(last),
        pageviews=int(pageviews),
        custom_events=int(custom),
        interactive_events=int(interactive),
        exit_page=exit_page,
        hostname=hostname,
        entry_hostname=entry_hostname,
    )
    return VisitAnswer(visit, started=status == 2)


def _text(value: bytes | int) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


Resolved = Callable[[list[VisitAnswer] | BaseException], None]


class VisitBatcher:
    """The asks of one event-loop turn in one round trip to Redis (like the journal's group
    commit): `submit` now, `then(answers)` (or `then(error)`) at the end of the turn."""

    def __init__(self, visits: SharedVisits) -> None:
        self.visits = visits
        self._waiting: list[tuple[list[VisitAsk], Resolved]] = []
        self.round_trips = 0

    def submit(self, asks: list[VisitAsk], then: Resolved) -> None:
        if not self._waiting:
            asyncio.get_running_loop().call_soon(self._resolve_waiting)
        self._waiting.append((asks, then))

    def _resolve_waiting(self) -> None:
        waiting, self._waiting = self._waiting, []
        flat = [ask for asks, _ in waiting for ask in asks]
        answers: list[VisitAnswer] | BaseException
        try:
            answers = self.visits.resolve(flat)
            self.round_trips += 1
        except redis.RedisError as exc:
            log.error("shared visits: Redis failed: %s", type(exc).__name__)
            answers = exc
        at = 0
        for asks, then in waiting:
            try:
                if isinstance(answers, BaseException):
                    then(answers)
                else:
                    then(answers[at : at + len(asks)])
            except Exception as exc:  # one failed answer must not keep the others waiting
                log.error("answering a request failed: %s", type(exc).__name__)
            at += len(asks)
