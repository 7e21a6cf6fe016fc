"""Visits shared by several Jetrack processes: each visit's state in Redis, updated by a
Lua script, so requests of one visitor that land on different processes still
form one visit with one id and one set of totals.

The script finds the visitor's live visit (today's id, else yesterday's to go on across
midnight), starts one when there is none (its sequence from one shared counter: visit ids
are unique across processes), counts the event in its totals and answers the visit as it
stands just after this event: its id, attributes and totals (`VisitState`). The totals
are the whole visit's, whichever process counted its other events, so the sessions row a
process writes from them is the visit's row at that version (`VisitState.version`, which
grows by one per counted event): the row of the visit's last event is its total.

The events of the requests that arrive while a call is in Redis go in the next call of
the script, from a thread (`VisitBatcher`), so the event loop never waits for Redis; JSON
in and out (redis-py's parsing of a reply of many fields cost ~40 us per event). A
visit's key expires after the idle timeout (plus a minute), so nothing needs sweeping."""

from __future__ import annotations

import asyncio
import concurrent.futures
import json
import logging
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, NamedTuple

from jetrack.config import ConfigError
from jetrack.ingest.sessions import VisitState
from jetrack.rate_limits import redis_client
from jetrack.store.ids import session_id_at
from jetrack.store.schema import VISIT_ATTRIBUTES

if TYPE_CHECKING:
    import redis  # at run time only where a client exists (rate_limits.redis_client)

log = logging.getLogger("jetrack.ingest")

PAGEVIEW, CUSTOM, ENGAGEMENT = "p", "c", "e"
NO_VISIT, NOT_ALLOWED = 0, -1  # the script's answers when it neither found nor started one

# One call for a batch of events, in order. KEYS: the sequence counter, then each event's
# visit key and yesterday's ("" when none). ARGV[1]: timeout (s), ARGV[2]: expiry (ms),
# ARGV[3]: JSON list of [now, may start (1/0), kind (p/c/e), hostname, pathname,
# interactive (1/0), attributes, visitor id]. A visit is one JSON value (one GET and one
# SET per event), the list `FIELDS`. Answers a JSON list of [status] (0 no visit, -1 not
# allowed) or [status, visit] (1 found, 2 started).
FIELDS = (
    "sequence", "start", "last_seen", "attributes", "visitor_id", "last", "pageviews",
    "custom_events", "interactive_events", "exit_page", "hostname", "entry_hostname",
)  # fmt: skip
_SCRIPT = """
local timeout = tonumber(ARGV[1])
local events = cjson.decode(ARGV[3])
local answers = {}
for index, event in ipairs(events) do
  local now = event[1]
  local function live(key)
    if key == '' then return nil end
    local raw = redis.call('GET', key)
    if not raw then return nil end
    local visit = cjson.decode(raw)
    if now - visit[3] <= timeout then return visit end
    return nil
  end
  local key = KEYS[2 * index]
  local visit = live(key)
  if not visit then
    visit = live(KEYS[2 * index + 1])
    if visit then key = KEYS[2 * index + 1] end
  end
  local kind = event[3]
  if not visit and kind == 'e' then
    answers[index] = {0}
  elseif not visit and event[2] ~= 1 then
    answers[index] = {-1}
  else
    local status = 1
    if not visit then
      visit = {redis.call('INCR', KEYS[1]), math.floor(now), now, event[7], event[8],
        0, 0, 0, 0, '', '', ''}
      status = 2
    end
    visit[3] = now
    if kind == 'p' then
      visit[7] = visit[7] + 1
      if visit[7] == 1 then visit[12] = event[4] end
      visit[10], visit[11] = event[5], event[4]
    elseif kind == 'c' then
      visit[8] = visit[8] + 1
      visit[9] = visit[9] + event[6]
    end
    if kind ~= 'e' and math.floor(now) > visit[6] then visit[6] = math.floor(now) end
    redis.call('SET', key, cjson.encode(visit), 'PX', ARGV[2])
    answers[index] = {status, visit}
  end
end
return cjson.encode(answers)
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
    attributes: tuple[str | int, ...]


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
        self._timeout = str(timeout_seconds)
        self._expiry_ms = str(int((timeout_seconds + 60) * 1000))
        self._sha = client.script_load(_SCRIPT)

    def key(self, site_id: int, visitor_id: int) -> str:
        return f"{self.prefix}visit:{site_id}:{visitor_id}"

    def resolve(self, asks: Sequence[VisitAsk]) -> list[VisitAnswer]:
        """Each event counted in its visit, in order, in one call; raises redis.RedisError."""
        if not asks:
            return []
        keys = [self._sequence_key]
        events = []
        for ask in asks:
            keys.append(self.key(ask.site_id, ask.visitor_id))
            previous = ask.previous_visitor_id
            keys.append(self.key(ask.site_id, previous) if previous is not None else "")
            events.append(
                (ask.now, 1 if ask.may_start else 0, ask.kind, ask.hostname, ask.pathname,
                 1 if ask.interactive else 0, ask.attributes, str(ask.visitor_id))
            )  # fmt: skip
        args = (self._timeout, self._expiry_ms, json.dumps(events))
        import redis  # loaded by redis_client() already

        try:
            reply = self.client.evalsha(self._sha, len(keys), *keys, *args)
        except redis.exceptions.NoScriptError:  # Redis restarted: load it again
            self._sha = self.client.script_load(_SCRIPT)
            reply = self.client.evalsha(self._sha, len(keys), *keys, *args)
        return [
            _answer(answer, ask.now) for answer, ask in zip(json.loads(reply), asks, strict=True)
        ]


# A visit started by a process of the version before city_geoname_id (a rolling upgrade)
# has its attributes without it: 0 there.
_CITY_ID_AT = VISIT_ATTRIBUTES.index("city_geoname_id")


def _with_city_id(attributes: list[Any]) -> tuple[str | int, ...]:
    if len(attributes) == len(VISIT_ATTRIBUTES) - 1:
        attributes = [*attributes[:_CITY_ID_AT], 0, *attributes[_CITY_ID_AT:]]
    return tuple(attributes)


def _answer(reply: list[Any], now: float) -> VisitAnswer:
    status = int(reply[0])
    if status <= 0:
        return VisitAnswer(None, refused=status)
    seq, start, _, attributes, visitor, last, pageviews, custom, interactive, *pages = reply[1]
    exit_page, hostname, entry_hostname = pages
    start_second = int(start)
    visit = VisitState(
        session_id_at(start_second, int(seq)),
        int(visitor),
        now,
        _with_city_id(attributes),
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


Resolved = Callable[[list[VisitAnswer] | BaseException], None]


def open_shared_visits(url: str, timeout_seconds: float, prefix: str) -> VisitBatcher:
    """The shared mode's visits; a ConfigError naming the setting when Redis cannot be
    reached at start."""
    import redis

    try:
        return VisitBatcher(SharedVisits(redis_client(url), timeout_seconds, prefix))
    except redis.RedisError as exc:
        raise ConfigError(f"JETRACK_REDIS_URL: cannot use Redis: {exc}") from None


class VisitBatcher:
    """The asks of the event loop's requests, a batch at a time, to Redis from a thread of
    its own: while one batch is in Redis, the loop goes on reading requests, whose asks
    make the next batch (like the journal's group commit). `then(answers)`, or
    `then(error)`, is called on the loop."""

    def __init__(self, visits: SharedVisits) -> None:
        self.visits = visits
        self._waiting: list[tuple[list[VisitAsk], Resolved]] = []
        self._in_flight = False
        self._thread = concurrent.futures.ThreadPoolExecutor(1, "jetrack-visits")
        self.round_trips = 0

    def submit(self, asks: list[VisitAsk], then: Resolved) -> None:
        self._waiting.append((asks, then))
        if not self._in_flight and len(self._waiting) == 1:
            asyncio.get_running_loop().call_soon(self._send)

    def _send(self) -> None:
        if self._in_flight or not self._waiting:
            return
        waiting, self._waiting = self._waiting, []
        self._in_flight = True
        loop = asyncio.get_running_loop()
        flat = [ask for asks, _ in waiting for ask in asks]
        future = loop.run_in_executor(self._thread, self.visits.resolve, flat)
        future.add_done_callback(lambda done: self._answer(waiting, done))

    def _answer(
        self,
        waiting: list[tuple[list[VisitAsk], Resolved]],
        done: asyncio.Future[list[VisitAnswer]],
    ) -> None:
        self._in_flight = False
        self.round_trips += 1
        answers: list[VisitAnswer] | BaseException
        error = done.exception()
        if error is not None:
            log.error("shared visits: Redis failed: %s", type(error).__name__)
            answers = error
        else:
            answers = done.result()
        at = 0
        for asks, then in waiting:
            try:
                then(
                    answers if isinstance(answers, BaseException) else answers[at : at + len(asks)]
                )
            except Exception as exc:  # one failed answer must not keep the others waiting
                log.error("answering a request failed: %s", type(exc).__name__)
            at += len(asks)
        self._send()  # what arrived meanwhile

    def close(self) -> None:
        self._thread.shutdown(wait=True)
