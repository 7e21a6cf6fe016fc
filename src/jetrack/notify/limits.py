"""How many account mails may go out per recipient, per asking account and per client.

Sliding one-hour windows in process memory only: client addresses live here for the
window and are never written or logged. A refused mail is refused the same way whether
or not the recipient has an account, so a limit tells nothing about who has one.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

WINDOW_SECONDS = 60 * 60
# Mails (sign-up confirmations, "account exists" notices, resets, invitations, email
# changes) to one address per hour: enough for a person retrying, too few to flood.
MAILS_PER_RECIPIENT = 5
# Invitations and email changes one signed-in account may send per hour.
MAILS_PER_ACCOUNT = 30
# Mails one client address may cause per hour, across recipients and accounts.
MAILS_PER_CLIENT = 20

LIMITS = {
    "recipient": MAILS_PER_RECIPIENT,
    "account": MAILS_PER_ACCOUNT,
    "client": MAILS_PER_CLIENT,
}


@dataclass(frozen=True)
class MailKey:
    kind: str  # one of LIMITS
    value: str


def mail_keys(
    recipient: str | None = None, account: int | None = None, client: str | None = None
) -> list[MailKey]:
    keys = []
    if recipient:
        keys.append(MailKey("recipient", recipient.strip().lower()))
    if account is not None:
        keys.append(MailKey("account", str(account)))
    if client:
        keys.append(MailKey("client", client))
    return keys


@dataclass
class MailLimiter:
    window: float = WINDOW_SECONDS
    limits: dict[str, int] = field(default_factory=lambda: dict(LIMITS))
    clock: Callable[[], float] = time.monotonic
    _sent: dict[MailKey, deque[float]] = field(default_factory=dict)
    _last_sweep: float = 0.0

    def _recent(self, key: MailKey, now: float) -> deque[float]:
        times = self._sent.get(key, deque())
        while times and times[0] <= now - self.window:
            times.popleft()
        if not times:
            self._sent.pop(key, None)
        return times

    def _sweep(self, now: float) -> None:
        if now - self._last_sweep < 60:
            return
        self._last_sweep = now
        for key in list(self._sent):
            self._recent(key, now)

    def retry_after(self, keys: Iterable[MailKey]) -> int:
        """Whole seconds until a mail for all of `keys` may go; 0 when it may now."""
        now = self.clock()
        self._sweep(now)
        waits = [0.0]
        for key in keys:
            times = self._recent(key, now)
            if len(times) >= self.limits[key.kind]:
                waits.append(times[0] + self.window - now)
        return int(max(waits) + 0.999)

    def sent(self, keys: Iterable[MailKey]) -> None:
        now = self.clock()
        for key in keys:
            self._sent.setdefault(key, deque()).append(now)


def refusal(seconds: int) -> str:
    minutes = max(1, round(seconds / 60))
    return (
        "Too many mails were asked for this address or from your network. "
        f"Try again in {minutes} minutes."
    )
