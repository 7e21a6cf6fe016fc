"""Visits: events of one visitor on one site belong to one session until 30 idle minutes.

The attributes of a visit (source, campaign, entry page, place, device) are fixed by its
first event and copied onto every later one, so visit filters need no join. State lives
in memory; expired visits are swept regularly."""

from __future__ import annotations

import secrets
from dataclasses import dataclass


@dataclass
class VisitState:
    session_id: int
    visitor_id: int
    last_seen: float
    attributes: tuple[str, ...]


class SessionTable:
    def __init__(self, timeout_seconds: float) -> None:
        self.timeout = timeout_seconds
        self._visits: dict[tuple[int, int], VisitState] = {}

    def __len__(self) -> int:
        return len(self._visits)

    def find(self, site_id: int, visitor_ids: tuple[int, ...], now: float) -> VisitState | None:
        """The live visit under any of the ids (today's first, then yesterday's salt)."""
        for visitor in visitor_ids:
            visit = self._visits.get((site_id, visitor))
            if visit is not None and now - visit.last_seen <= self.timeout:
                return visit
        return None

    def start(
        self, site_id: int, visitor_id: int, now: float, attributes: tuple[str, ...]
    ) -> VisitState:
        visit = VisitState(secrets.randbits(63), visitor_id, now, attributes)
        self._visits[(site_id, visitor_id)] = visit
        return visit

    def sweep(self, now: float) -> int:
        """Forget visits idle longer than the timeout; returns how many."""
        expired = [
            key for key, visit in self._visits.items() if now - visit.last_seen > self.timeout
        ]
        for key in expired:
            del self._visits[key]
        return len(expired)
