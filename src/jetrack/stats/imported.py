"""Imported history (jetrack.store.imported) in a query's answer, when it asks
(`include.imports`): whether it can be added and why not (pure, `decide`), its rows
(`statement`), and the native and imported rows merged (`merge`).

Imported tables hold daily aggregates, one table per dimension, so they answer a query
whose dimension (and every filtered dimension) is one table's, whose time buckets are
days or longer, and whose metrics that table counts; the reasons Plausible gives
otherwise (`meta.imports_skip_reason`) are kept."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date

from jetrack.stats.filters import condition_sql, matching_goals, wildcard_regex
from jetrack.stats.metrics import REVENUE, derived_sql
from jetrack.stats.params import Params
from jetrack.stats.query import (
    Condition,
    Connective,
    Filter,
    GoalInfo,
    Negation,
    Query,
    is_time_dimension,
)
from jetrack.stats.sql import order_sql

NO_IMPORTED_DATA = "no_imported_data"
OUT_OF_RANGE = "out_of_range"
UNSUPPORTED_INTERVAL = "unsupported_interval"
UNSUPPORTED_QUERY = "unsupported_query"
WARNINGS = {
    UNSUPPORTED_QUERY: "Imported stats are not included in the results because query "
    "parameters are not supported (see docs/imports.md for the dimensions, filters and "
    "metrics imported stats answer).",
    UNSUPPORTED_INTERVAL: "Imported stats are not included because the time dimension "
    "(i.e. the interval) is too short.",
}

# Partial sums every imported table gives (0 where it has no such count): v visitors,
# n visits, pv pageviews, b bounces, du seconds of visits, ev custom events.
PARTIALS = ("v", "n", "pv", "b", "du", "ev")
_VISIT_COUNTS = {"v": "visitors", "n": "visits", "pv": "pageviews", "b": "bounces",
                 "du": "visit_duration"}  # fmt: skip
_VISIT_METRICS = frozenset(
    {"visitors", "visits", "pageviews", "bounce_rate", "visit_duration", "views_per_visit"}
)


# Goal conversions: counted from imported custom events (custom event goals, by name) and
# imported pages (pageview goals, by path); the rate divides by the visitors of the
# query without its goal filters, imported ones included; imported rows have no revenue.
CONVERSION_RATES = ("conversion_rate", "group_conversion_rate")
_CONVERSIONS = frozenset({*CONVERSION_RATES, *REVENUE})


@dataclass(frozen=True)
class Source:
    """One imported table as the engine reads it: its partial sums and metrics; `also`,
    a second table whose rows join the first's (goal conversions of both goal types)."""

    table: str
    partials: dict[str, str]
    metrics: frozenset[str]
    also: Source | None = None


_PLAIN = Source("imported_visitors", _VISIT_COUNTS, _VISIT_METRICS)
_SOURCES = Source("imported_sources", _VISIT_COUNTS, _VISIT_METRICS)
_LOCATIONS = Source("imported_locations", _VISIT_COUNTS, _VISIT_METRICS)
_DEVICES = Source("imported_devices", _VISIT_COUNTS, _VISIT_METRICS)
_BROWSERS = Source("imported_browsers", _VISIT_COUNTS, _VISIT_METRICS)
_SYSTEMS = Source("imported_operating_systems", _VISIT_COUNTS, _VISIT_METRICS)
_ENTRIES = Source("imported_entry_pages", {**_VISIT_COUNTS, "n": "entrances"}, _VISIT_METRICS)
_EXITS = Source("imported_exit_pages", {**_VISIT_COUNTS, "n": "exits"}, _VISIT_METRICS)
# A pageview goal's conversions are its pages' pageviews (Plausible's `events` of pages).
_PAGES = Source(
    "imported_pages",
    {"v": "visitors", "n": "visits", "pv": "pageviews", "ev": "pageviews"},
    frozenset({"visitors", "visits", "pageviews", "events", *_CONVERSIONS}),
)
_EVENTS = Source(
    "imported_custom_events",
    {"v": "visitors", "ev": "events"},
    frozenset({"visitors", "events", *_CONVERSIONS}),
)
_GOALS = Source(_EVENTS.table, _EVENTS.partials, _EVENTS.metrics & _PAGES.metrics, also=_PAGES)
# Plausible's special goals, whose `url` or `path` property the imported custom events keep
# (link_url, path): those properties answer only with a filter naming one of them.
SPECIAL_GOALS = {
    "event:props:url": ("Outbound Link: Click", "Cloaked Link: Click", "File Download"),
    "event:props:path": ("404", "WP Form Completions", "Form: Submission"),
}

# Dimension -> (table, the column's expression there, as the native dimension shows it).
DIMENSIONS: dict[str, tuple[Source, str]] = {
    "visit:source": (_SOURCES, "if(source = '', 'Direct / None', source)"),
    "visit:referrer": (_SOURCES, "referrer"),
    # '' only on rows imported before the column (event migration 0010): Direct or Referral.
    "visit:channel": (_SOURCES, "if(channel = '', if(source = '', 'Direct', 'Referral'), channel)"),
    "visit:utm_source": (_SOURCES, "utm_source"),
    "visit:utm_medium": (_SOURCES, "utm_medium"),
    "visit:utm_campaign": (_SOURCES, "utm_campaign"),
    "visit:utm_content": (_SOURCES, "utm_content"),
    "visit:utm_term": (_SOURCES, "utm_term"),
    "event:page": (_PAGES, "page"),
    "event:hostname": (_PAGES, "hostname"),
    "visit:entry_page": (_ENTRIES, "entry_page"),
    "visit:exit_page": (_EXITS, "exit_page"),
    "visit:country": (_LOCATIONS, "country"),
    "visit:country_name": (_LOCATIONS, "country"),
    "visit:region": (_LOCATIONS, "region"),
    "visit:region_name": (_LOCATIONS, "region"),
    # GeoNames ids on both sides (Plausible's export and Jetrack's city_geoname_id).
    "visit:city": (_LOCATIONS, "toString(city)"),
    "visit:device": (_DEVICES, "device"),
    "visit:browser": (_BROWSERS, "browser"),
    "visit:browser_version": (_BROWSERS, "browser_version"),
    "visit:os": (_SYSTEMS, "operating_system"),
    "visit:os_version": (_SYSTEMS, "operating_system_version"),
    "event:name": (_EVENTS, "name"),
    "event:props:url": (_EVENTS, "if(link_url = '', '(none)', link_url)"),
    "event:props:path": (_EVENTS, "if(path = '', '(none)', path)"),
}
# Names filters compare as the dimension shows them (codes, not country names).
_FILTERABLE = frozenset(DIMENSIONS) - {"visit:country_name", "visit:region_name"}
_OPERATORS = frozenset({"is", "is_not", "contains", "contains_not"})


@dataclass(frozen=True)
class Decision:
    """Whether the imported rows join the answer; `reason` (Plausible's skip reason) when
    they do not, `source` the table they come from when they do."""

    included: bool
    reason: str | None = None
    source: Source | None = None


def decide(query: Query, imported: tuple[date, date] | None) -> Decision:
    """`imported`: the first and last day of the site's imported rows (None: no rows)."""
    if imported is None:
        return Decision(False, NO_IMPORTED_DATA)
    first, last = imported
    if query.date_range.last_day < first or query.date_range.first_day > last:
        return Decision(False, OUT_OF_RANGE)
    if any(d in ("time:minute", "time:hour") for d in query.dimensions):
        return Decision(False, UNSUPPORTED_INTERVAL)
    source = _source(query)
    if source is None or not set(query.metrics) <= source.metrics:
        return Decision(False, UNSUPPORTED_QUERY)
    if "group_conversion_rate" in query.metrics and set(query.dimensions) - {"event:goal"}:
        # Its divisor would be grouped by the other dimensions: not merged.
        return Decision(False, UNSUPPORTED_QUERY)
    return Decision(True, source=source)


def _source(query: Query) -> Source | None:
    """The one table that has the query's dimension and every dimension it filters by
    (with goals: the tables of their goal types; both for a breakdown by goal that filters
    by goals only)."""
    named = [d for d in query.dimensions if not is_time_dimension(d)]
    filtered: list[str] = []
    for tree in query.filters:
        found = _filtered(tree)
        if found is None:
            return None
        filtered += found
    if len(named) > 1 or any(d not in DIMENSIONS and d != "event:goal" for d in named):
        return None
    if any(d not in _FILTERABLE and d != "event:goal" for d in filtered):
        return None
    if any(d in SPECIAL_GOALS and not _names_special_goal(query, d) for d in [*named, *filtered]):
        return None
    by_goal = named == ["event:goal"]
    goals = _goals_of(query)
    tables = {DIMENSIONS[d][0].table: DIMENSIONS[d][0] for d in [*named, *filtered]
              if d != "event:goal"}  # fmt: skip
    if by_goal and goals is None:
        # Every goal, each from its type's table; with an event:name or event:page filter,
        # the goals of that table's type.
        if not tables:
            return _GOALS
        table = next(iter(tables.values()))
        return table if len(tables) == 1 and table in (_EVENTS, _PAGES) else None
    tables |= {g.table: g for g in map(_goal_source, goals or [])}
    if len(tables) > 1:
        return None
    if tables:
        return next(iter(tables.values()))
    # By goal (or filtered by goals) with none configured or selected: no imported row.
    return _EVENTS if by_goal or goals is not None else _PLAIN


def _goals_of(query: Query) -> list[GoalInfo] | None:
    """The goals the top-level event:goal conditions select (None: no such condition)."""
    chosen: list[GoalInfo] | None = None
    for tree in query.filters:
        if isinstance(tree, Condition) and tree.dimension == "event:goal":
            selected = matching_goals(tree, query.goals)
            chosen = [g for g in (selected if chosen is None else chosen) if g in selected]
    return chosen


def _goal_source(goal: GoalInfo) -> Source:
    return _EVENTS if goal.event_name is not None else _PAGES


def _names_special_goal(query: Query, prop: str) -> bool:
    """Whether a top-level `is` on event:name or event:goal names a goal keeping `prop`."""
    return any(
        isinstance(tree, Condition)
        and tree.operator == "is"
        and tree.dimension in ("event:name", "event:goal")
        and any(value in SPECIAL_GOALS[prop] for value in tree.clauses)
        for tree in query.filters
    )


def _filtered(tree: Filter) -> list[str] | None:
    """The dimensions of a filter tree, or None when the tree cannot filter imported rows
    (has_done, an operator of patterns)."""
    if isinstance(tree, Condition):
        return [tree.dimension] if tree.operator in _OPERATORS else None
    if isinstance(tree, Negation):
        return _filtered(tree.child)
    if isinstance(tree, Connective):
        found: list[str] = []
        for child in tree.children:
            part = _filtered(child)
            if part is None:
                return None
            found += part
        return found
    return None


def imported_sql(query: Query, source: Source, p: Params) -> str:
    """Per key of the query's dimensions (d0..), the imported partial sums (PARTIALS)."""
    if source.also is not None:
        # Both goal types: each table's sums per key, added up.
        first = _table_sql(query, replace(source, also=None), p)
        parts = f"{first} UNION ALL {_table_sql(query, source.also, p)}"
        keys = [f"d{i}" for i in range(len(query.dimensions))]
        sums = [f"sum(i_{name}) AS i_{name}" for name in PARTIALS]
        group = f" GROUP BY {', '.join(keys)}" if keys else ""
        return f"SELECT {', '.join([*keys, *sums])} FROM ({parts}){group}"
    return _table_sql(query, source, p)


def _table_sql(query: Query, source: Source, p: Params) -> str:
    first = p.add(query.date_range.first_day.isoformat(), "Date")
    keys = [f"{_key_sql(d, first)} AS d{i}" for i, d in enumerate(query.dimensions)]
    sums = [
        f"sum({source.partials[name]}) AS i_{name}" if name in source.partials else f"0 AS i_{name}"
        for name in PARTIALS
    ]
    where = [
        f"site_id = {p.add(query.site_id, 'UInt32')}",
        f"date >= {first}",
        f"date <= {p.add(query.date_range.last_day.isoformat(), 'Date')}",
        *(_filter_sql(tree, query, source, p) for tree in query.filters),
    ]
    sql = f"SELECT {', '.join([*keys, *sums])} FROM {source.table}"
    if "event:goal" in query.dimensions:
        # Each row counts for every goal it completes (as native events, sql.goal_join).
        goals = _goals_of(query)
        names = [
            f"if({_goal_match(g, source, p)}, {p.add(g.display_name, 'String')}, '')"
            for g in (query.goals if goals is None else goals)
        ]
        listed = ", ".join(names) or "''"
        sql += f" ARRAY JOIN arrayFilter(g -> g != '', [{listed}]) AS goal_name"
    sql += f" WHERE {' AND '.join(where)}"
    if keys:
        sql += f" GROUP BY {', '.join(f'd{i}' for i in range(len(keys)))}"
    return sql


def _goal_match(goal: GoalInfo, source: Source, p: Params) -> str:
    """True for an imported row of `source` that completes `goal`: a custom event of its
    name, a page its path matches; never for a goal asking for custom properties (imported
    rows have none)."""
    if goal.custom_props or _goal_source(goal).table != source.table:
        return "0"
    if goal.event_name is not None:
        return f"name = {p.add(goal.event_name, 'String')}"
    return f"match(page, {p.add(wildcard_regex(goal.page_path or ''), 'String')})"


def merged_sql(
    query: Query,
    native: str,
    imported: str,
    p: Params,
    paginate: bool = True,
    divisor: str | None = None,
) -> str:
    """The native statement's rows (all of them, with native_metrics) and the imported
    sums joined on the dimensions: counts added, rates weighted by visits, conversion
    rates of the added visitors over `divisor` (given with them: a scalar: the visitors of the query
    without its goal filters, imported ones included), revenue native only; then ordered
    and paginated as the native statement would be (same output columns)."""
    asked = native_metrics(query)
    column = {name: f"n.m{asked.index(name)}" for name in asked}
    visits = f"({column['visits']} + i.i_n)" if "visits" in column else "i.i_n"
    native_visits = column.get("visits", "0")

    def weighted(native_rate: str, imported_sum: str, scale: str, digits: int) -> str:
        total = f"({native_rate} * {native_visits}{scale} + {imported_sum})"
        factor = "100 * " if scale else ""
        return f"if({visits} = 0, 0, round({factor}{total} / {visits}, {digits}))"

    exprs: dict[str, Callable[[], str]] = {
        "visitors": lambda: f"{column['visitors']} + i.i_v",
        "visits": lambda: visits,
        "pageviews": lambda: f"{column['pageviews']} + i.i_pv",
        "events": lambda: f"{column['events']} + i.i_ev",
        "bounce_rate": lambda: weighted(column["bounce_rate"], "i.i_b", " / 100", 0),
        "visit_duration": lambda: weighted(column["visit_duration"], "i.i_du", "", 0),
        "views_per_visit": lambda: weighted(column["views_per_visit"], "i.i_pv", "", 2),
    }

    def output(name: str) -> str:
        if name in REVENUE:
            return column[name]  # imported rows have no revenue
        if name in CONVERSION_RATES:
            return derived_sql(name, f"({exprs['visitors']()})", "whole")
        return exprs[name]()

    dims = [f"d{i}" for i in range(len(query.dimensions))]
    outputs = [f"{output(name)} AS m{index}" for index, name in enumerate(query.metrics)]
    join = (
        f"FULL OUTER JOIN ({imported}) AS i USING ({', '.join(dims)})"
        if dims
        else (f"CROSS JOIN ({imported}) AS i")
    )
    # In a WITH clause: a scalar subquery among the outputs would see their aliases.
    with_clause = f"WITH {divisor} AS whole " if divisor is not None else ""
    sql = (
        f"{with_clause}SELECT {', '.join([*dims, *outputs, 'count() OVER () AS total_rows'])}"
        f" FROM ({native}) AS n {join} ORDER BY {order_sql(query)}"
    )
    if paginate:
        sql += f" LIMIT {p.add(query.limit, 'UInt32')} OFFSET {p.add(query.offset, 'UInt32')}"
    return sql


def _key_sql(dimension: str, first: str) -> str:
    if dimension == "time:day":
        return "toString(date)"
    if dimension == "time:week":
        return f"toString(greatest(toMonday(date), {first}))"
    if dimension == "time:month":
        return f"toString(greatest(toStartOfMonth(date), {first}))"
    if dimension == "event:goal":
        return "goal_name"
    return DIMENSIONS[dimension][1]


def _filter_sql(tree: Filter, query: Query, source: Source, p: Params) -> str:
    if isinstance(tree, Condition) and tree.dimension == "event:goal":
        goals = matching_goals(tree, query.goals)
        return "(" + " OR ".join(["0", *(_goal_match(g, source, p) for g in goals)]) + ")"
    if isinstance(tree, Condition):
        return condition_sql(tree, DIMENSIONS[tree.dimension][1], p)
    if isinstance(tree, Negation):
        return f"NOT {_filter_sql(tree.child, query, source, p)}"
    assert isinstance(tree, Connective)
    joiner = " AND " if tree.operator == "and" else " OR "
    parts = (_filter_sql(child, query, source, p) for child in tree.children)
    return "(" + joiner.join(parts) + ")"


def native_metrics(query: Query) -> tuple[str, ...]:
    """The metrics to ask the native tables for: the query's, and visits when a rate per
    visit must be weighted by them."""
    metrics = tuple(m for m in query.metrics if m not in CONVERSION_RATES)
    if len(metrics) < len(query.metrics) and "visitors" not in metrics:
        metrics += ("visitors",)
    rates = {"bounce_rate", "visit_duration", "views_per_visit"}
    if rates & set(metrics) and "visits" not in metrics:
        return (*metrics, "visits")
    return metrics


def meta(decision: Decision) -> dict[str, object]:
    """The answer's meta keys of a query that asked for imports (Plausible's)."""
    out: dict[str, object] = {"imports_included": decision.included}
    if decision.reason is not None:
        out["imports_skip_reason"] = decision.reason
        if decision.reason in WARNINGS:
            out["imports_warning"] = WARNINGS[decision.reason]
    return out
