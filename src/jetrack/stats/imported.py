"""Imported history (jetrack.store.imported) in a query's answer, when it asks
(`include.imports`): whether it can be added and why not (pure, `decide`), its rows
(`statement`), and the native and imported rows merged (`merge`).

Imported tables hold daily aggregates, one table per dimension, so they answer a query
whose dimension (and every filtered dimension) is one table's, whose time buckets are
days or longer, and whose metrics that table counts; the reasons Plausible gives
otherwise (`meta.imports_skip_reason`) are kept."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from jetrack.stats.filters import condition_sql
from jetrack.stats.params import Params
from jetrack.stats.query import Condition, Connective, Filter, Negation, Query, is_time_dimension
from jetrack.stats.results import Row

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


@dataclass(frozen=True)
class Source:
    """One imported table as the engine reads it: its partial sums and metrics."""

    table: str
    partials: dict[str, str]
    metrics: frozenset[str]


_PLAIN = Source("imported_visitors", _VISIT_COUNTS, _VISIT_METRICS)
_SOURCES = Source("imported_sources", _VISIT_COUNTS, _VISIT_METRICS)
_LOCATIONS = Source("imported_locations", _VISIT_COUNTS, _VISIT_METRICS)
_DEVICES = Source("imported_devices", _VISIT_COUNTS, _VISIT_METRICS)
_BROWSERS = Source("imported_browsers", _VISIT_COUNTS, _VISIT_METRICS)
_SYSTEMS = Source("imported_operating_systems", _VISIT_COUNTS, _VISIT_METRICS)
_ENTRIES = Source("imported_entry_pages", {**_VISIT_COUNTS, "n": "entrances"}, _VISIT_METRICS)
_EXITS = Source("imported_exit_pages", {**_VISIT_COUNTS, "n": "exits"}, _VISIT_METRICS)
_PAGES = Source(
    "imported_pages",
    {"v": "visitors", "n": "visits", "pv": "pageviews"},
    frozenset({"visitors", "visits", "pageviews"}),
)
_EVENTS = Source(
    "imported_custom_events", {"v": "visitors", "ev": "events"}, frozenset({"visitors", "events"})
)

# Dimension -> (table, the column's expression there, as the native dimension shows it).
DIMENSIONS: dict[str, tuple[Source, str]] = {
    "visit:source": (_SOURCES, "if(source = '', 'Direct / None', source)"),
    "visit:referrer": (_SOURCES, "referrer"),
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
    "visit:device": (_DEVICES, "device"),
    "visit:browser": (_BROWSERS, "browser"),
    "visit:browser_version": (_BROWSERS, "browser_version"),
    "visit:os": (_SYSTEMS, "operating_system"),
    "visit:os_version": (_SYSTEMS, "operating_system_version"),
    "event:name": (_EVENTS, "name"),
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
    return Decision(True, source=source)


def _source(query: Query) -> Source | None:
    """The one table that has the query's dimension and every dimension it filters by."""
    named = [d for d in query.dimensions if not is_time_dimension(d)]
    filtered: list[str] = []
    for tree in query.filters:
        found = _filtered(tree)
        if found is None:
            return None
        filtered += found
    if len(named) > 1 or any(d not in DIMENSIONS for d in named):
        return None
    if any(d not in _FILTERABLE for d in filtered):
        return None
    tables = {DIMENSIONS[d][0].table: DIMENSIONS[d][0] for d in [*named, *filtered]}
    if len(tables) > 1:
        return None
    return next(iter(tables.values())) if tables else _PLAIN


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


def statement(query: Query, source: Source) -> tuple[str, dict[str, object]]:
    """Per key of the query's dimensions, the imported partial sums (PARTIALS order)."""
    p = Params()
    first = p.add(query.date_range.first_day.isoformat(), "Date")
    keys = [_key_sql(d, first) for d in query.dimensions]
    sums = [
        f"sum({source.partials[name]})" if name in source.partials else "0" for name in PARTIALS
    ]
    where = [
        f"site_id = {p.add(query.site_id, 'UInt32')}",
        f"date >= {first}",
        f"date <= {p.add(query.date_range.last_day.isoformat(), 'Date')}",
        *(_filter_sql(tree, p) for tree in query.filters),
    ]
    sql = f"SELECT {', '.join([*keys, *sums])} FROM {source.table} WHERE {' AND '.join(where)}"
    if keys:
        sql += f" GROUP BY {', '.join(f'{i + 1}' for i in range(len(keys)))}"
    return sql, p.values


def _key_sql(dimension: str, first: str) -> str:
    if dimension == "time:day":
        return "toString(date)"
    if dimension == "time:week":
        return f"toString(greatest(toMonday(date), {first}))"
    if dimension == "time:month":
        return f"toString(greatest(toStartOfMonth(date), {first}))"
    return DIMENSIONS[dimension][1]


def _filter_sql(tree: Filter, p: Params) -> str:
    if isinstance(tree, Condition):
        return condition_sql(tree, DIMENSIONS[tree.dimension][1], p)
    if isinstance(tree, Negation):
        return f"NOT {_filter_sql(tree.child, p)}"
    assert isinstance(tree, Connective)
    joiner = " AND " if tree.operator == "and" else " OR "
    return "(" + joiner.join(_filter_sql(child, p) for child in tree.children) + ")"


def native_metrics(query: Query) -> tuple[str, ...]:
    """The metrics to ask the native tables for: the query's, and visits when a rate per
    visit must be weighted by them."""
    rates = {"bounce_rate", "visit_duration", "views_per_visit"}
    if rates & set(query.metrics) and "visits" not in query.metrics:
        return (*query.metrics, "visits")
    return query.metrics


def merge(query: Query, native: Sequence[Row], imported: Sequence[tuple[object, ...]]) -> list[Row]:
    """Every key of either side, its metrics added up (rates weighted by visits), in the
    query's order; pagination is the caller's."""
    asked = native_metrics(query)
    width = len(query.dimensions)
    sums: dict[tuple[str, ...], list[float]] = {}
    for row in native:
        values = dict(zip(asked, row.metrics, strict=True))
        n = float(values.get("visits", 0))
        sums.setdefault(row.dimensions, [0.0] * 6)
        partial = [
            float(values.get("visitors", 0)),
            n,
            float(values.get("pageviews", 0)) if "pageviews" in values
            else float(values.get("views_per_visit", 0)) * n,
            float(values.get("bounce_rate", 0)) * n / 100,
            float(values.get("visit_duration", 0)) * n,
            float(values.get("events", 0)),
        ]  # fmt: skip
        sums[row.dimensions] = [a + b for a, b in zip(sums[row.dimensions], partial, strict=True)]
    for cells in imported:
        key = tuple(str(v) for v in cells[:width])
        partial = [float(v) for v in cells[width:]]  # type: ignore[arg-type]
        sums[key] = [a + b for a, b in zip(sums.get(key, [0.0] * 6), partial, strict=True)]
    rows = [
        Row(key, [_metric(name, parts) for name in query.metrics]) for key, parts in sums.items()
    ]
    return sorted(rows, key=functools.cmp_to_key(functools.partial(_compare, query)))


def _metric(name: str, parts: list[float]) -> int | float:
    v, n, pv, b, du, ev = parts
    if name == "bounce_rate":
        return round(100 * b / n) if n else 0
    if name == "visit_duration":
        return round(du / n) if n else 0
    if name == "views_per_visit":
        return round(pv / n, 2) if n else 0.0
    return round({"visitors": v, "visits": n, "pageviews": pv, "events": ev}[name])


def _compare(query: Query, a: Row, b: Row) -> int:
    """The native statement's order (jetrack.stats.sql._order_sql): order_by, then every
    dimension ascending."""
    terms = [
        (query.metrics.index(name), True, direction == "desc")
        if name in query.metrics
        else (query.dimensions.index(name), False, direction == "desc")
        for name, direction in query.order_by
    ]
    terms += [(i, False, False) for i in range(len(query.dimensions))]
    for index, metric, descending in terms:
        left = a.metrics[index] if metric else a.dimensions[index]
        right = b.metrics[index] if metric else b.dimensions[index]
        if left != right:
            smaller = left < right  # type: ignore[operator]
            return (1 if smaller else -1) if descending else (-1 if smaller else 1)
    return 0


def meta(decision: Decision) -> dict[str, object]:
    """The answer's meta keys of a query that asked for imports (Plausible's)."""
    out: dict[str, object] = {"imports_included": decision.included}
    if decision.reason is not None:
        out["imports_skip_reason"] = decision.reason
        if decision.reason in WARNINGS:
            out["imports_warning"] = WARNINGS[decision.reason]
    return out
