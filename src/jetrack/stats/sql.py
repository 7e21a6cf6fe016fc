"""Render a Plan as one parameterised ClickHouse statement (the plan decided everything)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from jetrack.stats import filters as flt
from jetrack.stats import revenue
from jetrack.stats.dimensions import (
    column_expr,
    is_fixed_per_visit,
    is_session_only,
    on_sessions,
    time_expr,
)
from jetrack.stats.metrics import COUNTED_IN_RANGE, METRICS, REVENUE, derived_sql
from jetrack.stats.params import Params
from jetrack.stats.plan import Part, Plan
from jetrack.stats.query import (
    Behaviour,
    Condition,
    Filter,
    GoalInfo,
    Negation,
    Query,
    conditions,
)
from jetrack.stats.rollup import Rolled, by_filtered_goal, midnight, rolled_column
from jetrack.stats.tables import BY_PAGE_DIMENSIONS, by_page, narrows, touches_event
from jetrack.store.cut_rollups import BEFORE_CUT, FROM_CUT, PAST_CUT
from jetrack.store.event_rollups import ON_DAY
from jetrack.store.ids import visit_start_sql
from jetrack.store.rollups import BEFORE_HOUR, CARRIED, FROM_HOUR, VISIT_SPAN

# A visit is in a range when it has an event in it; its row in the sessions table is
# looked up from this long before the range starts (a visit longer than that is cut).
SESSION_MARGIN = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class Statement:
    sql: str
    params: dict[str, Any]
    dimensions: int
    metrics: list[str]


def _ts(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S")


# Partial sums of visits that both the sessions table and the rollups give (the `rollup`
# expressions of jetrack.stats.metrics read them).
# The third: the rollups' column each sums.
ROLLUP_PARTIALS = {
    "v": ("uniq(visitor_id)", "sum(visitors)", "visitors"),
    "n": ("count()", "sum(visits)", "visits"),
    "b": ("sum(is_bounce)", "sum(bounces)", "bounces"),
    "pv": ("sum(pageviews)", "sum(pageviews)", "pageviews"),
    "du": ("sum(duration)", "sum(duration)", "duration"),
}


# Pageviews and events: which events rows count (a countIf condition), and the column of
# the rollup rows of all visits (column '') that holds the day's count.
EVENT_COUNTS = {
    "pageviews": ("name = 'pageview'", "event_pageviews"),
    "events": ("1", "event_count"),
}


class _Builder:
    def __init__(
        self, query: Query, params: Params, revenue_plan: revenue.RevenuePlan | None = None
    ) -> None:
        self.q = query
        self.p = params
        self.revenue = revenue_plan
        self.site = self.p.add(query.site_id, "UInt32")
        self.start = self.p.add(_ts(query.date_range.start), "DateTime('UTC')")
        self.end = self.p.add(_ts(query.date_range.end), "DateTime('UTC')")
        # Filters on sessions-only dimensions (exit page, entry and exit hostnames) apply to
        # sessions rows (jetrack.stats.rules keeps event dimensions out of their trees),
        # the others to events rows.
        self.session_trees = [t for t in query.filters if _touches_session_only(t)]
        self.row_trees = [t for t in query.filters if not _touches_session_only(t)]
        # Of those, the trees on the event itself, and on the visit's attributes (or its
        # other events: has_done), the same on each of its events.
        self.visit_trees, self.event_trees = _on_visits_and_events(self.row_trees)

    # -- shared pieces ------------------------------------------------------------------

    def base_where(self) -> str:
        return (
            f"site_id = {self.site} AND timestamp >= {self.start} AND timestamp < {self.end}"
            f" AND {self.utc_days(self.q.date_range.start, self.q.date_range.end)}"
        )

    def utc_days(self, start: datetime, end: datetime) -> str:
        """The UTC days of [start, end) on the events' key (site, UTC day, ...): what lets
        ClickHouse skip the other days' rows. Only a condition on toDate(timestamp) itself
        against a String value does (chDB 4.4: not one on timestamp, nor a Date parameter);
        always with the exact condition on timestamp."""
        first = self.p.add(start.astimezone(UTC).date().isoformat(), "String")
        last = self.p.add((end.astimezone(UTC) - timedelta(seconds=1)).date().isoformat(), "String")
        return f"toDate(timestamp) >= {first} AND toDate(timestamp) <= {last}"

    def outside_days(self, rolled: Rolled) -> str:
        """Events rows outside the rolled-up days (UTC), as the events' key can skip them."""
        first = self.p.add(rolled.first.isoformat(), "String")
        last = self.p.add(rolled.last.isoformat(), "String")
        return f"(toDate(timestamp) < {first} OR toDate(timestamp) > {last})"

    def unrolled_days(self, rolled: Rolled) -> str:
        """` AND ...`: the events rows a part that counts the rolled-up days' visits from
        their rows reads for the others: the days outside them, and those of the rolled-up
        days that may hold events of other visits (`rolled.events_until`); as the events'
        key can skip the rest. Empty when all of them may."""
        if rolled.events_until is None or rolled.events_until >= rolled.last:
            return ""
        until = self.p.add(rolled.events_until.isoformat(), "String")
        last = self.p.add(rolled.last.isoformat(), "String")
        return f" AND (toDate(timestamp) <= {until} OR toDate(timestamp) > {last})"

    def visits_in_range(self) -> str:
        """Sessions rows of the visits with an event in the range (`timestamp` is the last)."""
        wide = self.p.add(_ts(self.q.date_range.start - SESSION_MARGIN), "DateTime('UTC')")
        return (
            f"site_id = {self.site} AND start >= {wide} AND start < {self.end}"
            f" AND timestamp >= {self.start}"
        )

    def goal_sql(self, condition: Condition) -> str:
        selected = flt.matching_goals(condition, self.q.goals)
        return flt.goals_sql(selected, self.p)

    def row_filter(self, trees: list[Filter] | tuple[Filter, ...]) -> str:
        return flt.all_sql(
            trees, lambda d: column_expr(d, self.p), self.p, self.goal_sql, self.behaviour_sql
        )

    def behaviour_sql(self, tree: Behaviour) -> str:
        """has_done / has_not_done: whether the row's visit has an event in the range (a
        pageview or custom event) matching the inner filter."""
        inner = flt.tree_sql(
            tree.child, lambda d: column_expr(d, self.p), self.p, self.goal_sql, self.behaviour_sql
        )
        negated = "NOT " if tree.operator == "has_not_done" else ""
        return (
            f"(session_id {negated}IN (SELECT session_id FROM {self.matching(tree.child)}"
            f" WHERE {self.base_where()} AND name != 'engagement' AND {inner}))"
        )

    def matching(self, *trees: Filter) -> str:
        """The table where a subquery finds the visits with an event (not an engagement
        ping) that `trees` match: events_by_page when they read only the event's name and
        page (a page, an event name, goals without custom properties), as it reads only
        those names' and pages' rows; else events."""
        return "events_by_page" if all(by_page(t, self.q.goals) for t in trees) else "events"

    def visitors_by_page(self, metrics: Sequence[str]) -> bool:
        """Whether an events part's rows can be events_by_page's: it counts visitors (no
        count that a row written twice would change), by time, page or event name, under
        an event filter that `narrows` (else its rows are nearly all events) and that
        `finds_by_page`."""
        return (
            list(metrics) == ["visitors"]
            and all(d.startswith("time") or d in BY_PAGE_DIMENSIONS for d in self.q.dimensions)
            and bool(self.event_trees)
            and all(narrows(t) for t in self.event_trees)
            and self.finds_by_page()
        )

    def finds_by_page(self) -> bool:
        """Whether events_by_page's rows can stand for the events the filters keep: its
        columns answer the trees on the event, and the others are on visit attributes (the
        same on each event as on the visit's sessions row)."""
        return all(by_page(t, self.q.goals) for t in self.event_trees) and all(
            _fixed_per_visit(t) for t in self.visit_trees
        )

    def by_page_rows(self) -> str:
        """` FROM events_by_page WHERE ...`: the events the event trees match, of the visits
        whose sessions row passes the others."""
        return (
            f" FROM events_by_page WHERE {self.base_where()} AND name != 'engagement'"
            f" AND {self.row_filter(self.event_trees)}{self.visits_passing()}"
        )

    def visits_passing(self) -> str:
        """` AND session_id IN (...)`: the visits whose sessions row passes the trees on
        visit attributes and sessions-only dimensions (empty without any)."""
        if not self.visit_trees and not self.session_trees:
            return ""
        source, rest = self.sessions_prewhere(self.visit_trees)
        return (
            f" AND session_id IN (SELECT session_id FROM {source} WHERE {self.visits_in_range()}"
            f" AND {self.row_filter(rest + self.session_trees)})"
        )

    def exit_page_clause(self) -> str:
        """Keeps events of visits whose sessions row passes the exit-page filters."""
        if not self.session_trees:
            return ""
        return (
            f" AND session_id IN (SELECT session_id FROM sessions FINAL"
            f" WHERE {self.visits_in_range()} AND {self.row_filter(self.session_trees)})"
        )

    def dims(self, timestamp: str, sessions: bool = False) -> list[str]:
        """Dimension columns d0.. over events rows, or (`sessions`) sessions rows."""
        out: list[str] = []
        for name in self.q.dimensions:
            if sessions:
                name = on_sessions(name)
            if name.startswith("time"):
                rng = self.q.date_range
                expr = time_expr(name, timestamp, self.p, rng.first_day.isoformat(), rng.timezone)
            elif name == "event:goal":
                expr = "goal_name"
            elif not sessions and is_session_only(name):
                expr = f"visit_d{len(out)}"  # from visit_join
            else:
                expr = column_expr(name, self.p)
            out.append(f"toString({expr}) AS d{len(out)}")
        return out

    def goal_join(self) -> str:
        if "event:goal" not in self.q.dimensions:
            return ""
        goals: list[GoalInfo] = list(self.q.goals)
        for tree in self.row_trees:
            if isinstance(tree, Condition) and tree.dimension == "event:goal":
                chosen = flt.matching_goals(tree, self.q.goals)
                goals = [g for g in goals if g in chosen]
        names = [
            f"if({flt.goal_match_sql(g, self.p)}, {self.p.add(g.display_name, 'String')}, '')"
            for g in goals
        ]
        listed = ", ".join(names) or "''"
        return f" ARRAY JOIN arrayFilter(g -> g != '', [{listed}]) AS goal_name"

    def group_by(self) -> str:
        if not self.q.dimensions:
            return ""
        return " GROUP BY " + ", ".join(f"d{i}" for i in range(len(self.q.dimensions)))

    # -- parts --------------------------------------------------------------------------

    def event_metric(self, metric: str) -> str:
        if metric in REVENUE:
            assert self.revenue is not None
            return revenue.metric_sql(metric, self.revenue, self.q, self.p)
        return f"{METRICS[metric].events}"

    def visit_join(self) -> str:
        """Events rows grouped by a sessions-only dimension (revenue by exit page, as
        Plausible joins its sessions table): each event takes its visit's value (visit_dN)
        from the visit's sessions row, which also passes the sessions-only filters."""
        names = [(i, d) for i, d in enumerate(self.q.dimensions) if is_session_only(d)]
        if not names:
            return ""
        cols = ", ".join(f"{column_expr(d, self.p)} AS visit_d{i}" for i, d in names)
        return (
            f" INNER JOIN (SELECT session_id, {cols} FROM sessions FINAL"
            f" WHERE {self.visits_in_range()} AND {self.row_filter(self.session_trees)})"
            " AS visit USING (session_id)"
        )

    def events_part(self, metrics: Sequence[str], with_total: bool = False) -> str:
        """Events rows in the range under the filters. `with_total` (one dimension): also
        `events_total`, the visitors of all groups (a percentage's divisor), from the same
        rows (GROUPING SETS): a filtered breakdown reads its events once, not twice."""
        cols = self.dims("timestamp") + [f"{self.event_metric(m)} AS events_{m}" for m in metrics]
        visits = self.visit_join()
        rows = (
            f" FROM events{self.goal_join()}{visits}"
            f" WHERE {self.base_where()} AND name != 'engagement'"
            f" AND {self.row_filter(self.row_trees)}{'' if visits else self.exit_page_clause()}"
        )
        if self.visitors_by_page(metrics):
            rows = self.by_page_rows()
        if not with_total:
            return f"SELECT {', '.join(cols)}{rows}{self.group_by()}"
        grouped = (
            f"SELECT {', '.join(cols)}, grouping(d0) = 1 AS is_total{rows}"
            " GROUP BY GROUPING SETS ((d0), ())"
        )
        names = ", ".join(["d0", *(f"events_{m}" for m in metrics)])
        return (
            f"SELECT {names}, anyIf(events_visitors, is_total) OVER () AS events_total"
            f" FROM ({grouped}) QUALIFY NOT is_total"
        )

    def rolled_params(self, rolled: Rolled) -> tuple[str, str, str, str]:
        """Placeholders: first and last rolled day, and the instants they begin and end."""
        return (
            self.p.add(rolled.first.isoformat(), "Date"),
            self.p.add(rolled.last.isoformat(), "Date"),
            self.p.add(f"{rolled.first.isoformat()} 00:00:00", "DateTime('UTC')"),
            self.p.add(f"{rolled.after.isoformat()} 00:00:00", "DateTime('UTC')"),
        )

    def rollup_rows(self, rolled: Rolled, columns: Sequence[str]) -> str:
        """`table FINAL WHERE ...` of the rollup rows of the site: visit_rollups, or
        filter_rollups' (event_rollups') rows of the filtered value (`rolled.filter`);
        the caller reads those of `columns` (its own condition on `column` follows)."""
        if rolled.filter is None:
            return f"visit_rollups FINAL WHERE site_id = {self.site}"
        column, value = rolled.filter
        table = "event_rollups" if rolled.of_events else "filter_rollups"
        of_value = (
            f" WHERE site_id = {self.site} AND filter = {self.p.add(column, 'String')}"
            f" AND filter_value = {self.p.add(value, 'String')}"
        )
        if not rolled.on_day_last:
            return f"{table} FINAL{of_value}"
        # The last day's rows of its visits with a matching event that day (ON_DAY), under
        # the names of the columns; the other days' own rows. The stored columns are named
        # in the inner WHERE, so that the table's key (site, filter, value, column, day)
        # narrows the read (`stored.column`: the REPLACE's alias shadows a bare `column`).
        last = self.p.add(rolled.last.isoformat(), "Date")
        on_day = self.p.add(ON_DAY, "String")
        stored = ", ".join(
            self.p.add(c, "String") for c in (*columns, *(ON_DAY + c for c in columns))
        )
        renamed = f"if(day = {last}, substring(column, {len(ON_DAY) + 1}), column) AS column"
        return (
            f"(SELECT * REPLACE ({renamed}) FROM {table} AS stored FINAL{of_value}"
            f" AND stored.column IN ({stored})"
            f" AND startsWith(stored.column, {on_day}) = (day = {last})) WHERE site_id = {self.site}"
        )

    def sessions_rollup_part(self, part: Part, rolled: Rolled) -> str:
        """Visits of the rolled-up days from their rows, the others from sessions rows.

        With `rolled.carry`, the visits of the day before the range that went on into it
        come from that day's carried rows, and without `part.reads_tables` no sessions row
        is read. `part.with_total` (one dimension): also `sessions_total`,
        the visitors of all groups (a percentage's divisor), from the same reads: the raw
        rows grouped by the dimension and by nothing (GROUPING SETS), the rollups' rows
        of the column and of ALL."""
        metrics, with_total = part.metrics, part.with_total
        first, last, since, until = self.rolled_params(rolled)
        if rolled.carry:
            since = self.p.add(f"{rolled.carried_day.isoformat()} 00:00:00", "DateTime('UTC')")
        if rolled.cut_visits and rolled.end_cut is not None:  # visits before the end cut
            until = self.p.add(_ts(rolled.end), "DateTime('UTC')")
        dims = self.dims("start", sessions=True)
        column = rolled_column(on_sessions(self.q.dimensions[0])) if self.q.dimensions else ""
        column = column or ""
        trees = self.q.filters if part.filters is None else part.filters
        on_visits, on_events = _on_visits_and_events(trees)
        source, rest = self.sessions_prewhere(on_visits)
        rest += on_events
        raw_where = (
            f" FROM {source} WHERE {self.visits_in_range()}"
            f" AND NOT (start >= {since} AND start < {until})"
            f" AND {self.visits_filter(rest, rolled, (since, until))}"
        )
        no_raw = not part.reads_tables
        columns = [column, ""] if with_total else [column]
        wanted = ", ".join(self.p.add(c, "String") for c in columns)
        rows_where = (
            f"{self.rollup_rows(rolled, columns)} AND (column IN ({wanted}) AND day >= {first}"
            f" AND day <= {last}"
        )
        # The rows of all visits (column ALL) of each kind read: a percentage's total.
        alls = [""]
        if rolled.carry:
            carried = ", ".join(self.p.add(CARRIED + c, "String") for c in columns)
            day = self.p.add(rolled.carried_day.isoformat(), "Date")
            rows_where += f" OR column IN ({carried}) AND day = {day}"
            alls.append(CARRIED)
        for prefix, on_day in self.cut_rows(rolled):
            cut = ", ".join(self.p.add(prefix + c, "String") for c in columns)
            rows_where += f" OR column IN ({cut}) AND day = {self.p.add(on_day, 'Date')}"
            alls.append(prefix)
        rows_where += ")"
        cols = [f"{METRICS[m].rollup} AS sessions_{m}" for m in metrics]
        # The rollup rows' `value` under the column's name, which the dimension's SQL reads.
        named = [f"value AS {column}"] if column else []
        totals = ""
        if with_total:
            totals = f"column IN ({', '.join(self.p.add(a, 'String') for a in alls)})"
        if no_raw:
            # One SELECT over the rows, the partial sums' names for their columns: each
            # subquery level costs ClickHouse ~1 ms of analysis and planning per statement.
            aliases = [*named, *(f"{pair[2]} AS {name}" for name, pair in ROLLUP_PARTIALS.items())]
            if not with_total:
                return (
                    f"WITH {', '.join(aliases)} SELECT {', '.join(dims + cols)}"
                    f" FROM {rows_where}{self.group_by()}"
                )
            return (
                f"WITH {', '.join([*aliases, f'{totals} AS is_total'])}"
                f" SELECT {', '.join(dims + cols)}, sumIf(sum(v), is_total) OVER ()"
                f" AS sessions_total FROM {rows_where} GROUP BY is_total, d0 QUALIFY NOT is_total"
            )
        names = [f"d{i}" for i in range(len(dims))]
        with_names = f"WITH {', '.join(named)} " if named else ""
        if not with_total:
            raw = f"SELECT {', '.join(dims + _partials(0))}{raw_where}{self.group_by()}"
            from_rollups = (
                f"({with_names}SELECT {', '.join(dims + _partials(1))}"
                f" FROM {rows_where}{self.group_by()})"
            )
            return (
                f"SELECT {', '.join(names + cols)} FROM ({raw} UNION ALL {from_rollups})"
                f"{self.group_by()}"
            )
        raw = (
            f"SELECT {', '.join(dims + _partials(0))}, grouping(d0) = 1 AS is_total{raw_where}"
            " GROUP BY GROUPING SETS ((d0), ())"
        )
        from_rollups = (
            f"({with_names}SELECT {', '.join(dims + _partials(1))}, {totals} AS is_total"
            f" FROM {rows_where} GROUP BY d0, is_total)"
        )
        return (
            f"SELECT {', '.join(names + cols)}, sumIf(sum(v), is_total) OVER () AS sessions_total"
            f" FROM ({raw} UNION ALL {from_rollups}) GROUP BY is_total, d0 QUALIFY NOT is_total"
        )

    def cut_rows(self, rolled: Rolled) -> list[tuple[str, str]]:
        """(column prefix, day) of the cut rows of visits that the range's partial days
        read (jetrack.store.rollups: FROM_CUT, PAST_CUT, BEFORE_CUT)."""
        out: list[tuple[str, str]] = []
        if not rolled.cut_visits:
            return out
        if rolled.start_cut is not None:
            day = rolled.first - timedelta(days=1)
            out.append((f"{FROM_CUT}{rolled.start_cut}:", day.isoformat()))
            out.append((f"{PAST_CUT}{rolled.start_cut}:", (day - timedelta(days=1)).isoformat()))
        if rolled.end_cut is not None:
            out.append((f"{BEFORE_CUT}{rolled.end_cut}:", rolled.after.isoformat()))
        return out

    def cut_hours(self, rolled: Rolled) -> str:
        """` OR ...`: the hour rows of the range's partial days (the events of the first
        from its start, of the last before its end), for the main graph and the totals."""
        out = ""
        if not rolled.cut_events:
            return out
        if rolled.start_cut is not None:
            day = self.p.add((rolled.first - timedelta(days=1)).isoformat(), "Date")
            hour = self.p.add(str(rolled.start_cut // 3600), "String")
            out += f" OR column = '{FROM_HOUR}' AND day = {day} AND value = {hour}"
        if rolled.end_cut is not None:
            day = self.p.add(rolled.after.isoformat(), "Date")
            hour = self.p.add(str(rolled.end_cut // 3600), "String")
            out += f" OR column = '{BEFORE_HOUR}' AND day = {day} AND value = {hour}"
        return out

    def graph_rollup_part(self, part: Part, rolled: Rolled) -> str:
        """Visitors by UTC day: rolled-up days from their rows, the others from events."""
        first, last, since, until = self.rolled_params(rolled)
        raw = (
            f"SELECT {self.dims('timestamp')[0]}, uniq(visitor_id) AS v FROM events"
            f" WHERE {self.base_where()} AND name != 'engagement'"
            f" AND NOT (timestamp >= {since} AND timestamp < {until})"
            f" AND {self.outside_days(rolled)}"
            f" AND {self.row_filter(self.row_trees)} GROUP BY d0"
        )
        rows = (
            f"SELECT toString(day) AS d0, event_visitors AS v FROM {self.rollup_rows(rolled, ('',))}"
            f" AND column = '' AND day >= {first} AND day <= {last}"
        )
        if self.q.timezone != "UTC":
            # Each UTC day holds one local midnight (`split`): its hours before it belong to
            # the local day that ends there, the others to the one that starts there.
            zone = self.p.add(self.q.timezone, "String")
            split = f"toStartOfDay(toDateTime(day, 'UTC') + 86399, {zone})"
            local_day = (
                f"if(column = '{FROM_HOUR}', toDate(split, {zone}), toDate(split - 1, {zone}))"
            )
            rows = (
                f"(WITH {split} AS split SELECT toString({local_day}) AS d0, event_visitors AS v"
                f" FROM {self.rollup_rows(rolled, (FROM_HOUR, BEFORE_HOUR))}"
                f" AND (column IN ('{FROM_HOUR}', '{BEFORE_HOUR}')"
                f" AND day >= {first} AND day <= {last}"
                f" AND value = toString(toHour(split, 'UTC')){self.cut_hours(rolled)}))"
            )
        # Hour rows of hours without events are rows of 0: not a day with visitors.
        if not part.reads_tables and self.q.timezone == "UTC":
            return (
                "SELECT toString(day) AS d0, sum(event_visitors) AS events_visitors"
                f" FROM {self.rollup_rows(rolled, ('',))} AND column = '' AND day >= {first}"
                f" AND day <= {last} GROUP BY d0 HAVING events_visitors > 0"
            )
        return (
            f"SELECT d0, sum(v) AS events_visitors"
            f" FROM ({_with_raw(raw, rows, part.reads_tables)}) GROUP BY d0"
            " HAVING events_visitors > 0"
        )

    def totals_rollup_part(self, part: Part, rolled: Rolled) -> str:
        """Pageviews and events: rolled-up days' counts plus the other days' events."""
        metrics = part.metrics
        first, last, since, until = self.rolled_params(rolled)
        counts = EVENT_COUNTS
        raw = (
            f"SELECT {', '.join(f'countIf({counts[m][0]}) AS {m}' for m in metrics)} FROM events"
            f" WHERE {self.base_where()} AND name != 'engagement'"
            f" AND NOT (timestamp >= {since} AND timestamp < {until})"
            f" AND {self.outside_days(rolled)}"
            f" AND {self.row_filter(self.row_trees)}"
        )
        # The part's columns themselves when no table is read (one SELECT fewer).
        named = "" if part.reads_tables else "events_"
        rows = (
            f"SELECT {', '.join(f'sum({counts[m][1]}) AS {named}{m}' for m in metrics)}"
            f" FROM {self.rollup_rows(rolled, ('',))} AND (column = ''"
            f" AND day >= {first} AND day <= {last}{self.cut_hours(rolled)})"
        )
        if not part.reads_tables:
            return rows
        cols = ", ".join(f"sum({m}) AS events_{m}" for m in metrics)
        return f"SELECT {cols} FROM ({raw} UNION ALL {rows})"

    def rolled_visits_events(self, rolled: Rolled) -> str:
        """True for an events row of a visit that started on a rolled-up day (whose rows
        hold its events: those within VISIT_SPAN of its start)."""
        # The day a visit started is in its id (jetrack.store.ids).
        start = visit_start_sql("session_id")
        lower = self.p.add(int(midnight(rolled.first).timestamp()), "UInt32")
        upper = self.p.add(int(midnight(rolled.after).timestamp()), "UInt32")
        span = int(VISIT_SPAN.total_seconds())
        return (
            f"{start} >= {lower} AND {start} < {upper}"
            f" AND toUnixTimestamp(timestamp) >= {start}"
            f" AND toUnixTimestamp(timestamp) < {start} + {span}"
        )

    def pages_rollup_part(self, part: Part, rolled: Rolled) -> str:
        """By page: the rolled-up days' visits from their rows, the others from events."""
        first, last, _since, _until = self.rolled_params(rolled)
        in_rolled = self.rolled_visits_events(rolled)
        raw = (
            f"SELECT {self.dims('timestamp')[0]}, uniq(visitor_id) AS v, uniq(session_id) AS n,"
            f" countIf(name = 'pageview') AS pv FROM events"
            f" WHERE {self.base_where()} AND name != 'engagement' AND NOT ({in_rolled})"
            f"{self.unrolled_days(rolled)} AND {self.row_filter(self.row_trees)} GROUP BY d0"
        )
        rows = (
            "SELECT toString(value) AS d0, sum(visitors) AS v, sum(visits) AS n,"
            f" sum(pageviews) AS pv FROM {self.rollup_rows(rolled, ('pathname',))}"
            " AND column = 'pathname'"
            f" AND day >= {first} AND day <= {last} GROUP BY d0"
        )
        partial = {"visitors": "v", "visits": "n", "pageviews": "pv"}
        cols = ", ".join(f"sum({partial[m]}) AS events_{m}" for m in part.metrics)
        return f"SELECT d0, {cols} FROM ({_with_raw(raw, rows, part.reads_tables)}) GROUP BY d0"

    def event_visitors_rollup_part(self, part: Part, rolled: Rolled) -> str:
        """Visitors of the visits with a matching event (the query's one event filter), by
        nothing or a visit column: the rolled-up days' visits from their rows of
        event_rollups, the others' from their events; with pageviews or events (no
        dimension), those of the whole range as totals_rollup_part counts them."""
        first, last, _since, _until = self.rolled_params(rolled)
        dims = self.dims("timestamp")
        if by_filtered_goal(self.q):
            # Every matching event completes the one goal: its name is the one group.
            goal = flt.matching_goals(self.q.filters[0], self.q.goals)[0]  # type: ignore[arg-type]
            dims = [f"{self.p.add(goal.display_name, 'String')} AS d0"]
        raw_where = (
            f" FROM events WHERE {self.base_where()} AND name != 'engagement'"
            f" AND {self.row_filter(self.row_trees)}"
            f" AND NOT ({self.rolled_visits_events(rolled)}){self.unrolled_days(rolled)}"
        )
        column = rolled_column(self.q.dimensions[0]) if self.q.dimensions else ""
        value = f"value AS {column}, " if column else ""
        # Without `part.reads_tables`, no events row is read: the rows hold the range.
        reads_tables = part.reads_tables
        if part.with_total and column:
            return self.event_visitors_with_total(rolled, dims[0], raw_where, column, reads_tables)
        totals = [m for m in part.metrics if m != "visitors"]
        if totals:
            return self.event_visitors_and_totals(rolled, dims, totals, reads_tables)
        raw = f"SELECT {', '.join([*dims, 'uniq(visitor_id) AS v'])}{raw_where}{self.group_by()}"
        rows = (
            f"SELECT {value}visitors FROM {self.rollup_rows(rolled, (column or '',))}"
            f" AND column = {self.p.add(column or '', 'String')}"
            f" AND day >= {first} AND day <= {last}"
        )
        from_rows = (
            f"SELECT {', '.join([*dims, 'sum(visitors) AS v'])} FROM ({rows}){self.group_by()}"
        )
        names = [f"d{i}" for i in range(len(dims))]
        # A group of no visitor is no row (the goal's, without a completion).
        visitors = (
            f"SELECT {', '.join([*names, 'sum(v) AS events_visitors'])}"
            f" FROM ({_with_raw(raw, from_rows, reads_tables)}){self.group_by()}"
            f"{' HAVING events_visitors > 0' if names else ''}"
        )
        return visitors

    def event_visitors_and_totals(
        self, rolled: Rolled, dims: list[str], totals: list[str], reads_tables: bool
    ) -> str:
        """event_visitors_rollup_part with pageviews or events (by nothing, or the one
        filtered goal's literal): one read of the events rows of both (the visitors of the
        visits not rolled up, the matching events of the days not rolled up, as
        totals_rollup_part counts them) and one of the rollup rows of all visits, whose
        figures hold both (their visitors, the matching events of the day)."""
        first, last, since, until = self.rolled_params(rolled)
        unrolled = f"NOT ({self.rolled_visits_events(rolled)}){self.unrolled_days(rolled)}"
        outside = f"NOT (timestamp >= {since} AND timestamp < {until})"
        counts = EVENT_COUNTS
        raw = (
            f"SELECT {', '.join([*dims, f'uniqIf(visitor_id, {unrolled}) AS v'])}, "
            + ", ".join(f"countIf({counts[m][0]} AND {outside}) AS {m}" for m in totals)
            + f" FROM events WHERE {self.base_where()} AND name != 'engagement'"
            f" AND {self.row_filter(self.row_trees)}"
            f" AND ({unrolled} OR {outside} AND {self.outside_days(rolled)}){self.group_by()}"
        )
        from_rows = (
            f"SELECT {', '.join([*dims, 'sum(visitors) AS v'])}, "
            + ", ".join(f"sum({counts[m][1]}) AS {m}" for m in totals)
            + f" FROM {self.rollup_rows(rolled, ('',))} AND column = '' AND day >= {first}"
            f" AND day <= {last}{self.group_by()}"
        )
        names = [f"d{i}" for i in range(len(dims))]
        cols = ", ".join(
            ["sum(v) AS events_visitors", *(f"sum({m}) AS events_{m}" for m in totals)]
        )
        # A group of no visitor is no row (the goal's, without a completion).
        return (
            f"SELECT {', '.join([*names, cols])} FROM ({_with_raw(raw, from_rows, reads_tables)})"
            f"{self.group_by()}{' HAVING events_visitors > 0' if names else ''}"
        )

    def event_visitors_with_total(
        self, rolled: Rolled, dim: str, raw_where: str, column: str, reads_tables: bool
    ) -> str:
        """event_visitors_rollup_part by one column with `events_total`, the visitors of
        all groups (a percentage's divisor), from the same reads (GROUPING SETS over the
        events, the rows of the column and of all visits)."""
        first, last, _since, _until = self.rolled_params(rolled)
        raw = (
            f"SELECT {dim}, uniq(visitor_id) AS v, grouping(d0) = 1 AS is_total{raw_where}"
            " GROUP BY GROUPING SETS ((d0), ())"
        )
        wanted = f"{self.p.add(column, 'String')}, {self.p.add('', 'String')}"
        rows = (
            f"SELECT value AS {column}, column = '' AS is_total, visitors"
            f" FROM {self.rollup_rows(rolled, (column, ''))} AND column IN ({wanted})"
            f" AND day >= {first} AND day <= {last}"
        )
        from_rows = (
            f"SELECT {dim}, sum(visitors) AS v, is_total FROM ({rows}) GROUP BY d0, is_total"
        )
        both = (
            "SELECT *, sumIf(v, is_total) OVER () AS total"
            f" FROM ({_with_raw(raw, from_rows, reads_tables)})"
        )
        return (
            "SELECT d0, sum(v) AS events_visitors, any(total) AS events_total"
            f" FROM ({both}) WHERE NOT is_total GROUP BY d0"
        )

    def visits_filter(
        self,
        trees: list[Filter] | tuple[Filter, ...],
        rolled: Rolled | None = None,
        instants: tuple[str, str] | None = None,
    ) -> str:
        """The filters of sessions rows: on visit dimensions, of the row itself; on event
        dimensions, whether the visit has a matching event in the range. With `rolled`
        (and `instants`, placeholders of the instants the rolled-up days begin and end),
        only for the visits that did not start then: their events are on the days
        `unrolled_days` reads, or else before the last event of those that started before
        (read from the same sessions rows) or after the rolled days, so the other days'
        events are not read."""
        on_visits, on_events = _on_visits_and_events(trees)
        if not on_events:
            return self.row_filter(on_visits)
        outside = "" if rolled is None else self.unrolled_days(rolled)
        if rolled is not None and instants is not None and not outside:
            since, until = instants
            outside = (
                f" AND (timestamp >= {until} OR timestamp <= (SELECT max(timestamp)"
                f" FROM sessions FINAL WHERE {self.visits_in_range()} AND start < {since}))"
            )
        return (
            f"{self.row_filter(on_visits)} AND session_id IN (SELECT session_id"
            f" FROM {self.matching(*on_events)} WHERE {self.base_where()} AND name != 'engagement'"
            f" AND {self.row_filter(on_events)}{outside})"
        )

    def sessions_part(self, part: Part) -> str:
        """One row per visit from the sessions table. Filters on visit dimensions apply to
        it directly (those fixed for the visit before FINAL, as PREWHERE); the rest keep
        the visits with a matching event in the range. `part.with_total` (one dimension):
        also `sessions_total`, the visitors of all groups (a percentage's divisor), from
        the same rows (GROUPING SETS)."""
        metrics = part.metrics
        trees = self.q.filters if part.filters is None else part.filters
        on_visits, on_events = _on_visits_and_events(trees)
        matched = (
            f"WHERE {self.base_where()} AND name != 'engagement' AND {self.row_filter(on_events)}"
        )
        source = "sessions FINAL"
        if any(m in COUNTED_IN_RANGE for m in metrics):
            # Pageviews and events count in the range only, so a visit crossing its
            # boundary brings only its events inside (grouped by exit page, say).
            source += (
                " INNER JOIN (SELECT session_id, countIf(name = 'pageview') AS matched_pageviews,"
                f" count() AS matched_events FROM events {matched} GROUP BY session_id) AS matched"
                " USING (session_id)"
            )
            where = f"{self.visits_in_range()} AND {self.row_filter(on_visits)}"
        else:
            source, rest = self.sessions_prewhere(on_visits)
            where = f"{self.visits_in_range()} AND {self.row_filter(rest)}"
            if on_events:
                where += (
                    f" AND session_id IN (SELECT session_id FROM {self.matching(*on_events)}"
                    f" {matched})"
                )
        dims = self.dims(f"greatest(start, {self.start})", sessions=True)
        cols = dims + [f"{METRICS[m].sessions} AS sessions_{m}" for m in metrics]
        if not part.with_total:
            return f"SELECT {', '.join(cols)} FROM {source} WHERE {where}{self.group_by()}"
        grouped = (
            f"SELECT {', '.join(cols)}, grouping(d0) = 1 AS is_total FROM {source}"
            f" WHERE {where} GROUP BY GROUPING SETS ((d0), ())"
        )
        both = (
            f"SELECT *, anyIf(sessions_visitors, is_total) OVER () AS sessions_total"
            f" FROM ({grouped})"
        )
        names = ", ".join(["d0", *(f"sessions_{m}" for m in metrics), "sessions_total"])
        return f"SELECT {names} FROM ({both}) WHERE NOT is_total"

    def sessions_prewhere(self, trees: list[Filter]) -> tuple[str, list[Filter]]:
        """`sessions FINAL`, with the trees on columns fixed for a visit (its attributes,
        the same in every row of it) as PREWHERE, and the other trees: FINAL keeps a
        visit's newest row, so only conditions every row of a visit agrees on may be
        applied before it (ClickHouse moves none there by itself under FINAL)."""
        fixed = [t for t in trees if _fixed_per_visit(t)]
        rest = [t for t in trees if not _fixed_per_visit(t)]
        if not fixed:
            return "sessions FINAL", rest
        return f"sessions FINAL PREWHERE {self.row_filter(fixed)}", rest

    def exits_part(self, part: Part) -> str:
        """exit_rate's divisor: each page's pageviews in the range, under the query's filters
        but those on sessions-only dimensions (a page viewed in a visit that ended on
        another page counts too)."""
        return (
            "SELECT toString(pathname) AS d0, count() AS exits_pageviews FROM events"
            f" WHERE {self.base_where()} AND name = 'pageview'"
            f" AND {self.row_filter(self.row_trees)} GROUP BY d0"
        )

    def engagement_part(self, metrics: Sequence[str]) -> str:
        dims = self.dims("timestamp")
        names = [f"d{i}" for i in range(len(dims))]
        inner = (
            f"SELECT {', '.join([*dims, 'session_id'])}, max(scroll_depth) AS deepest_scroll,"
            f" sum(engagement_ms) AS engaged_ms FROM events"
            f" WHERE {self.base_where()} AND name = 'engagement'"
            f" AND {self.row_filter(self.row_trees)}{self.exit_page_clause()}"
            f" GROUP BY {', '.join([*names, 'session_id'])}"
        )
        cols = names + [f"{METRICS[m].engagement} AS engagement_{m}" for m in metrics]
        return f"SELECT {', '.join(cols)} FROM ({inner}){self.group_by()}"


def _with_raw(raw: str, rows: str, reads_tables: bool) -> str:
    """The rollup rows' SELECT `rows`, and `raw`'s over the tables when they are read."""
    return f"{raw} UNION ALL {rows}" if reads_tables else rows


def _partials(source: int) -> list[str]:
    """The ROLLUP_PARTIALS columns over sessions rows (0) or rollup rows (1)."""
    return [f"{pair[source]} AS {name}" for name, pair in ROLLUP_PARTIALS.items()]


def _touches_session_only(tree: Filter) -> bool:
    return any(is_session_only(c.dimension) for c in conditions(tree))


def _on_visits_and_events(
    trees: list[Filter] | tuple[Filter, ...],
) -> tuple[list[Filter], list[Filter]]:
    """The trees on visit attributes (or a visit's other events: has_done), and those on
    the event itself."""
    return [t for t in trees if not touches_event(t)], [t for t in trees if touches_event(t)]


def _fixed_per_visit(tree: Filter) -> bool:
    """Whether a filter tree reads only visit attributes (set by the visit's first event),
    with no has_done/has_not_done: every sessions row of a visit gives it the same answer."""
    if isinstance(tree, Condition):
        return is_fixed_per_visit(tree.dimension)
    if isinstance(tree, Behaviour):
        return False
    if isinstance(tree, Negation):
        return _fixed_per_visit(tree.child)
    return all(_fixed_per_visit(child) for child in tree.children)


def build(
    plan: Plan,
    *,
    params: Params | None = None,
    only_keys: list[tuple[str, ...]] | None = None,
    paginate: bool = True,
) -> Statement:
    """The statement answering `plan.query`: dimension columns d0.., then one column per
    metric in request order, then the row count before pagination. Divisors of derived
    metrics are scalar subqueries sharing `params`; `only_keys` keeps the rows of those
    dimension values (a comparison's)."""
    query = plan.query
    params = params or Params()
    # Each divisor computed once, in a WITH clause.
    divisors = {
        metric: scalar(divisor.whole, params)
        for metric, divisor in plan.divisors
        if divisor.whole is not None and not divisor.by
    }
    b = _Builder(query, params, plan.revenue)
    parts = [(part, _render(b, part, plan.rolled)) for part in plan.parts]
    dim_names = [f"d{i}" for i in range(len(query.dimensions))]
    source = f"({parts[0][1]}) AS {parts[0][0].name}"
    for part, sql in parts[1:]:
        kind = "FULL OUTER" if part.outer else "LEFT"
        join = (
            f"{kind} JOIN ({sql}) AS {part.name} USING ({', '.join(dim_names)})"
            if dim_names
            else f"CROSS JOIN ({sql}) AS {part.name}"
        )
        source += " " + join
    for metric, grouped in plan.divisors:
        if grouped.by and grouped.whole is not None:
            source += " " + _group_join(metric, grouped.whole, grouped.by, params)

    outputs = []
    with_terms = []
    for index, metric in enumerate(query.metrics):
        if metric in plan.tables.provider:
            expr = plan.column(metric)
        else:
            divisor = plan.divisor(metric)
            total = "0"
            if divisor is not None and divisor.inline:
                total = next(f"{p.name}_total" for p in plan.parts if p.with_total)
            elif divisor is not None and divisor.by:
                total = f"group_total_{metric}"
            elif metric in divisors:
                with_terms.append(f"{divisors[metric]} AS total_{metric}")
                total = f"total_{metric}"
            if metric == "exit_rate":
                expr = derived_sql(metric, plan.column("visits"), "exits_pageviews")
            else:
                expr = derived_sql(metric, plan.column("visitors"), total)
        outputs.append(f"{expr} AS m{index}")
    select = [*dim_names, *outputs, "count() OVER () AS total_rows"]
    with_clause = f"WITH {', '.join(with_terms)} " if with_terms else ""
    sql = f"{with_clause}SELECT {', '.join(select)} FROM {source}"
    if only_keys is not None:
        tuples = ", ".join(
            "tuple(" + ", ".join(b.p.add(v, "String") for v in key) + ")" for key in only_keys
        )
        sql += f" WHERE has([{tuples}], tuple({', '.join(dim_names)}))"
    sql += " ORDER BY " + order_sql(query)
    if paginate:
        sql += f" LIMIT {b.p.add(query.limit, 'UInt32')} OFFSET {b.p.add(query.offset, 'UInt32')}"
    return Statement(sql, b.p.values, len(dim_names), list(query.metrics))


def row_conditions(query: Query, params: Params) -> _Builder:
    """The WHERE pieces of `query` (site, range, filter trees, exit-page visits) for a
    statement that is not a Plan's (jetrack.stats.funnel): the same filters, the same rows."""
    return _Builder(query, params)


def _group_join(metric: str, whole: Plan, by: tuple[int, ...], params: Params) -> str:
    """The visitors of each group of the dimensions at positions `by`, joined on them."""
    inner = build(whole, params=params, paginate=False).sql
    # Two steps: an alias named like one of the inner columns would shadow it.
    hidden = ", ".join(f"d{j} AS g{i}" for j, i in enumerate(by))
    shown = ", ".join(f"g{i} AS d{i}" for i in by)
    keys = ", ".join(f"d{i}" for i in by)
    return (
        f"LEFT JOIN (SELECT {shown}, total AS group_total_{metric} FROM (SELECT {hidden},"
        f" m0 AS total FROM ({inner}))) AS group_{metric} USING ({keys})"
    )


def _render(b: _Builder, part: Part, rolled: Rolled | None) -> str:
    """The SQL of one part, from the tables or the rollups as the plan says."""
    if part.name == "sessions" and (part.source == "tables" or rolled is None):
        return b.sessions_part(part)
    if part.name == "exits":
        return b.exits_part(part)
    if part.source == "tables" or rolled is None:
        if part.name == "events":
            return b.events_part(part.metrics, part.with_total)
        return b.engagement_part(part.metrics)
    rollups = {"visit_rollups": b.sessions_rollup_part, "graph_rollups": b.graph_rollup_part,
               "totals_rollups": b.totals_rollup_part, "page_rollups": b.pages_rollup_part,
               "event_visitor_rollups": b.event_visitors_rollup_part}  # fmt: skip
    return rollups[part.source](part, rolled)


def scalar(plan: Plan, params: Params) -> str:
    """The first metric of a no-dimension plan as a scalar subquery."""
    inner = build(plan, params=params, paginate=False).sql
    return f"(SELECT m0 FROM ({inner}))"


def order_sql(query: Query) -> str:
    """ORDER BY terms over the output columns d0.. and m0..: order_by, then every
    dimension ascending."""
    terms = []
    for name, direction in query.order_by:
        if name in query.metrics:
            column = f"m{query.metrics.index(name)}"
        else:
            column = f"d{query.dimensions.index(name)}"
        terms.append(f"{column} {'DESC' if direction == 'desc' else 'ASC'}")
    named = {t.split()[0] for t in terms}
    terms += [f"d{i} ASC" for i in range(len(query.dimensions)) if f"d{i}" not in named]
    return ", ".join(terms) or "1"
