"""The sites overview: each site's visitors over the last 24 hours or 7 days, by hour or by
day in the site's time zone, and over the period before, for all sites in one statement."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from jetrack.stats.dates import local_midnight_utc, local_today
from jetrack.store.events import EventStore

Period = Literal["24h", "7d"]
PERIODS: tuple[Period, ...] = ("24h", "7d")
# Events are first grouped by site and quarter hour: every time zone in use today is a
# whole number of quarter hours from UTC, so a local hour or midnight starts a quarter.
SLOT_SECONDS = 900


@dataclass(frozen=True, slots=True)
class Windows:
    """Where one site's buckets start (UTC seconds, oldest first), where its previous period
    starts, and the cut: the previous period ends one period length before now."""

    starts: tuple[int, ...]
    previous_start: int


@dataclass(frozen=True, slots=True)
class SiteTrend:
    """Visitors of one site: per bucket (oldest first), in the period and in the one before."""

    series: tuple[int, ...]
    visitors: int
    previous: int

    @property
    def change(self) -> int | None:
        """Percent change against the previous period; None when it had no visitors."""
        if self.previous == 0:
            return None
        return round((self.visitors - self.previous) * 100 / self.previous)


def period_length(period: Period) -> timedelta:
    return timedelta(hours=24) if period == "24h" else timedelta(days=7)


def windows(timezone: str, period: Period, now: datetime) -> Windows:
    """The buckets of a site in `timezone`: 24 local hours ending with the current one, or
    7 local days ending today (a DST day has 23 or 25 hours)."""
    zone = ZoneInfo(timezone)
    if period == "24h":
        hour = now.astimezone(zone).replace(minute=0, second=0, microsecond=0).astimezone(UTC)
        first = hour - timedelta(hours=23)
        starts = tuple(int((first + timedelta(hours=k)).timestamp()) for k in range(24))
        return Windows(starts, starts[0] - 24 * 3600)
    today = local_today(timezone, now)
    days = [today - timedelta(days=k) for k in range(6, -1, -1)]
    starts = tuple(int(local_midnight_utc(day, timezone).timestamp()) for day in days)
    previous = local_midnight_utc(days[0] - timedelta(days=7), timezone)
    return Windows(starts, int(previous.timestamp()))


def _statement(buckets: int) -> str:
    series = ", ".join(f"uniqMergeIf(s, k = {k})" for k in range(1, buckets + 1))
    # Inner: each site's quarter hours since the earliest previous period, split at the cut
    # (the end of the previous periods, the same instant for every site). Outer: the site's
    # buckets and periods from its own window starts, looked up by position.
    return f"""
    SELECT site_id, [{series}] AS series, uniqMergeIf(s, k > 0) AS visitors,
      uniqMergeIf(s, slot >= {{previous_starts:Array(UInt32)}}[i] AND NOT late) AS previous
    FROM (
      SELECT site_id, s, late, slot,
        transform(site_id, {{ids:Array(UInt32)}}, {{positions:Array(UInt32)}}, 0) AS i,
        arrayCount(x -> x <= slot, {{starts:Array(Array(UInt32))}}[i]) AS k
      FROM (
        SELECT site_id, toUInt32(toStartOfInterval(timestamp, INTERVAL {SLOT_SECONDS} SECOND))
            AS slot, timestamp >= toDateTime({{cut:UInt32}}, 'UTC') AS late,
          uniqState(visitor_id) AS s
        FROM events
        WHERE site_id IN {{ids:Array(UInt32)}} AND name != 'engagement'
          AND timestamp >= toDateTime({{since:UInt32}}, 'UTC')
          AND timestamp <= toDateTime({{until:UInt32}}, 'UTC')
        GROUP BY site_id, slot, late
      )
    )
    GROUP BY site_id"""


def site_trends(
    events: EventStore, sites: Sequence[tuple[int, str]], period: Period, now: datetime
) -> dict[int, SiteTrend]:
    """Trends of `sites` ((id, time zone) pairs) in one statement, whatever their number."""
    if not sites:
        return {}
    plans = {site_id: windows(timezone, period, now) for site_id, timezone in sites}
    ids = list(plans)
    buckets = len(next(iter(plans.values())).starts)
    params = {
        "ids": ids,
        "positions": list(range(1, len(ids) + 1)),
        "starts": [list(plans[i].starts) for i in ids],
        "previous_starts": [plans[i].previous_start for i in ids],
        "cut": int((now - period_length(period)).timestamp()),
        "since": min(plan.previous_start for plan in plans.values()),
        "until": int(now.timestamp()),
    }
    found = events.query(_statement(buckets), params)
    empty = SiteTrend((0,) * buckets, 0, 0)
    trends = dict.fromkeys(ids, empty)
    for site_id, series, visitors, previous in found.rows:
        trends[int(site_id)] = SiteTrend(
            tuple(int(v) for v in series), int(visitors), int(previous)
        )
    return trends


__all__ = ["PERIODS", "Period", "SiteTrend", "Windows", "period_length", "site_trends", "windows"]
