"""Spam resistance for public forms without a third-party captcha: a honeypot field, a
signed start time (too fast means a bot), and in-memory throttles per client and per email.

Client addresses live only in this process's memory for the throttle window."""

from __future__ import annotations

import hashlib
import hmac
import time
from collections import deque
from dataclasses import dataclass, field

HONEYPOT_FIELD = "website"
STARTED_FIELD = "started"
MIN_FILL_SECONDS = 3.0
MAX_FORM_AGE_SECONDS = 24 * 3600


def sign_start(key: bytes, now: float | None = None) -> str:
    moment = str(int(now if now is not None else time.time()))
    signature = hmac.new(key, moment.encode(), hashlib.sha256).hexdigest()[:32]
    return f"{moment}.{signature}"


def looks_automated(key: bytes, honeypot: str, started: str, now: float | None = None) -> bool:
    """True for a filled honeypot, a missing or forged start stamp, or a form sent faster
    than a person could type it (or older than a day)."""
    if honeypot:
        return True
    moment, _, signature = started.partition(".")
    if not moment.isdigit() or len(moment) > 12:
        return True
    expected = hmac.new(key, moment.encode(), hashlib.sha256).hexdigest()[:32]
    if not hmac.compare_digest(signature, expected):
        return True
    age = (now if now is not None else time.time()) - int(moment)
    return not MIN_FILL_SECONDS <= age <= MAX_FORM_AGE_SECONDS


@dataclass
class FormThrottle:
    """At most `per_client` submissions per client and `per_email` per address per window,
    and `overall` in total (a flood from many addresses still stops)."""

    per_client: int = 5
    per_email: int = 3
    overall: int = 200
    window_seconds: float = 3600.0
    _seen: dict[str, deque[float]] = field(default_factory=dict)

    def _recent(self, key: str, now: float) -> deque[float]:
        times = self._seen.setdefault(key, deque())
        while times and times[0] <= now - self.window_seconds:
            times.popleft()
        return times

    def allow(self, client: str | None, email: str) -> bool:
        """Record a submission; False when one of the limits is reached."""
        now = time.monotonic()
        if len(self._seen) > 10_000:  # forget idle keys so memory stays bounded
            for key in [
                k for k, v in self._seen.items() if not v or v[-1] <= now - self.window_seconds
            ]:
                del self._seen[key]
        keys = [("all", self.overall), (f"email:{email.strip().lower()}", self.per_email)]
        if client:
            keys.append((f"client:{client}", self.per_client))
        if any(len(self._recent(key, now)) >= limit for key, limit in keys):
            return False
        for key, _ in keys:
            self._seen[key].append(now)
        return True
