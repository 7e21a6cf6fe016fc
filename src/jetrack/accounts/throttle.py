"""Log-in throttling per account and per client, held in process memory only.

Client addresses live here for the throttle window and are never written or logged.
"""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass, field


@dataclass
class LoginThrottle:
    max_per_account: int = 10
    max_per_client: int = 50
    window_seconds: float = 15 * 60
    _accounts: dict[str, deque[float]] = field(default_factory=dict)
    _clients: dict[str, deque[float]] = field(default_factory=dict)
    _last_sweep: float = 0.0

    def _recent(self, table: dict[str, deque[float]], key: str, now: float) -> deque[float]:
        times = table.get(key)
        if times is None:
            return deque()
        while times and times[0] <= now - self.window_seconds:
            times.popleft()
        if not times:
            del table[key]
        return times

    def _sweep(self, now: float) -> None:
        if now - self._last_sweep < 60:
            return
        self._last_sweep = now
        for table in (self._accounts, self._clients):
            for key in list(table):
                self._recent(table, key, now)

    def retry_after(self, account: str, client: str | None) -> int:
        """Seconds until another attempt is allowed; 0 when it is allowed now."""
        now = time.monotonic()
        self._sweep(now)
        waits = [0.0]
        account_times = self._recent(self._accounts, account.strip().lower(), now)
        if len(account_times) >= self.max_per_account:
            waits.append(account_times[0] + self.window_seconds - now)
        if client:
            client_times = self._recent(self._clients, client, now)
            if len(client_times) >= self.max_per_client:
                waits.append(client_times[0] + self.window_seconds - now)
        return int(max(waits) + 0.999)

    def failed(self, account: str, client: str | None) -> None:
        now = time.monotonic()
        self._accounts.setdefault(account.strip().lower(), deque()).append(now)
        if client:
            self._clients.setdefault(client, deque()).append(now)

    def succeeded(self, account: str) -> None:
        self._accounts.pop(account.strip().lower(), None)
