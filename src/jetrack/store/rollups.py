"""Daily rollups of visits (the `visit_rollups` table, 0004_visit_rollups.sql).

Why they are exact: every visit of a visitor id starts on the UTC day of the salt that id
was made with (a visit that runs past midnight keeps yesterday's id; a new visit after
midnight gets today's). So the visitor ids of two days never meet, and the unique
visitors of whole days add up. A day is rolled up once it is over and its visits have
ended (`SETTLE`); before that, and for site-days whose ids are not daily (cookie mode,
ids older than 0003), queries read the sessions table."""

from __future__ import annotations

import threading
import time as clock
import weakref
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import TypeVar, cast

from jetrack.store import event_rollups
from jetrack.store.cut_rollups import CUTS, build_cut_rows, mark_cut_rows
from jetrack.store.events import EventStore
from jetrack.store.filter_rollups import (
    MIN_FILTERED_VISITS,
    build_filter_rollups,
    delete_older_builds,
    filtered_days,
    mark_filter_rollups,
)
from jetrack.store.ids import COOKIE_ID_FLAG, visit_start_sql
from jetrack.store.schema import ROLLED_COLUMNS, ROLLUP_COLUMNS

ALL = ""  # the column of a day's row over all its visits
CARRIED = ">"  # prefix of the columns of visits that went on past the day's end
# The column of a day's row whose `last_event` is the earliest start of a visit with an
# event that day (`earliest_visits`): a query's rolled-up days after the first whose events
# are all of visits that started in them are not read from the events table.
EARLIEST = "<"
# Columns of the rows of the visitors of the day's events from (before) the hour `value`.
# Rows built before a visitor counted the day before was left out of BEFORE rows were
# named from_hour/before_hour: no query reads them, and the job builds their days again.
FROM_HOUR = "hours_from"
BEFORE_HOUR = "hours_before"
DAILY_ID_LIMIT = COOKIE_ID_FLAG  # daily ids are 32-bit; cookie-mode and older ids are not
# A column is rolled up for a site-day only if its rows hold this many visits each on
# average: else (a small site's cities, say) the rows take about the room of the visits
# they replace, and its queries read the sessions table anyway in a few milliseconds.
# Measured on 10M events over 100 sites: 2.06 bytes/event with every column, 0.25 with it.
MIN_VISITS_PER_ROW = 4
# A visit that started before midnight may go on after it; a day is rolled up this long
# after it ended (visits idle for 30 minutes are over; longer ones are very rare).
SETTLE = timedelta(hours=2)
# Rolled-up days are compared with their visits this far back (a visit seldom runs longer).
REFRESH_WINDOW = timedelta(days=3)
# Days rolled up per run of the job, newest first (a first run on old data catches up).
DAYS_PER_RUN = 62


# rolled_days answers, per event store, for this long: a dashboard asks the same a dozen
# times, and a lookup costs a query (~7 ms). Building days clears it in this process; in
# another one an answer is at most this old, and a stale one is harmless (a day rolled up
# since is read from the sessions table; a day deleted since is gone from both).
LOOKUP_SECONDS = 60.0
T = TypeVar("T")
_lookups: weakref.WeakKeyDictionary[EventStore, dict[tuple[object, ...], tuple[float, object]]]
_lookups = weakref.WeakKeyDictionary()
_lookups_lock = threading.Lock()


def _remembered(events: EventStore, key: tuple[object, ...], compute: Callable[[], T]) -> T:
    """`compute()`, answered from memory for LOOKUP_SECONDS per event store and key."""
    now = clock.monotonic()
    with _lookups_lock:
        cached = _lookups.get(events, {}).get(key)
    if cached is not None and cached[0] > now:
        return cast(T, cached[1])
    answer = compute()
    with _lookups_lock:
        answers = _lookups.setdefault(events, {})
        if len(answers) >= 1000:  # keep it small: drop the expired answers
            for old in [k for k, (expires, _) in answers.items() if expires <= now]:
                del answers[old]
        answers[key] = (now + LOOKUP_SECONDS, answer)
    return answer


def _forget_lookups(events: EventStore) -> None:
    with _lookups_lock:
        _lookups.pop(events, None)


_last_stamp = 0
_stamp_lock = threading.Lock()


def _build_stamp() -> str:
    """This build's `built_at`: later than every earlier build's of this process (rows of
    a build replace those of earlier ones, and builds may come within a second)."""
    global _last_stamp
    with _stamp_lock:
        _last_stamp = max(int(clock.time()), _last_stamp + 1)
        stamp = _last_stamp
    return datetime.fromtimestamp(stamp, UTC).strftime("%Y-%m-%d %H:%M:%S")


_ALL_PAIR = f"[('{ALL}', '')]"
_INSERT = f"INSERT INTO visit_rollups ({', '.join(ROLLUP_COLUMNS)})"
# Visit ids made by ingestion hold their start second (jetrack.store.ids); page rows need
# them, to tell which day's visits an event belongs to.
_DATED_ID = f"{visit_start_sql('session_id')} = toUnixTimestamp(start)"
# Events of a visit are looked for this long after the day it started.
VISIT_SPAN = timedelta(days=3)


def _pairs(prefix: str, *, with_all: bool = True) -> str:
    """SQL array of (column name, value) of a sessions row: ALL (unless not `with_all`) and
    ROLLED_COLUMNS, their names after `prefix`."""
    pairs = [f"('{prefix}{c}', {c})" for c in ROLLED_COLUMNS]
    return "[" + ", ".join([f"('{prefix}', '')", *pairs] if with_all else pairs) + "]"


def build_rollups(
    events: EventStore,
    day: date,
    *,
    site_ids: Sequence[int] | None = None,
    zones: Mapping[int, str] | None = None,
    min_visits_per_row: int = MIN_VISITS_PER_ROW,
    min_filtered_visits: int = MIN_FILTERED_VISITS,
) -> None:
    """(Re)build the rows of `day` for every site with visits that day (or `site_ids`), in
    visit_rollups and filter_rollups (jetrack.store.filter_rollups: sites with at least
    `min_filtered_visits` visits that day); for the sites of `zones` (site id -> time
    zone) whose local midnights cut the UTC day on the hour, also its rows cut there."""
    _forget_lookups(events)
    params: dict[str, object] = {
        "previous": f"{(day - timedelta(days=1)).isoformat()} 00:00:00",
        "first": f"{day.isoformat()} 00:00:00",
        "next": f"{(day + timedelta(days=1)).isoformat()} 00:00:00",
        "span_end": f"{(day + VISIT_SPAN).isoformat()} 00:00:00",
        "limit": DAILY_ID_LIMIT,
        "visits_per_row": min_visits_per_row,
        "filtered_visits": min_filtered_visits,
        "built": _build_stamp(),
    }
    scope = "start >= {first:DateTime('UTC')} AND start < {next:DateTime('UTC')}"
    sites = ""
    if site_ids is not None:
        params["sites"] = sorted(set(site_ids))
        sites = " AND site_id IN {sites:Array(UInt32)}"
    daily = (
        f"site_id IN (SELECT site_id FROM sessions FINAL WHERE {scope}{sites}"
        " GROUP BY site_id HAVING max(visitor_id) < {limit:UInt64})"
    )

    def grouped(pairs: str) -> str:
        return (
            "SELECT site_id, toDate(start, 'UTC') AS day, pair.1 AS column, pair.2 AS value,"
            " uniqExact(visitor_id) AS visitors, count() AS visits, sum(is_bounce) AS bounces,"
            " sum(pageviews) AS pageviews, sum(duration) AS duration,"
            " maxIf(timestamp, pair.1 = '') AS last_event,"
            " count() OVER per_column AS column_rows, sum(visits) OVER per_column AS column_visits"
            f" FROM sessions FINAL ARRAY JOIN {pairs} AS pair WHERE {scope}{sites} AND {daily}"
            " GROUP BY site_id, day, column, value"
            " WINDOW per_column AS (PARTITION BY site_id, day, column)"
        )

    # The rows by column and value; the rows of all visits (ALL), the mark of a rolled-up
    # site-day (rolled_days), come after every row of the day (below).
    events.command(
        f"{_INSERT} SELECT site_id, day, column, value, visitors, visits, bounces, pageviews,"
        " duration, 0, 0, 0, last_event, {built:DateTime('UTC')}"
        f" FROM ({grouped(_pairs('', with_all=False))})"
        " WHERE column_rows * {visits_per_row:UInt32} <= column_visits",
        params,
    )
    insert_earliest(events, params | {"day": day.isoformat()}, sites, daily)
    # The day's visits that went on past midnight, per value (CARRIED + column), all of
    # them: a range that starts the next day reads them instead of the day's sessions.
    events.command(
        f"{_INSERT} SELECT site_id, toDate(start, 'UTC') AS day, pair.1, pair.2,"
        " uniqExact(visitor_id), count(), sum(is_bounce), sum(pageviews), sum(duration),"
        " 0, 0, 0, 0, {built:DateTime('UTC')}"
        f" FROM sessions FINAL ARRAY JOIN {_pairs(CARRIED)} AS pair WHERE {scope}{sites}"
        " AND timestamp >= {next:DateTime('UTC')}"
        f" AND {daily} GROUP BY site_id, day, pair.1, pair.2",
        params,
    )
    # Pages: the events of the day's visits, for sites whose visits all have dated ids
    # and ended within VISIT_SPAN.
    visits = (
        f"SELECT site_id, session_id FROM sessions FINAL WHERE {scope}{sites} AND {daily}"
        f" AND site_id IN (SELECT site_id FROM sessions FINAL WHERE {scope}{sites}"
        f" GROUP BY site_id HAVING countIf(NOT ({_DATED_ID})) = 0"
        " AND max(timestamp) < {span_end:DateTime('UTC')})"
    )
    pages = (
        "SELECT site_id, pathname AS value, uniqExact(visitor_id) AS visitors,"
        " uniqExact(session_id) AS visits, countIf(name = 'pageview') AS pageviews,"
        " count() OVER per_site AS column_rows, sum(visits) OVER per_site AS column_visits"
        " FROM events WHERE timestamp >= {first:DateTime('UTC')}"
        " AND timestamp < {span_end:DateTime('UTC')} AND name != 'engagement'"
        f" AND (site_id, session_id) IN ({visits})"
        " GROUP BY site_id, pathname WINDOW per_site AS (PARTITION BY site_id)"
    )
    events.command(
        f"{_INSERT} SELECT site_id, {{day:Date}}, 'pathname', value, visitors, visits, 0,"
        " pageviews, 0, 0, 0, 0, 0, {built:DateTime('UTC')}"
        f" FROM ({pages}) WHERE column_rows * {{visits_per_row:UInt32}} <= column_visits",
        params | {"day": day.isoformat()},
    )
    # Visitors of the day's events from each hour on (FROM_HOUR) and before each hour
    # (BEFORE_HOUR): a site-local day of a zone a whole number of hours off UTC is the end
    # of one UTC day and the start of the next. A visit that crossed midnight keeps the day
    # before's visitor id, so a visitor already counted from that hour on the day before is
    # left out of this day's BEFORE_HOUR row: the two rows of a local day add up.
    per_visitor = (
        "SELECT site_id, visitor_id,"
        " minIf(toHour(timestamp), timestamp >= {first:DateTime('UTC')}) AS first_hour,"
        " maxIf(toHour(timestamp), timestamp >= {first:DateTime('UTC')}) AS last_hour,"
        # 0: no event the day before; else the hour after its last one that day.
        " maxIf(toHour(timestamp) + 1, timestamp < {first:DateTime('UTC')}) AS before_end"
        " FROM events WHERE timestamp >= {previous:DateTime('UTC')}"
        f" AND timestamp < {{next:DateTime('UTC')}} AND name != 'engagement'{sites}"
        f" AND {daily} GROUP BY site_id, visitor_id"
        " HAVING countIf(timestamp >= {first:DateTime('UTC')}) > 0"
    )
    splits = (
        f"arrayConcat(arrayMap(h -> ('{FROM_HOUR}', h), range(24)),"
        f" arrayMap(h -> ('{BEFORE_HOUR}', h), range(1, 24)))"
    )
    counted = (
        f"if(split.1 = '{FROM_HOUR}', last_hour >= split.2,"
        " first_hour < split.2 AND before_end <= split.2)"
    )
    # Their pageviews and events too (of the day's events from/before the hour): what a
    # range of local days counts on its partial UTC days.
    hourly = (
        "SELECT site_id, groupArray((hour, views, events)) AS hours FROM (SELECT site_id,"
        " toHour(timestamp) AS hour, countIf(name = 'pageview') AS views, count() AS events"
        " FROM events WHERE timestamp >= {first:DateTime('UTC')}"
        f" AND timestamp < {{next:DateTime('UTC')}} AND name != 'engagement'{sites}"
        f" AND {daily} GROUP BY site_id, hour) GROUP BY site_id"
    )
    in_split = f"if(h.split.1 = '{FROM_HOUR}', x.1 >= h.split.2, x.1 < h.split.2)"
    events.command(
        f"{_INSERT} SELECT h.site_id, {{day:Date}}, h.split.1, toString(h.split.2), 0, 0, 0,"
        f" 0, 0, h.visitors, arraySum(arrayMap(x -> if({in_split}, x.2, 0), c.hours)),"
        f" arraySum(arrayMap(x -> if({in_split}, x.3, 0), c.hours)), 0, {{built:DateTime('UTC')}}"
        f" FROM (SELECT site_id, split, countIf({counted}) AS visitors FROM ({per_visitor})"
        f" ARRAY JOIN {splits} AS split GROUP BY site_id, split) AS h"
        f" LEFT JOIN ({hourly}) AS c ON c.site_id = h.site_id",
        params | {"day": day.isoformat()},
    )
    if zones:
        build_cut_rows(events, day, params, zones, scope, sites, daily)
    of_day = params | {"day": day.isoformat()}
    build_filter_rollups(events, of_day, scope, sites, daily, visits)
    event_rollups.build_event_rollups(events, of_day, scope, sites, daily, visits)
    events.command(
        f"{_INSERT} SELECT site_id, toDate(start, 'UTC'), '!', '', 0, 0, 0, 0, 0, 0, 0, 0, 0,"
        " {built:DateTime('UTC')} FROM sessions FINAL WHERE "
        f"{scope}{sites} GROUP BY site_id, toDate(start, 'UTC')"
        " HAVING max(visitor_id) >= {limit:UInt64}",
        params,
    )
    # The marks, each after every row it vouches for: a build that fails at any statement
    # leaves the day without them, read from the tables (exact) and built again by the job
    # (days_to_build). First the rows of all visits (ALL), with the events of the day itself
    # (the main graph's points and the totals): visit_rollups' mark of a rolled-up site-day.
    on_the_day = (
        "SELECT site_id, uniqExact(visitor_id) AS visitors, countIf(name = 'pageview') AS views,"
        " count() AS events FROM events"
        " WHERE timestamp >= {first:DateTime('UTC')} AND timestamp < {next:DateTime('UTC')}"
        f" AND name != 'engagement'{sites} GROUP BY site_id"
    )
    events.command(
        f"{_INSERT} SELECT v.site_id, v.day, v.column, v.value, v.visitors, v.visits,"
        " v.bounces, v.pageviews, v.duration, e.visitors, e.views, e.events,"
        " v.last_event, {built:DateTime('UTC')}"
        f" FROM ({grouped(_ALL_PAIR)}) AS v LEFT JOIN ({on_the_day}) AS e"
        " ON e.site_id = v.site_id",
        params,
    )
    if zones:
        mark_cut_rows(events, day, params, zones)  # after the ALL rows: it reads them
    mark_filter_rollups(events, of_day, scope, sites)
    event_rollups.mark_event_rollups(events, of_day, scope, sites, visits)
    # Rows of an earlier build that this one did not write again (a value the day no
    # longer has: a visit's exit page moved on) go; the new rows were there first, so a
    # query never finds the day without rows.
    of_sites = " AND site_id IN {sites:Array(UInt32)}" if site_ids is not None else ""
    delete_older_builds(
        events, of_day, of_sites, ("visit_rollups", "filter_rollups", event_rollups.TABLE)
    )
    _forget_lookups(events)


def insert_earliest(events: EventStore, params: dict[str, object], sites: str, daily: str) -> None:
    """The day's EARLIEST rows (build_rollups' bind parameters, `sites` and `daily`): the
    earliest start of a visit with an event that day, or the epoch when an event's visit
    id holds no start at most VISIT_SPAN before it (no rollup row counts that event)."""
    start = visit_start_sql("session_id")
    seconds = "toUnixTimestamp(timestamp)"
    own = f"{seconds} >= {start} AND {seconds} < {start} + {int(VISIT_SPAN.total_seconds())}"
    events.command(
        f"{_INSERT} SELECT site_id, {{day:Date}}, '{EARLIEST}', '', 0, 0, 0, 0, 0, 0, 0, 0,"
        f" toDateTime(min(if({own}, {start}, 0)), 'UTC'), {{built:DateTime('UTC')}}"
        " FROM events WHERE timestamp >= {first:DateTime('UTC')}"
        " AND timestamp < {next:DateTime('UTC')} AND name != 'engagement'"
        f"{sites} AND {daily} GROUP BY site_id",
        params,
    )


def days_to_build(events: EventStore, now: datetime) -> list[date]:
    """Days with visits, over and settled, not rolled up yet; newest first."""
    last = (now - SETTLE).date() - timedelta(days=1)
    result = events.query(
        "SELECT DISTINCT toDate(start, 'UTC') AS day FROM sessions"
        " WHERE start < {until:DateTime('UTC')}"
        # Days without the marks of a build (written last: a build that failed wrote none).
        f" AND (day NOT IN (SELECT DISTINCT day FROM visit_rollups WHERE column IN ('{ALL}', '!'))"
        # Days rolled up before filter_rollups existed (0006): built again, once.
        " OR day NOT IN (SELECT DISTINCT day FROM filter_rollups WHERE filter = '')"
        # Days whose hour rows have the names of before FROM_HOUR's: likewise.
        f" OR (day IN (SELECT DISTINCT day FROM visit_rollups WHERE column = '{ALL}')"
        f" AND day NOT IN (SELECT DISTINCT day FROM visit_rollups WHERE column = '{FROM_HOUR}'))"
        # ... and before event_rollups (0011), or before its PAGEVIEW keys or ON_DAY rows.
        " OR day NOT IN (SELECT DISTINCT day FROM event_rollups"
        f" WHERE filter = '{event_rollups.PAGEVIEW}' AND filter_value = '' AND column = '')"
        " OR day NOT IN (SELECT DISTINCT day FROM event_rollups"
        f" WHERE filter = '{event_rollups.ON_DAY}' AND filter_value = '' AND column = ''))"
        " ORDER BY day DESC LIMIT {n:UInt32}",
        {"until": f"{(last + timedelta(days=1)).isoformat()} 00:00:00", "n": DAYS_PER_RUN},
    )
    return [_as_date(row[0]) for row in result.rows]


def days_to_refresh(events: EventStore, now: datetime) -> list[date]:
    """Rolled-up days of the last few whose visits changed since: a visit that went on
    after the day was rolled up, events replayed late, a site's first visits that day."""
    result = events.query(
        "SELECT DISTINCT s.day FROM (SELECT site_id, toDate(start, 'UTC') AS day,"
        " max(timestamp) AS last, count() AS visits FROM sessions FINAL"
        " WHERE start >= {since:DateTime('UTC')} GROUP BY site_id, day) AS s"
        " INNER JOIN (SELECT DISTINCT day FROM visit_rollups"
        " WHERE day >= {since_day:Date}) AS built ON built.day = s.day"
        " LEFT JOIN (SELECT site_id, day, maxIf(last_event, column = '') AS last,"
        " sumIf(visits, column = '') AS visits, countIf(column = '!') AS marked"
        " FROM visit_rollups FINAL WHERE day >= {since_day:Date} GROUP BY site_id, day) AS r"
        " ON r.site_id = s.site_id AND r.day = s.day"
        " WHERE r.marked = 0 AND (r.visits != s.visits OR r.last != s.last) ORDER BY s.day",
        {
            "since": (now - REFRESH_WINDOW).strftime("%Y-%m-%d 00:00:00"),
            "since_day": (now - REFRESH_WINDOW).date().isoformat(),
        },
    )
    return [_as_date(row[0]) for row in result.rows]


def days_due(events: EventStore, now: datetime) -> list[date]:
    """The days to roll up now, latest first: those over and not rolled up yet, and the
    recent ones whose visits changed since (the hourly job, jetrack.jobs.rollups)."""
    return sorted(set(days_to_build(events, now)) | set(days_to_refresh(events, now)), reverse=True)


def rebuild_days(events: EventStore, since: datetime, until: datetime, now: datetime) -> None:
    """Build again the settled days that events stored late, from `since` to `until`, may
    belong to: their own days, and the day before (a visit they continue started then)."""
    settled = (now - SETTLE).date() - timedelta(days=1)
    day = (since - timedelta(days=1)).date()
    while day <= min(until.date(), settled):
        build_rollups(events, day)
        day += timedelta(days=1)


def rolled_days(
    events: EventStore,
    site_id: int,
    first: date,
    last: date,
    column: str = ALL,
    ended_before: datetime | None = None,
) -> list[date]:
    """Days in [first, last] whose rows of `column` can be read for `site_id`, in order;
    with `ended_before`, only days whose visits had all ended by then (page rows)."""
    if last < first:
        return []
    return _remembered(
        events,
        ("rolled", site_id, first, last, column, ended_before),
        lambda: _query_rolled_days(events, site_id, first, last, column, ended_before),
    )


def _query_rolled_days(
    events: EventStore,
    site_id: int,
    first: date,
    last: date,
    column: str,
    ended_before: datetime | None,
) -> list[date]:
    ended = ""
    params: dict[str, object] = {
        "site": site_id, "first": first.isoformat(), "last": last.isoformat(), "column": column,
    }  # fmt: skip
    if ended_before is not None:
        ended = " AND maxIf(last_event, column = '') < {ended:DateTime('UTC')}"
        params["ended"] = ended_before.strftime("%Y-%m-%d %H:%M:%S")
    result = events.query(
        "SELECT day FROM visit_rollups FINAL WHERE site_id = {site:UInt32}"
        " AND day >= {first:Date} AND day <= {last:Date} AND column IN ('', '!', {column:String})"
        " GROUP BY day HAVING countIf(column = '!') = 0 AND countIf(column = '') > 0"
        f" AND countIf(column = {{column:String}}) > 0{ended} ORDER BY day",
        params,
    )
    return [_as_date(row[0]) for row in result.rows]


def filtered_rolled_days(
    events: EventStore,
    site_id: int,
    first: date,
    last: date,
    filter_column: str,
    columns: tuple[str, ...],
    filter_value: str = "",
) -> list[date]:
    """Days in [first, last] whose filter_rollups rows of `columns` (and of all visits)
    are complete for `filter_value` of `filter_column` (jetrack.store.filter_rollups)."""
    if last < first:
        return []
    return filtered_days(
        events, site_id, first, last, filter_column, columns,
        lambda key, compute: _remembered(events, key, compute), filter_value,
    )  # fmt: skip


def event_rolled_days(
    events: EventStore,
    site_id: int,
    first: date,
    last: date,
    key: tuple[str, str],
    columns: tuple[str, ...],
) -> list[date]:
    """Days in [first, last] whose event_rollups rows of `columns` (and of all visits)
    are complete for `key` (jetrack.store.event_rollups)."""
    if last < first:
        return []
    return event_rollups.event_days(
        events, site_id, first, last, key, columns,
        lambda key, compute: _remembered(events, key, compute),
    )  # fmt: skip


def event_on_day(
    events: EventStore, site_id: int, day: date, key: tuple[str, str], columns: tuple[str, ...]
) -> bool:
    """Whether `day` has complete event_rollups rows of `columns` for `key` of the visits
    whose matching event came that day (jetrack.store.event_rollups.ON_DAY)."""
    return bool(event_rollups.event_days(
        events, site_id, day, day, key, columns,
        lambda key, compute: _remembered(events, key, compute), on_day=True,
    ))  # fmt: skip


def cut_rolled(events: EventStore, site_id: int, day: date, column: str, mark: str) -> bool:
    """Whether `day` has the site's rows cut as CUTS `mark` says ("from:{cut}": FROM_CUT,
    BEFORE_CUT and hour rows with counts; "past:{cut}": PAST_CUT) for `column` (they are
    written for the columns the day has rows of)."""
    key = ("cut", site_id, day, column, mark)

    def lookup() -> bool:
        result = events.query(
            "SELECT countIf(column = '!') = 0 AND countIf(column = '') > 0"
            " AND countIf(column = {column:String}) > 0"
            " AND countIf(column = {cuts:String} AND value = {mark:String}) > 0"
            " FROM visit_rollups FINAL WHERE site_id = {site:UInt32} AND day = {day:Date}"
            " AND column IN ('', '!', {column:String}, {cuts:String})",
            {"site": site_id, "day": day.isoformat(), "column": column, "cuts": CUTS,
             "mark": mark},
        )  # fmt: skip
        return bool(result.rows and result.rows[0][0])

    return _remembered(events, key, lookup)


def quiet(events: EventStore, site_id: int, since: datetime, before: datetime,
          until: datetime) -> bool:  # fmt: skip
    """Whether no visit of the site that started in [since, before) had an event at or
    after `until` (a part of a range with nothing to read)."""
    key = ("quiet", site_id, since, before, until)

    def lookup() -> bool:
        result = events.query(
            "SELECT count() FROM sessions WHERE site_id = {site:UInt32}"
            " AND start >= {since:DateTime('UTC')} AND start < {before:DateTime('UTC')}"
            " AND timestamp >= {until:DateTime('UTC')}",
            {"site": site_id, **{name: moment.strftime("%Y-%m-%d %H:%M:%S") for name, moment
                                 in (("since", since), ("before", before), ("until", until))}},
        )  # fmt: skip
        return not int(result.rows[0][0])

    return _remembered(events, key, lookup)


def empty_days(events: EventStore, site_id: int, first: date, last: date) -> list[date]:
    """Days in [first, last], over and settled, on which no visit of the site started or
    had an event: a range reads nothing there, as if they were rolled up (a new site's
    previous period, a small site's quiet days). Events a day gets later are a visit's
    that goes on into it, or late ones: both make it a day with visits again."""
    if last < first:
        return []

    def lookup() -> list[date]:
        result = events.query(
            "SELECT DISTINCT arrayJoin(range(toUInt32(toDate(start, 'UTC')),"
            " toUInt32(toDate(timestamp, 'UTC')) + 1)) FROM sessions"
            " WHERE site_id = {site:UInt32} AND start >= {since:DateTime('UTC')}"
            " AND start < {until:DateTime('UTC')} AND timestamp >= {first:DateTime('UTC')}",
            {"site": site_id, "since": f"{(first - VISIT_SPAN).isoformat()} 00:00:00",
             "until": f"{(last + timedelta(days=1)).isoformat()} 00:00:00",
             "first": f"{first.isoformat()} 00:00:00"},
        )  # fmt: skip
        active = {date.fromordinal(date(1970, 1, 1).toordinal() + int(r[0])) for r in result.rows}
        over = (datetime.now(UTC) - SETTLE).date() - timedelta(days=1)
        days = [first + timedelta(days=i) for i in range((min(last, over) - first).days + 1)]
        return [day for day in days if day not in active]

    return _remembered(events, ("empty", site_id, first, last), lookup)


def foreign_days(events: EventStore, site_id: int, first: date, last: date) -> list[date]:
    """Days in [first, last] that may hold events of visits that did not start in it (or
    whose visit id holds no start): those with an event of a visit from before `first` by
    their EARLIEST row, or without one (built before it). The other days' events are all
    of visits the rollup rows of [first, last] count, so no part reads them."""
    if last < first:
        return []
    return _remembered(
        events,
        ("foreign", site_id, first, last),
        lambda: _query_foreign_days(events, site_id, first, last),
    )


def _query_foreign_days(events: EventStore, site_id: int, first: date, last: date) -> list[date]:
    result = events.query(
        "SELECT day, last_event < {since:DateTime('UTC')} FROM visit_rollups FINAL"
        " WHERE site_id = {site:UInt32} AND column = {column:String}"
        " AND day >= {first:Date} AND day <= {last:Date}",
        {
            "site": site_id, "column": EARLIEST, "first": first.isoformat(),
            "last": last.isoformat(), "since": f"{first.isoformat()} 00:00:00",
        },
    )  # fmt: skip
    own = {_as_date(row[0]) for row in result.rows if not int(row[1])}
    days = [first + timedelta(days=n) for n in range((last - first).days + 1)]
    return [day for day in days if day not in own]


def carried_from(events: EventStore, site_id: int, day: date) -> bool:
    """Whether the visits of `day` that went on past its end can be read from rollups:
    the day is rolled up (its carried rows are complete), or no visit started that day."""
    if rolled_days(events, site_id, day, day):
        return True
    return bool(
        _remembered(events, ("no visits", site_id, day), lambda: _no_visits(events, site_id, day))
    )


def _no_visits(events: EventStore, site_id: int, day: date) -> list[date]:
    """[day] when no visit of the site started that day, else []."""
    result = events.query(
        "SELECT count() FROM sessions WHERE site_id = {site:UInt32}"
        " AND start >= {first:DateTime('UTC')} AND start < {next:DateTime('UTC')}",
        {
            "site": site_id,
            "first": f"{day.isoformat()} 00:00:00",
            "next": f"{(day + timedelta(days=1)).isoformat()} 00:00:00",
        },
    )
    return [] if int(result.rows[0][0]) else [day]


def _as_date(value: object) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


__all__ = [
    "ALL", "ROLLED_COLUMNS", "build_rollups", "days_due", "days_to_build",
    "filtered_rolled_days", "rolled_days",
]  # fmt: skip
