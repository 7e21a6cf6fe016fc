"""Password and code throttling: progressive delays per (target, client), per target and per
client, held in process memory only.

No hard lock: after a few free failures the next attempt of the same pair waits 2^k
seconds (capped), so a guesser slows down without locking the real owner out. The delay
every client sees on one target is capped low (a short wait, not a lock-out) unless the
throttle guards something only the owner reaches anyway (the second factor). A client
over its own budget across targets waits as well.

Client addresses live here for the throttle window and are never written or logged.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

MINUTE = 60.0
K = TypeVar("K")


@dataclass
class _Failures:
    count: int = 0
    last: float = 0.0


@dataclass(frozen=True)
class Budget:
    """`free` failures pass without delay; the next waits 1, 2, 4, ... seconds, at most `cap`."""

    free: int
    cap: float

    def wait(self, failures: _Failures | None, now: float) -> float:
        if failures is None or failures.count < self.free:
            return 0.0
        delay = min(2.0 ** min(failures.count - self.free, 30), self.cap)
        return max(0.0, failures.last + delay - now)


@dataclass
class LoginThrottle:
    """`target` is what is guessed at (an account's email, a shared link's slug)."""

    per_pair: Budget = Budget(free=5, cap=15 * MINUTE)
    per_target: Budget = Budget(free=10, cap=30)
    per_client: Budget = Budget(free=50, cap=15 * MINUTE)
    forget_after: float = 60 * MINUTE
    clock: Callable[[], float] = time.monotonic
    _pairs: dict[tuple[str, str], _Failures] = field(default_factory=dict)
    _targets: dict[str, _Failures] = field(default_factory=dict)
    _clients: dict[str, _Failures] = field(default_factory=dict)
    _last_sweep: float = 0.0

    def _sweep(self, now: float) -> None:
        if now - self._last_sweep < MINUTE:
            return
        self._last_sweep = now
        _forget(self._pairs, now - self.forget_after)
        _forget(self._targets, now - self.forget_after)
        _forget(self._clients, now - self.forget_after)

    def retry_after(self, target: str, client: str | None) -> int:
        """Whole seconds until the next attempt is allowed; 0 when it is allowed now."""
        now = self.clock()
        self._sweep(now)
        target = target.strip().lower()
        waits = [self.per_target.wait(self._targets.get(target), now)]
        if client:
            waits.append(self.per_pair.wait(self._pairs.get((target, client)), now))
            waits.append(self.per_client.wait(self._clients.get(client), now))
        return int(max(waits) + 0.999)

    def failed(self, target: str, client: str | None) -> None:
        now = self.clock()
        target = target.strip().lower()
        counters = [self._targets.setdefault(target, _Failures())]
        if client:
            counters.append(self._pairs.setdefault((target, client), _Failures()))
            counters.append(self._clients.setdefault(client, _Failures()))
        for counter in counters:
            counter.count += 1
            counter.last = now

    def succeeded(self, target: str, client: str | None = None) -> None:
        """The right secret: the target's and this pair's failures are forgiven (the
        client's own budget is not: it may be guessing at other targets)."""
        target = target.strip().lower()
        self._targets.pop(target, None)
        if client:
            self._pairs.pop((target, client), None)


def _forget(table: dict[K, _Failures], before: float) -> None:
    for key in [key for key, failures in table.items() if failures.last <= before]:
        del table[key]


def second_factor_throttle(clock: Callable[[], float] = time.monotonic) -> LoginThrottle:
    """For what is asked only of someone who knows the password (second factors, re-checks
    while signed in): strangers cannot reach it, so the delay per account may grow long."""
    return LoginThrottle(per_target=Budget(free=5, cap=15 * MINUTE), clock=clock)


def wait_message(seconds: int) -> str:
    if seconds < 90:
        return f"Too many attempts. Try again in {max(1, seconds)} seconds."
    return f"Too many attempts. Try again in {round(seconds / 60)} minutes."
