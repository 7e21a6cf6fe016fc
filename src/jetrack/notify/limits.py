"""How many account mails may go out per recipient, per asking account and per client.

Sliding one-hour windows (`jetrack.rate_limits.SlidingWindows`) in process memory only: client addresses live here for the
window and are never written or logged. A refused mail is refused the same way whether
or not the recipient has an account, so a limit tells nothing about who has one.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from jetrack.i18n.catalogs import ngettext
from jetrack.rate_limits import SlidingWindows

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


class MailLimiter:
    """The mail limits of LIMITS, one `SlidingWindows` table per kind of key."""

    def __init__(
        self,
        window: float = WINDOW_SECONDS,
        limits: dict[str, int] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.tables: dict[str, SlidingWindows[str]] = {
            kind: SlidingWindows(limit, window, clock) for kind, limit in (limits or LIMITS).items()
        }

    def retry_after(self, keys: Iterable[MailKey]) -> int:
        """Whole seconds until a mail for all of `keys` may go; 0 when it may now."""
        waits = [self.tables[key.kind].wait(key.value) for key in keys]
        return math.ceil(max(waits, default=0.0))

    def sent(self, keys: Iterable[MailKey]) -> None:
        """Count a mail asked for `keys` (whether or not it went out)."""
        for key in keys:
            self.tables[key.kind].record(key.value)


def refusal(seconds: int) -> str:
    """The refusal in the request's language (the pages that ask for mails show it)."""
    minutes = max(1, round(seconds / 60))
    return ngettext(
        "Too many mails were asked for this address or from your network. Try again in {n} minute.",
        "Too many mails were asked for this address or from your network."
        " Try again in {n} minutes.",
        minutes,
    )
