"""Daily rollups of the visits of one value of one visit column (the `filter_rollups`
table, 0006_filter_rollups.sql): a dashboard filtered by country = DE reads the rows of
(country_code, DE) as an unfiltered one reads visit_rollups.

Per site and UTC day, for each filtered column and value: the rows visit_rollups has for
all visits (by column and value, and over all of them, column ''), of those visits only,
and on the all-visits row the events of the day with that value (the main graph and the
totals); pages, from the events of the day's visits. Exact for the same reason as
visit_rollups (jetrack.store.rollups): a visitor id is one day's.

What is not rolled up says so, so that a missing row always means "no visit":
- a site-day with fewer than MIN_FILTERED_VISITS visits gets the row (filter '', column
  PRUNED) and is read from the tables (a few milliseconds there);
- a filtered value whose rows of a column would hold fewer than MIN_VISITS_PER_ROW visits
  each gets (filter, filter_value, PRUNED + column) instead of them (builds before 0011
  cut a column for every value of a filter: (filter, '', PRUNED + column)); the row of
  all the value's visits (column '') is always kept.
Every rolled-up site-day has the row (filter '', column ''), written last
(mark_filter_rollups): a day without it is read from the tables."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date
from typing import Any

from jetrack.store.events import EventStore, table_to_change
from jetrack.store.schema import FILTER_ROLLUP_COLUMNS, FILTERED_COLUMNS, ROLLED_COLUMNS

PRUNED = "?"  # prefix of the column of rows not written (see the module's docstring)
# A site-day is rolled up by filter from this many visits: below, its filtered queries
# read a few thousand sessions rows, as fast as rollup rows; above, the rows pay off.
MIN_FILTERED_VISITS = 1000

_INSERT = f"INSERT INTO filter_rollups ({', '.join(FILTER_ROLLUP_COLUMNS)})"


def _filters() -> str:
    """SQL array of (filtered column, the value a filter compares) of a sessions or events
    row (both have the filtered columns, with the same values for one visit)."""
    return "[" + ", ".join(f"('{c}', {sql})" for c, sql in FILTERED_COLUMNS.items()) + "]"


def column_pairs() -> str:
    """SQL array of (column, value) of a sessions row: '' (all visits) and ROLLED_COLUMNS."""
    return "[" + ", ".join(["('', '')", *(f"('{c}', {c})" for c in ROLLED_COLUMNS)]) + "]"


def build_filter_rollups(
    events: EventStore,
    params: dict[str, object],
    scope: str,
    sites: str,
    daily: str,
    visits_of_pages: str,
) -> None:
    """Write the rows of one day (jetrack.store.rollups.build_rollups calls this with its
    bind parameters, its `scope` of the day's sessions rows, `sites`, the `daily` sites'
    condition and `visits_of_pages`, the visits whose pages are rolled up)."""
    params = _with_filtered_visits(params)
    big = _big(scope, sites)
    # The rows first, then each one per filtered column and per column (ARRAY JOIN).
    rows = (
        f"SELECT site_id, start, visitor_id, is_bounce, pageviews, duration,"
        f" {', '.join(ROLLED_COLUMNS)} FROM sessions FINAL"
        f" WHERE {scope}{sites} AND {daily} AND {big}"
    )
    grouped = (
        "SELECT site_id, toDate(start, 'UTC') AS day, f.1 AS filter, f.2 AS filter_value,"
        " pair.1 AS column, pair.2 AS value, uniqExact(visitor_id) AS visitors,"
        " count() AS visits, sum(is_bounce) AS bounces, sum(pageviews) AS pageviews,"
        " sum(duration) AS duration,"
        " count() OVER per_column AS column_rows, sum(visits) OVER per_column AS column_visits"
        f" FROM ({rows}) ARRAY JOIN {_filters()} AS f ARRAY JOIN {column_pairs()} AS pair"
        " GROUP BY site_id, day, filter, filter_value, column, value"
        " WINDOW per_column AS (PARTITION BY site_id, day, filter, filter_value, column)"
    )
    visits = kept_or_marked(grouped, "visitors, visits, bounces, pageviews, duration")
    on_the_day = (
        "SELECT site_id, f.1 AS filter, f.2 AS filter_value, '' AS column,"
        " uniqExact(visitor_id) AS visitors,"
        " countIf(name = 'pageview') AS views, count() AS events"
        f" FROM (SELECT site_id, visitor_id, name, {', '.join(FILTERED_COLUMNS)} FROM events"
        " WHERE timestamp >= {first:DateTime('UTC')} AND timestamp < {next:DateTime('UTC')}"
        f" AND name != 'engagement'{sites} AND {daily} AND {big}) ARRAY JOIN {_filters()} AS f"
        " GROUP BY site_id, filter, filter_value"
    )
    insert_visits_and_day(events, _INSERT, visits, on_the_day, params)
    pages = (
        "SELECT site_id, {day:Date} AS day, f.1 AS filter, f.2 AS filter_value,"
        " 'pathname' AS column, pathname AS value, uniqExact(visitor_id) AS visitors,"
        " uniqExact(session_id) AS visits, countIf(name = 'pageview') AS pageviews,"
        " count() OVER per_column AS column_rows, sum(visits) OVER per_column AS column_visits"
        " FROM (SELECT site_id, visitor_id, session_id, name, pathname,"
        f" {', '.join(FILTERED_COLUMNS)} FROM events WHERE timestamp >= {{first:DateTime('UTC')}}"
        " AND timestamp < {span_end:DateTime('UTC')} AND name != 'engagement'"
        f" AND (site_id, session_id) IN ({visits_of_pages}) AND {big})"
        f" ARRAY JOIN {_filters()} AS f GROUP BY site_id, filter, filter_value, pathname"
        " WINDOW per_column AS (PARTITION BY site_id, filter, filter_value)"
    )
    insert_pages(events, _INSERT, pages, params)


def mark_filter_rollups(
    events: EventStore, params: dict[str, object], scope: str, sites: str
) -> None:
    """The site-days' markers: rolled up (column '') or not (column PRUNED). Written
    after every row they vouch for (build_filter_rollups): a build that failed before
    leaves the day without them, read from the tables and built again (days_to_build)."""
    params = _with_filtered_visits(params)
    events.command(
        f"{_INSERT} SELECT site_id, toDate(start, 'UTC'), '', '',"
        f" if({_big(scope, sites)}, '', '{PRUNED}'), '',"
        " 0, count(), 0, 0, 0, 0, 0, 0, {built:DateTime('UTC')} FROM sessions FINAL"
        f" WHERE {scope}{sites} GROUP BY site_id, toDate(start, 'UTC')",
        params,
    )


def _with_filtered_visits(params: dict[str, object]) -> dict[str, object]:
    return params | {"filtered_visits": params.get("filtered_visits", MIN_FILTERED_VISITS)}


def _big(scope: str, sites: str) -> str:
    """SQL condition of the sites with at least `filtered_visits` visits that day."""
    return (
        f"site_id IN (SELECT site_id FROM sessions FINAL WHERE {scope}{sites}"
        " GROUP BY site_id HAVING count() >= {filtered_visits:UInt32})"
    )


def insert_visits_and_day(
    events: EventStore, insert: str, visits: str, on_the_day: str, params: dict[str, object]
) -> None:
    """`insert` the rows of `visits` (kept_or_marked) with the day's events of
    `on_the_day` (site_id, filter, filter_value, column, visitors, views, events) on
    their all-visits rows (`on_the_day`'s columns: '', and event_rollups' ON_DAY). A value
    may have events on the day and no visit that started then (its visits began the day
    before): a row of no visits carries them (the join's other side reads as 0 and '')."""
    events.command(
        f"{insert} SELECT if(v.site_id = 0, e.site_id, v.site_id),"
        " if(v.site_id = 0, {day:Date}, v.day), if(v.site_id = 0, e.filter, v.filter),"
        " if(v.site_id = 0, e.filter_value, v.filter_value),"
        " if(v.site_id = 0, e.column, v.column), v.value,"
        " v.visitors, v.visits, v.bounces, v.pageviews, v.duration,"
        " e.visitors, e.views, e.events, {built:DateTime('UTC')}"
        f" FROM ({visits}) AS v FULL OUTER JOIN ({on_the_day}) AS e"
        " ON e.site_id = v.site_id AND e.filter = v.filter AND e.filter_value = v.filter_value"
        " AND e.column = v.column",
        params,
    )


def insert_pages(events: EventStore, insert: str, pages: str, params: dict[str, object]) -> None:
    """`insert` the pages rows of `pages` (visitors, visits, pageviews by page, with the
    window columns kept_or_marked reads)."""
    events.command(
        f"{insert} SELECT site_id, day, filter, filter_value, column, value, visitors, visits,"
        " 0, pageviews, 0, 0, 0, 0, {built:DateTime('UTC')}"
        f" FROM ({kept_or_marked(pages, 'visitors, visits, pageviews')})",
        params,
    )


def kept_or_marked(
    grouped: str,
    sums: str,
    per_row: str = "{visits_per_row:UInt32}",
    always: tuple[str, ...] = ("",),
) -> str:
    """`grouped`'s rows of the (site, day, filter, filter value, column)s whose rows hold
    enough visits each (`per_row`, SQL over a row; and always those of the columns
    `always`, of all the value's visits), and one PRUNED row for each of the others (its
    figures 0)."""
    always_kept = ", ".join(repr(column) for column in always)
    kept = f"column IN ({always_kept}) OR column_rows * {per_row} <= column_visits"
    figures = ", ".join(f"if(kept, {name}, 0) AS {name}" for name in sums.split(", "))
    return (
        f"SELECT site_id, day, filter, filter_value,"
        f" if(kept, column, concat('{PRUNED}', column)) AS column, if(kept, value, '') AS value,"
        f" {figures} FROM (SELECT *, {kept} AS kept FROM ({grouped}))"
        " LIMIT 1 BY site_id, day, filter, filter_value, column, value"
    )


_OLDER_BUILD = " WHERE day = {day:Date} AND built_at < {built:DateTime('UTC')}"


def older_builds(
    events: EventStore, params: dict[str, object], sites: str, tables: Sequence[str]
) -> list[str]:
    """Those of `tables` with rows of the day (and `sites`) from a build before this one."""
    found = events.query(
        "SELECT "
        + ", ".join(f"(SELECT count() > 0 FROM {t}{_OLDER_BUILD}{sites})" for t in tables),
        params,
    ).rows[0]
    return [table for table, older in zip(tables, found, strict=True) if older]


def delete_older_builds(
    events: EventStore, params: dict[str, object], sites: str, tables: Sequence[str]
) -> None:
    """Rows of the day from an earlier build that this one did not write again, in `tables`.
    A table without any (a day's first build) gets no DELETE: a DELETE is a mutation over
    every part of the table, waited for (1-2 s on chDB, more as the table fills)."""
    for table in older_builds(events, params, sites, tables):
        events.command(f"DELETE FROM {table_to_change(events, table)}{_OLDER_BUILD}{sites}", params)


def filtered_days(
    events: EventStore,
    site_id: int,
    first: date,
    last: date,
    filter_column: str,
    columns: tuple[str, ...],
    remembered: Callable[[tuple[object, ...], Callable[[], list[date]]], list[date]],
    filter_value: str = "",
    table: str = "filter_rollups",
    mark: str | None = None,
) -> list[date]:
    """Days in [first, last] whose rows of `columns` (and of all visits) for `filter_value`
    of `filter_column` are rolled up for `site_id` in `table` (filter_rollups, or
    event_rollups, which marks what it leaves out the same way), in order; with `mark`,
    only days with the row (mark, '', column ''), the mark of a build that wrote rows
    added later (event_rollups' PAGEVIEW keys and ON_DAY rows)."""
    wanted = tuple(sorted({"", *columns}))
    marked = " OR filter = {mark:String} AND filter_value = '' AND column = ''" if mark else ""
    has_mark = (
        " AND countIf(filter = {mark:String} AND filter_value = '' AND column = '') > 0"
        if mark
        else ""
    )

    def lookup() -> list[date]:
        params: dict[str, Any] = {
            "site": site_id, "first": first.isoformat(), "last": last.isoformat(),
            "filter": filter_column, "value": filter_value, "mark": mark or "",
        }  # fmt: skip
        params |= {f"pruned{i}": PRUNED + column for i, column in enumerate(wanted)}
        pruned = ", ".join(f"{{pruned{i}:String}}" for i in range(len(wanted)))
        result = events.query(
            f"SELECT day FROM {table} FINAL WHERE site_id = {{site:UInt32}}"
            " AND day >= {first:Date} AND day <= {last:Date} AND (filter = ''"
            " OR filter = {filter:String} AND filter_value IN ('', {value:String})"
            f" AND column IN ({pruned}){marked})"
            " GROUP BY day HAVING countIf(filter = '' AND column = '') > 0"
            f" AND countIf(column LIKE '{PRUNED}%') = 0{has_mark} ORDER BY day",
            params,
        )
        return [_as_date(row[0]) for row in result.rows]

    key = (table, site_id, first, last, filter_column, filter_value, wanted, mark)
    return remembered(key, lookup)


def _as_date(value: object) -> date:
    return date.fromisoformat(str(value)[:10])
