"""Budgets per client address and minute: how much one address may make the server do.

Counts live in memory only (`jetrack.rate_limits.FixedWindows`, clock minutes), keyed by
the address as a number (an IPv6 address by its /64, the block one subscriber gets). The
table is bounded: once it holds `max_addresses` addresses in a minute, a new one makes
room by forgetting the oldest address still under its limit, never one that reached it;
and when every counted address has reached it, further ones are not counted (not
limited) until the next minute. Sharing one budget instead would let a flood from many
addresses lock out every other new address (measured: 127,302 events of new visitors
dropped in a 120 s flood of 5,400 new addresses a second); what bounds memory under such a
flood is the live visit table's own bound."""

from __future__ import annotations

from jetrack.ingest.client_ip import ClientAddress
from jetrack.rate_limits import MAX_KEYS, FixedWindows

WINDOW_SECONDS = 60
MAX_ADDRESSES = MAX_KEYS
_NO_ADDRESS = -1  # requests without a client address share one budget


class AddressBudget:
    """At most `limit` units per address per clock minute (a fixed window: cheap, and a
    burst across a minute's edge can reach twice the limit)."""

    def __init__(self, limit: int, max_addresses: int = MAX_ADDRESSES) -> None:
        self.limit = limit
        self._windows: FixedWindows[int] = FixedWindows(limit, WINDOW_SECONDS, max_addresses)

    def take(self, address: ClientAddress | None, units: int, now: float) -> bool:
        """Spend `units` of the address's budget for this minute; False (and nothing
        spent) when that would exceed it."""
        return self._windows.take(_key(address), units, now)

    def has_room(self, address: ClientAddress | None, units: int, now: float) -> bool:
        """Whether `take` would allow `units` now (nothing spent)."""
        return self._windows.has_room(_key(address), units, now)

    def retry_after(self, now: float) -> int:
        """Whole seconds until the next minute's budget."""
        return self._windows.retry_after(now)

    def __len__(self) -> int:
        return len(self._windows)


def _key(address: ClientAddress | None) -> int:
    if address is None:
        return _NO_ADDRESS
    if address.version == 4:
        return address.value
    return (address.value >> 64) | (1 << 64)  # above every IPv4 value
