"""Is a site's silence well outside its normal gaps? The tracking-stopped alert's rule,
pure: hours with events in, a verdict out (docs/reports.md explains it).

The rule compares the silence with the silences that followed the same hour of the week in
the weeks before: a shop that is quiet every night, or a business site that is quiet every
weekend, is not alerted then; the same site silent on a Tuesday morning is, within hours.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import pairwise

HISTORY = timedelta(days=28)
WEEK = timedelta(days=7)
HOUR = timedelta(hours=1)
# A site "usually receives events" when it had some on at least this many of the 28 days.
MIN_ACTIVE_DAYS = 14
# Never alert before this much silence, however busy the site.
FLOOR_HOURS = 2
# How far past the longest silence seen at this time of the week: a quarter more, plus
# the floor.
MARGIN = 1.25
# Silences that began this close to the same hour of the week count as "seen then": a
# site's evening lull starts a little earlier or later each day.
NEAR = timedelta(hours=6)


@dataclass(frozen=True, slots=True)
class Verdict:
    """What the rule found for one site at `now`."""

    usual: bool  # the site usually receives events (else it is never alerted)
    silent_hours: int  # whole hours since the hour of the last event ended
    normal_hours: int  # the longest silence seen near this hour of the week, weeks before
    threshold_hours: int  # alert once silent_hours reaches this

    @property
    def alert(self) -> bool:
        return self.usual and self.silent_hours >= self.threshold_hours


def gaps(hours: Sequence[datetime]) -> list[tuple[datetime, int]]:
    """Each silence between two active hours: (its first silent hour, whole hours)."""
    return [
        (earlier + HOUR, int((later - earlier) / HOUR) - 1)
        for earlier, later in pairwise(hours)
        if later - earlier > HOUR
    ]


def normal_silence(hours: Sequence[datetime], last: datetime, since: datetime) -> int | None:
    """The longest silence that began within NEAR of `last`'s hour of the week, in the weeks
    before (from `since`); None when the history holds no such week."""
    found = None
    silences = gaps(hours)
    for k in range(1, 5):
        reference = last - k * WEEK
        if reference - NEAR < since:
            break
        near = [length for start, length in silences if abs(start - reference - HOUR) <= NEAR]
        found = max([found or 0, *near])
    return found


def judge(hours: Sequence[datetime], now: datetime) -> Verdict | None:
    """The verdict for a site whose active hours (UTC hour starts, oldest first) over the
    HISTORY before `now` are `hours`; None when it had no event in that time."""
    since = now - HISTORY
    window = [hour for hour in hours if since <= hour <= now]
    if not window:
        return None
    last = window[-1]
    silent = max(0, int((now - last - HOUR) / HOUR))
    active_days = len({hour.date() for hour in window})
    normal = normal_silence(window, last, since)
    threshold = math.ceil((normal or 0) * MARGIN) + FLOOR_HOURS
    usual = active_days >= MIN_ACTIVE_DAYS and normal is not None
    return Verdict(usual, silent, normal or 0, threshold)
