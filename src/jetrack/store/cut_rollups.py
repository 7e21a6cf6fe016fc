"""Rollup rows of the visits of a UTC day cut at a site-local midnight (visit_rollups,
built with the day by jetrack.store.rollups.build_rollups for sites in a zone off UTC).

A range of site-local days [local midnight, local midnight) is whole UTC days and two
partial ones. The whole days come from the daily rows; the partial ones from these rows,
cut where the range starts or ends, so no table is read. They add up for the same reason
as the daily rows: a visitor id is one UTC day's, and each row holds one day's visits.
The hour rows (FROM_HOUR, BEFORE_HOUR) give the events' figures of the partial days.

A site that changes its zone has rows cut at the old midnights: its ranges find none cut
at the new ones and read the tables for their partial days (the same answers), until the
hourly job builds its recent days again (days_to_cut). A day that ends a local day is cut
when the UTC day is rolled up (over and settled): no local-day bookkeeping is needed."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from jetrack.store.events import EventStore
from jetrack.store.schema import ROLLED_COLUMNS, ROLLUP_COLUMNS

# Rows of the visits of a day cut at a site-local midnight (`cut`: seconds after the UTC
# day's midnight, a whole number of hours), for a site whose zone is off UTC: a range of
# local days then reads them for its two partial UTC days instead of the tables. Columns
# f"{PREFIX}{cut}:{column}", each written for the columns the day has rows of:
# FROM_CUT, the visits with an event at or after the cut (a range that starts there);
# BEFORE_CUT, those that started before it (a range that ends there); PAST_CUT, with the
# next day's cut, those that started at or after it and went on past the next day's cut
# (a range that starts at the next day's cut counts them: it reads visits that started up
# to a day before it). CUTS marks a site-day built with them: value f"from:{cut}" (also:
# its hour rows count pageviews and events) and f"past:{next day's cut}".
FROM_CUT = "from@"
BEFORE_CUT = "before@"
PAST_CUT = "past@"
CUTS = "@cuts"

_INSERT = f"INSERT INTO visit_rollups ({', '.join(ROLLUP_COLUMNS)})"

# The row's site's cut (0: none), and the next day's.
_CUT_OF = "arrayElement({cuts:Array(UInt32)}, indexOf({cut_sites:Array(UInt32)}, site_id))"
_NEXT_OF = "arrayElement({next_cuts:Array(UInt32)}, indexOf({next_sites:Array(UInt32)}, site_id))"


def day_cut(zone: str, day: date) -> int | None:
    """Where UTC day `day` is cut by a midnight of `zone` (its last one that day), in seconds
    after the day's UTC midnight, when it is a whole number of hours past it (else None:
    the site's days are the UTC days, or not cut on the hour)."""
    if zone == "UTC":
        return None
    tz = ZoneInfo(zone)
    late = datetime.combine(day, time(23, 59, 59), UTC).astimezone(tz)
    local = datetime.combine(late.date(), time(), tz).astimezone(UTC)
    seconds = int((local - datetime.combine(day, time(), UTC)).total_seconds())
    return seconds if 0 < seconds < 86400 and seconds % 3600 == 0 else None


def site_cuts(zones: Mapping[int, str], day: date) -> dict[int, int]:
    """The cut of `day` (day_cut) of each site (site id -> its zone) that has one."""
    cuts = {site: day_cut(zone, day) for site, zone in zones.items()}
    return {site: cut for site, cut in cuts.items() if cut is not None}


def _cut_pairs(prefix: str, cut: str = "cut") -> str:
    """SQL array of (column name, value, the day's column) of a sessions row, the names
    f"{prefix}{cut}:{column}" (`cut`: the column of the SELECT that holds the row's cut)."""
    named = [("", "''"), *((c, c) for c in ROLLED_COLUMNS)]
    return (
        "["
        + ", ".join(f"(concat('{prefix}', toString({cut}), ':{c}'), {v}, '{c}')" for c, v in named)
        + "]"
    )


def build_cut_rows(
    events: EventStore,
    day: date,
    params: dict[str, object],
    zones: Mapping[int, str],
    scope: str,
    sites: str,
    daily: str,
) -> None:
    """The rows of `day` cut at its sites' local midnights (FROM_CUT, BEFORE_CUT, PAST_CUT)
    for the columns the day has rows of in this build (its rows of all visits, column '',
    are written after these: mark_cut_rows follows them)."""
    at = _cut_params(zones, day)
    if at is None:
        return
    first = "{first:DateTime('UTC')}"
    pieces = (
        "arrayConcat("
        f"if(cut > 0 AND timestamp >= {first} + cut, {_cut_pairs(FROM_CUT)}, []),"
        f" if(cut > 0 AND start < {first} + cut, {_cut_pairs(BEFORE_CUT)}, []),"
        f" if(next_cut > 0 AND start >= {first} + next_cut"
        f" AND timestamp >= {{next:DateTime('UTC')}} + next_cut,"
        f" {_cut_pairs(PAST_CUT, 'next_cut')}, []))"
    )
    kept = (
        "(pair.3 = '' OR (site_id, pair.3) IN (SELECT site_id, column FROM visit_rollups"
        " WHERE day = {day:Date} AND built_at = {built:DateTime('UTC')}))"
    )
    rows = (
        "SELECT site_id, visitor_id, start, timestamp, is_bounce, pageviews, duration,"
        f" {', '.join(ROLLED_COLUMNS)}, {_CUT_OF} AS cut, {_NEXT_OF} AS next_cut FROM sessions FINAL"
        f" WHERE {scope}{sites} AND {daily}"
        " AND (has({cut_sites:Array(UInt32)}, site_id) OR has({next_sites:Array(UInt32)}, site_id))"
    )
    events.command(
        f"{_INSERT} SELECT site_id, {{day:Date}}, pair.1, pair.2, uniqExact(visitor_id), count(),"
        " sum(is_bounce), sum(pageviews), sum(duration), 0, 0, 0, 0, {built:DateTime('UTC')}"
        f" FROM ({rows}) ARRAY JOIN {pieces} AS pair WHERE {kept}"
        " GROUP BY site_id, pair.1, pair.2",
        params | at,
    )


def mark_cut_rows(
    events: EventStore, day: date, params: dict[str, object], zones: Mapping[int, str]
) -> None:
    """The CUTS marks of `day`'s sites with rows cut (build_cut_rows), of the sites whose
    rows of all visits this build wrote: written after them and after every row they vouch
    for, so a build that failed before leaves the day's cut rows unread."""
    at = _cut_params(zones, day)
    if at is None:
        return
    marks = (
        f"arrayConcat(if({_CUT_OF} > 0, [concat('from:', toString({_CUT_OF}))], []),"
        f" if({_NEXT_OF} > 0, [concat('past:', toString({_NEXT_OF}))], []))"
    )
    events.command(
        f"{_INSERT} SELECT site_id, day, '{CUTS}', mark, 0, 0, 0, 0, 0, 0, 0, 0, 0,"
        " {built:DateTime('UTC')} FROM visit_rollups ARRAY JOIN "
        f"{marks} AS mark WHERE day = {{day:Date}} AND column = ''"
        " AND built_at = {built:DateTime('UTC')}",
        params | at,
    )


def _cut_params(zones: Mapping[int, str], day: date) -> dict[str, object] | None:
    """Bind parameters of the cuts of `day` and the next day (None: no site is cut)."""
    cuts = site_cuts(zones, day)
    next_cuts = site_cuts(zones, day + timedelta(days=1))
    if not cuts and not next_cuts:
        return None
    return {
        "cut_sites": sorted(cuts), "cuts": [cuts[s] for s in sorted(cuts)],
        "next_sites": sorted(next_cuts), "next_cuts": [next_cuts[s] for s in sorted(next_cuts)],
        "day": day.isoformat(),
    }  # fmt: skip


def days_to_cut(
    events: EventStore, zones: Mapping[int, str], now: datetime, days: int
) -> list[tuple[date, list[int]]]:
    """Rolled-up days of the last `days` whose rows of sites of `zones` (site id ->
    time zone) lack the cuts of the site's zone (a site whose zone changed, a day built
    again without zones): (day, those sites), newest first."""
    cut_sites = {site: zone for site, zone in zones.items() if zone != "UTC"}
    if not cut_sites:
        return []
    result = events.query(
        f"SELECT site_id, day, groupArrayIf(value, column = '{CUTS}') FROM visit_rollups FINAL"
        " WHERE site_id IN {sites:Array(UInt32)} AND day >= {since:Date}"
        f" AND column IN ('', '{CUTS}') GROUP BY site_id, day"
        f" HAVING countIf(column = '') > 0",
        {
            "sites": sorted(cut_sites),
            "since": (now - timedelta(days=days)).date().isoformat(),
        },
    )
    due: dict[date, list[int]] = {}
    for site, value, marks in result.rows:
        day = value if isinstance(value, date) else date.fromisoformat(str(value)[:10])
        cut, next_cut = (day_cut(cut_sites[int(site)], d) for d in (day, day + timedelta(days=1)))
        wanted = {f"from:{cut}"} if cut is not None else set()
        wanted |= {f"past:{next_cut}"} if next_cut is not None else set()
        if not wanted <= set(marks):
            due.setdefault(day, []).append(int(site))
    return sorted(((day, sorted(sites)) for day, sites in due.items()), reverse=True)
