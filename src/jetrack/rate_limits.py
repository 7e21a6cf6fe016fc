"""How often one key (a client address, an API key, a mail recipient) may do something:
the process's two rate-limit mechanisms, in memory, and the sliding windows several
processes share in Redis (`SharedSlidingWindows`, the shared mode).

- `FixedWindows`: at most `limit` units per key in each clock-aligned window; cheap
  enough for every event (a burst across a window's edge can reach twice the limit).
- `SlidingWindows`: at most `limit` hits per key in any `window` seconds; exact, for
  what is rare and costly (mails, API requests).

Both tables are bounded, and neither ever forgets a key that reached its limit before its
window is over: that would hand the key a fresh budget at once. Keys live here for at most
a window and are never written or logged."""

from __future__ import annotations

import itertools
import logging
import math
import secrets
import threading
import time
from collections import deque
from collections.abc import Callable, Hashable
from typing import TYPE_CHECKING, Generic, Protocol, TypeVar

if TYPE_CHECKING:
    import redis

K = TypeVar("K", bound=Hashable)
log = logging.getLogger("jetrack")

MAX_KEYS = 100_000  # ~10 MB of counts at most


class FixedWindows(Generic[K]):
    """At most `limit` units per key per window of `window_seconds`, the windows aligned
    on the clock. At most `max_keys` keys are counted: when the table is full, a new key
    makes room by forgetting the oldest key still under its limit; when every counted key
    has reached its limit, a new key is not counted (not limited) until the next window.
    Sharing one budget instead would let a flood from many keys lock out every new one."""

    def __init__(self, limit: int, window_seconds: int = 60, max_keys: int = MAX_KEYS) -> None:
        self.limit = limit
        self.window_seconds = window_seconds
        self.max_keys = max_keys
        self._window = -1
        self._open: dict[K, int] = {}  # keys under their limit, the oldest forgotten first
        self._arrivals: deque[K] = deque()  # the open keys' order (may hold stale entries)
        self._held: dict[K, int] = {}  # keys that reached their limit or were refused

    def take(self, key: K, units: int, now: float) -> bool:
        """Spend `units` of the key's budget in this window; False (and nothing spent)
        when that would go past the limit."""
        window = int(now // self.window_seconds)
        if window != self._window:
            self._window, self._open, self._held, self._arrivals = window, {}, {}, deque()
        used = self._open.get(key)
        if used is not None:
            spent = used + units
            if spent < self.limit:
                self._open[key] = spent
                return True
            del self._open[key]  # at its limit, or refused: held until the window ends
            self._held[key] = spent if spent == self.limit else used
            return spent == self.limit
        held = self._held.get(key)
        if held is not None:
            if held + units > self.limit:
                return False
            self._held[key] = held + units
            return True
        if units > self.limit:
            return False
        if not self._make_room():
            return True
        if units == self.limit:
            self._held[key] = units
        else:
            self._open[key] = units
            self._arrivals.append(key)
        return True

    def has_room(self, key: K, units: int, now: float) -> bool:
        """Whether `take` would allow `units` now (nothing spent)."""
        if int(now // self.window_seconds) != self._window:
            return units <= self.limit
        used = self._open.get(key)
        if used is None:
            used = self._held.get(key, 0)
        return used + units <= self.limit

    def _make_room(self) -> bool:
        while len(self._open) + len(self._held) >= self.max_keys:
            if not self._open:
                return False
            self._open.pop(self._arrivals.popleft(), None)
        return True

    def retry_after(self, now: float) -> int:
        """Whole seconds until the next window."""
        return max(1, math.ceil(self.window_seconds - now % self.window_seconds))

    def __len__(self) -> int:
        return len(self._open) + len(self._held)


class SlidingWindows(Generic[K]):
    """At most `limit` hits per key in any `window` seconds. Keys without a hit in the
    last window are forgotten (looked for at most once a minute); a key at its limit
    always has hits in it, so it is never forgotten early. Safe to use from threads."""

    def __init__(
        self, limit: int, window: float = 3600.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.limit = limit
        self.window = window
        self.clock = clock
        self._hits: dict[K, deque[float]] = {}
        self._lock = threading.Lock()
        self._last_sweep = -math.inf

    def _recent(self, key: K, now: float) -> deque[float] | None:
        hits = self._hits.get(key)
        if hits is None:
            return None
        while hits and hits[0] <= now - self.window:
            hits.popleft()
        if not hits:
            del self._hits[key]
            return None
        return hits

    def _sweep(self, now: float) -> None:
        if now - self._last_sweep >= 60:
            self._last_sweep = now
            for key in list(self._hits):
                self._recent(key, now)

    def wait(self, key: K) -> float:
        """Seconds until a hit of `key` would count; 0 when it would now."""
        now = self.clock()
        with self._lock:
            self._sweep(now)
            hits = self._recent(key, now)
            if hits is None or len(hits) < self.limit:
                return 0.0
            return hits[0] + self.window - now

    def record(self, key: K) -> None:
        """Count a hit of `key`, whether or not it was within the limit."""
        now = self.clock()
        with self._lock:
            self._hits.setdefault(key, deque()).append(now)

    def hit(self, key: K) -> int:
        """Count a hit if it is within the limit: 0, else the whole seconds to wait (for
        Retry-After) and nothing counted."""
        now = self.clock()
        with self._lock:
            self._sweep(now)
            hits = self._recent(key, now)
            if hits is not None and len(hits) >= self.limit:
                return max(1, math.ceil(hits[0] + self.window - now))
            self._hits.setdefault(key, deque()).append(now)
            return 0

    def __len__(self) -> int:
        return len(self._hits)


class Limiter(Protocol):
    """What a per-key limit answers: 0, or the whole seconds to wait (nothing counted)."""

    def hit(self, key: object) -> int: ...


def redis_client(url: str) -> redis.Redis:
    """A client of the shared Redis (bytes answers; a few seconds at most per call).
    redis-py is imported here, not at start: most instances have no Redis, and importing
    it costs every process (`jetrack serve`, each CLI command) ~0.1 s of CPU."""
    import redis

    return redis.Redis.from_url(url, socket_timeout=5.0, socket_connect_timeout=5.0)


# KEYS: the key's sorted set of hits. ARGV: limit, window (s), a unique member.
# Redis's clock, so processes on machines whose clocks differ count one window.
_SLIDING_SCRIPT = """
local now = redis.call('TIME')
local t = tonumber(now[1]) + tonumber(now[2]) / 1e6
local window = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', t - window)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[1]) then
  local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
  return math.max(1, math.ceil(tonumber(oldest[2]) + window - t))
end
redis.call('ZADD', KEYS[1], t, ARGV[3])
redis.call('PEXPIRE', KEYS[1], math.ceil(window * 1000))
return 0
"""


class SharedSlidingWindows:
    """`SlidingWindows.hit` counted in Redis, so a limit holds across every process: at
    most `limit` hits per key in any `window` seconds. Keys are named by `repr` (API key
    ids, never a client address) under `prefix`, and expire a window after their last hit."""

    def __init__(self, client: redis.Redis, limit: int, window: float, prefix: str) -> None:
        self.limit = limit
        self.window = window
        self.prefix = prefix
        self._script = client.register_script(_SLIDING_SCRIPT)
        self._members = itertools.count()
        self._process = secrets.token_hex(6)

    def hit(self, key: object) -> int:
        """As `SlidingWindows.hit`; while Redis cannot be reached, every hit is let through
        (logged): the API stays up, unlimited, rather than answering 500s."""
        import redis  # loaded by redis_client() already

        member = f"{self._process}:{next(self._members)}"
        try:
            wait = self._script(
                keys=[f"{self.prefix}{key!r}"], args=[self.limit, self.window, member]
            )
        except redis.RedisError as exc:
            log.error("shared rate limit: Redis failed: %s", type(exc).__name__)
            return 0
        return int(wait)
