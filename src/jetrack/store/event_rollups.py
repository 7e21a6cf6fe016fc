"""Daily rollups of the visits that had one kind of event (the `event_rollups` table,
0011_event_rollups.sql): a dashboard filtered by page = /pricing, or by a goal that is a
custom event, reads the rows of ('pathname', '/pricing') or ('name', 'Signup') as an
unfiltered one reads visit_rollups.

An event matches ('pathname', P) when it is a pageview or custom event on P (the page
filter's events), ('pageview', P) when it is a pageview of P (a goal of that page, no
wildcard), ('name', N) when it is a custom event named N (a goal of that event name:
keyed by the page or the name, not by a goal, so goals added or edited later read the
same rows). Per site, UTC day and matching key:
- by visit column and value (and over all of them, column ''), the visits that started
  that day and had a matching event, with the figures visit_rollups has;
- on the all-visits row, the matching events of the day itself (visitors, pageviews,
  events: the main graph and the totals);
- pages (column 'pathname'), the matching events of the day's visits by page.
Exact for the reasons visit_rollups is (jetrack.store.rollups): a visitor id is one day's,
and the visits counted are those whose pages are rolled up (dated ids, all ended within
VISIT_SPAN), so a query reads a day's rows only when all its visits ended in its range.

What is not rolled up says so, as in jetrack.store.filter_rollups: a site-day of fewer
than MIN_FILTERED_VISITS visits, or whose pages are not rolled up, gets (filter '',
column PRUNED); a key whose rows of a column would hold fewer than MIN_VISITS_PER_ROW
visits each, (filter, filter_value, PRUNED + column). The 'pageview' keys came later: a
site-day built with them has the row (PAGEVIEW, '', column ''), and a day without it
is read from the tables for them (and built again by the job, days_to_build).

A day's rows count the visits that started that day and had a matching event, also one
after its midnight: a range that ends at the day's end reads them only if all those
visits had ended by then. For that last day it reads the ON_DAY rows instead (column
ON_DAY + column): the same, of the visits whose matching event came before the day's
end; their all-visits row (column ON_DAY) carries the day's matching events too. A day
built with them has the row (ON_DAY, '', column '')."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from jetrack.store.events import EventStore
from jetrack.store.filter_rollups import (
    PRUNED,
    column_pairs,
    filtered_days,
    insert_pages,
    insert_visits_and_day,
    kept_or_marked,
)
from jetrack.store.schema import FILTER_ROLLUP_COLUMNS, ROLLED_COLUMNS

TABLE = "event_rollups"
PAGE = "pathname"  # the key of a page's events (pageviews and custom events on it)
PAGEVIEW = "pageview"  # the key of a page's pageviews (a page goal without wildcard)
EVENT_NAME = "name"  # the key of a custom event's name
ON_DAY = "~"  # prefix of the columns of the visits with a matching event on their day
_INSERT = f"INSERT INTO {TABLE} ({', '.join(FILTER_ROLLUP_COLUMNS)})"
# The visits a row of a custom event name's key holds at least, on average over its
# column (where the pages' keys need MIN_VISITS_PER_ROW): a site has few names, so their
# rows are few, and a day cut for one column (a goal's visitors by region, ~4 a row) breaks
# the run of days a query reads from the rows: the rest of the range reads the tables.
MIN_VISITS_PER_NAME_ROW = 2
_PER_ROW = (
    f"if(filter = '{EVENT_NAME}', least({{visits_per_row:UInt32}}, {MIN_VISITS_PER_NAME_ROW}),"
    " {visits_per_row:UInt32})"
)
# (key, value) pairs of an events row: its page, and its page again as a pageview or its
# name as a custom event.
_KEYS = (
    f"[('{PAGE}', pathname), if(name = 'pageview', ('{PAGEVIEW}', pathname),"
    f" ('{EVENT_NAME}', name))]"
)


def build_event_rollups(
    events: EventStore,
    params: dict[str, object],
    scope: str,
    sites: str,
    daily: str,
    visits_of_pages: str,
) -> None:
    """Write the rows of one day (jetrack.store.rollups.build_rollups calls this with its
    bind parameters, `scope` of the day's sessions rows, `sites`, the `daily` sites'
    condition and `visits_of_pages`, the day's visits whose events are rolled up)."""
    big = (
        f"site_id IN (SELECT site_id FROM sessions FINAL WHERE {scope}{sites}"
        " GROUP BY site_id HAVING count() >= {filtered_visits:UInt32})"
    )
    paged = f"site_id IN (SELECT DISTINCT site_id FROM ({visits_of_pages}))"
    # The day's events of its visits, once per key they match.
    matched = (
        "SELECT site_id, session_id, visitor_id, name, pathname, timestamp, k.1 AS filter,"
        f" k.2 AS filter_value FROM events ARRAY JOIN {_KEYS} AS k"
        " WHERE timestamp >= {first:DateTime('UTC')}"
        " AND timestamp < {span_end:DateTime('UTC')} AND name != 'engagement'"
        f" AND (site_id, session_id) IN ({visits_of_pages}) AND {big}"
    )
    # Each visit's keys, and whether it had a matching event before the day's end.
    keyed = (
        "SELECT site_id, session_id, filter, filter_value,"
        " min(timestamp) < {next:DateTime('UTC')} AS on_day"
        f" FROM ({matched}) GROUP BY site_id, session_id, filter, filter_value"
    )
    rows = (
        f"SELECT site_id, session_id, start, visitor_id, is_bounce, pageviews, duration,"
        f" {', '.join(ROLLED_COLUMNS)} FROM sessions FINAL"
        f" WHERE {scope}{sites} AND {daily} AND {big}"
    )
    grouped = (
        "SELECT site_id, toDate(start, 'UTC') AS day, filter, filter_value,"
        " concat(variant, pair.1) AS column, pair.2 AS value, uniqExact(visitor_id) AS visitors,"
        " count() AS visits, sum(is_bounce) AS bounces, sum(pageviews) AS pageviews,"
        " sum(duration) AS duration,"
        " count() OVER per_column AS column_rows, sum(visits) OVER per_column AS column_visits"
        f" FROM ({rows}) AS s INNER JOIN ({keyed}) AS k USING (site_id, session_id)"
        f" ARRAY JOIN {column_pairs()} AS pair"
        f" ARRAY JOIN if(on_day, ['', '{ON_DAY}'], ['']) AS variant"
        " GROUP BY site_id, day, filter, filter_value, column, value"
        " WINDOW per_column AS (PARTITION BY site_id, day, filter, filter_value, column)"
    )
    visits = kept_or_marked(
        grouped, "visitors, visits, bounces, pageviews, duration", _PER_ROW, ("", ON_DAY)
    )
    # On the all-visits rows, '' and ON_DAY (the figures of the day's events both).
    on_the_day = (
        "SELECT site_id, filter, filter_value, column, visitors, views, events FROM"
        " (SELECT site_id, k.1 AS filter, k.2 AS filter_value,"
        " uniqExact(visitor_id) AS visitors, countIf(name = 'pageview') AS views,"
        f" count() AS events FROM events ARRAY JOIN {_KEYS} AS k"
        " WHERE timestamp >= {first:DateTime('UTC')} AND timestamp < {next:DateTime('UTC')}"
        f" AND name != 'engagement'{sites} AND {daily} AND {big} AND {paged}"
        f" GROUP BY site_id, filter, filter_value) ARRAY JOIN ['', '{ON_DAY}'] AS column"
    )
    # A key may have events on the day and no visit that started then (a visit from the
    # day before): a row of no visits carries them.
    insert_visits_and_day(events, _INSERT, visits, on_the_day, params)
    # Pages: the matching events by page (a page key's own page only).
    pages = (
        "SELECT site_id, {day:Date} AS day, filter, filter_value, 'pathname' AS column,"
        " pathname AS value, uniqExact(visitor_id) AS visitors,"
        " uniqExact(session_id) AS visits, countIf(name = 'pageview') AS pageviews,"
        " count() OVER per_column AS column_rows, sum(visits) OVER per_column AS column_visits"
        f" FROM ({matched}) GROUP BY site_id, filter, filter_value, pathname"
        " WINDOW per_column AS (PARTITION BY site_id, filter, filter_value)"
    )
    insert_pages(events, _INSERT, pages, params)


def mark_event_rollups(
    events: EventStore, params: dict[str, object], scope: str, sites: str, visits_of_pages: str
) -> None:
    """The site-days' markers: rolled up (column '') or not (column PRUNED), and built
    with the PAGEVIEW keys and the ON_DAY rows. Written after every row they vouch for
    (build_event_rollups): a build that failed before leaves the day read from the
    tables and built again."""
    big = (
        f"site_id IN (SELECT site_id FROM sessions FINAL WHERE {scope}{sites}"
        " GROUP BY site_id HAVING count() >= {filtered_visits:UInt32})"
    )
    paged = f"site_id IN (SELECT DISTINCT site_id FROM ({visits_of_pages}))"
    events.command(
        f"{_INSERT} SELECT site_id, toDate(start, 'UTC'), marker.1,"
        f" '', if(marker.1 = '' AND NOT ({big} AND {paged}), '{PRUNED}', ''), '',"
        " 0, count(), 0, 0, 0, 0, 0, 0, {built:DateTime('UTC')} FROM sessions FINAL"
        f" ARRAY JOIN [tuple(''), tuple('{PAGEVIEW}'), tuple('{ON_DAY}')] AS marker"
        f" WHERE {scope}{sites} GROUP BY site_id, toDate(start, 'UTC'), marker.1",
        params,
    )


def event_days(
    events: EventStore,
    site_id: int,
    first: date,
    last: date,
    key: tuple[str, str],
    columns: tuple[str, ...],
    remembered: Callable[[tuple[object, ...], Callable[[], list[date]]], list[date]],
    on_day: bool = False,
) -> list[date]:
    """Days in [first, last] whose rows of `columns` (and of all visits) for `key`
    (filter, value) are rolled up for `site_id`, in order (for a PAGEVIEW key, built with
    them: the marker row); `on_day`: their ON_DAY rows (built with them: the marker row)."""
    filter_column, value = key
    mark = PAGEVIEW if filter_column == PAGEVIEW else None
    if on_day:
        columns, mark = tuple(ON_DAY + column for column in ("", *columns)), ON_DAY
    return filtered_days(
        events, site_id, first, last, filter_column, columns, remembered, value, TABLE,
        mark=mark,
    )  # fmt: skip
