"""Checks the schema cannot express: combinations of metrics, dimensions and filters, and
filter values that the dimension cannot hold. The bar is Plausible's query validation:
where it refuses a query as meaningless, so does this (tests/stats/test_rules.py)."""

from __future__ import annotations

import json
import re

from jetrack.stats.dates import MAX_MINUTE_SPAN, MAX_TIME_BUCKETS, auto_bucket, bucket_count
from jetrack.stats.dimensions import DIMENSIONS, is_session_only
from jetrack.stats.errors import QueryError
from jetrack.stats.metrics import (
    BY_ENTRY_PAGE,
    CONVERSION_RATES,
    ENGAGEMENT_ONLY,
    SESSION_ONLY,
)
from jetrack.stats.patterns import compile_pattern
from jetrack.stats.query import (
    PROPS_PREFIX,
    Behaviour,
    Condition,
    Connective,
    Filter,
    Negation,
    Query,
    conditions,
    is_event_dimension,
)

# Dimensions filtered at the top level only (not inside and/or/not), as in Plausible: a
# goal or hostname condition inside `or` or `not` has no clear meaning for a visit.
TOP_LEVEL_ONLY = ("event:goal", "event:hostname")
# Event dimensions whose visit metrics mean the visits that entered there (top pages).
ENTRY_DIMENSIONS = ("event:page", "event:hostname")
_COUNTRY_CODE = re.compile(r"^[A-Za-z]{2}$")


def _shown(condition: Condition) -> str:
    clauses: list[object] = [
        int(c) if condition.clause_type == "integer" else c for c in condition.clauses
    ]
    text = json.dumps([condition.operator, condition.dimension, clauses])
    return text if len(text) <= 100 else text[:97] + "..."


def check_patterns(query: Query) -> None:
    """Refuse a matches clause that re2 cannot compile, before anything runs it: the
    optimizer matches place-name patterns against the names here (optimize), the others go
    to ClickHouse's re2 as bind parameters, where a bad one would fail mid-query."""
    for condition in query.every_condition():
        if condition.operator.startswith("matches"):
            for clause in condition.clauses:
                compile_pattern(clause, condition.case_sensitive, dimension=condition.dimension)


def check_values(query: Query) -> None:
    """Refuse filter values the dimension cannot hold (they would match nothing): numbers
    where it holds text, country codes that are not two letters. Runs before the optimizer
    turns place names into codes."""
    for condition in query.every_condition():
        shown = _shown(condition)
        if condition.clause_type == "mixed":
            raise QueryError(f"filters: {shown}: clauses mix numbers and text; write them as text")
        numeric = condition.dimension in DIMENSIONS and DIMENSIONS[condition.dimension].numeric
        if numeric and condition.operator in ("is", "is_not"):
            bad = [c for c in condition.clauses if not c.isdigit()]
            if bad:
                raise QueryError(
                    f"filters: {shown}: {condition.dimension} takes GeoNames city ids such as"
                    f" 2950159 ({json.dumps(bad[0])} is not one); filter names with"
                    " visit:city_name"
                )
        elif condition.clause_type == "integer":
            raise QueryError(
                f"filters: {shown}: {condition.dimension} holds text, not numbers; write the"
                ' values as strings, e.g. "10"'
            )
        if condition.dimension == "visit:country" and condition.operator in ("is", "is_not"):
            bad = [c for c in condition.clauses if not _COUNTRY_CODE.match(c)]
            if bad:
                raise QueryError(
                    f"filters: {shown}: visit:country takes ISO 3166-1 alpha-2 codes such as"
                    f' "US" ({json.dumps(bad[0])} is not one); filter names with'
                    " visit:country_name"
                )


def _walk(tree: Filter, depth: int, behavioural: int) -> list[tuple[Condition, int, int]]:
    """Each condition with its and/or/not depth and how many has_done/has_not_done hold it."""
    if isinstance(tree, Condition):
        return [(tree, depth, behavioural)]
    if isinstance(tree, Behaviour):
        return _walk(tree.child, depth + 1, behavioural + 1)
    if isinstance(tree, Negation):
        return _walk(tree.child, depth + 1, behavioural)
    assert isinstance(tree, Connective)
    return [found for child in tree.children for found in _walk(child, depth + 1, behavioural)]


def _check_filter_shapes(query: Query) -> None:
    for tree in query.filters:
        for condition, depth, behavioural in _walk(tree, 0, 0):
            dimension = condition.dimension
            if behavioural > 1:
                raise QueryError("filters: has_done and has_not_done cannot be nested")
            if behavioural and not dimension.startswith("event:"):
                raise QueryError(
                    f"filters: has_done/has_not_done take event dimensions only (event:page,"
                    f" event:name, event:goal, event:hostname, event:props:*); {dimension} is"
                    " a visit dimension: filter it at the top level"
                )
            if not behavioural and depth > 0 and dimension in TOP_LEVEL_ONLY:
                raise QueryError(
                    f"filters: {dimension} can only be filtered at the top level, not inside"
                    " and/or/not (filters at the top level are combined with and)"
                )
    _check_session_trees(query)


def _check_session_trees(query: Query) -> None:
    # A sessions-only condition (exit page, entry and exit hostnames) is checked on sessions
    # rows, an event condition on events rows: one and/or/not tree cannot hold both
    # (jetrack.stats.sql splits the trees).
    for tree in query.filters:
        found = [c.dimension for c in conditions(tree)]
        session = next((d for d in found if is_session_only(d)), None)
        if session and any(is_event_dimension(d) for d in found):
            raise QueryError(
                f"filters: {session} cannot share one and/or/not filter with event "
                "dimensions; put them in separate top-level filters"
            )


def _top_level_on(query: Query, dimension: str) -> bool:
    return any(isinstance(t, Condition) and t.dimension == dimension for t in query.filters)


def _check_metric(query: Query, metric: str, event_dims: list[str]) -> None:
    dims = query.dimensions
    if metric in SESSION_ONLY and event_dims:
        by_entry = (
            metric in BY_ENTRY_PAGE
            and "event:page" in event_dims
            and all(d in ENTRY_DIMENSIONS for d in event_dims)
        )
        if not by_entry:
            raise QueryError(
                f"metrics: {metric} is a visit metric and cannot be grouped by "
                f"{event_dims[0]}; use visit dimensions or drop it"
            )
    if metric == "views_per_visit" and query.filters_on("event:page"):
        raise QueryError(
            "metrics: views_per_visit cannot be queried with an event:page filter (the"
            " visits' pageviews would count other pages too); filter by visit:entry_page"
        )
    if metric == "percentage" and not dims:
        raise QueryError("metrics: percentage needs at least one dimension")
    if metric in CONVERSION_RATES:
        if not ("event:goal" in dims or query.filters_on("event:goal")):
            raise QueryError(f"metrics: {metric} needs an event:goal filter or dimension")
        nested = [
            c.dimension
            for tree in query.filters
            if not isinstance(tree, Condition)
            for c in conditions(tree)
            if c.dimension.startswith(PROPS_PREFIX)
        ]
        if nested:
            raise QueryError(
                f"filters: with {metric}, custom property filters ({nested[0]}) can only be"
                " at the top level, not inside and/or/not"
            )
    if metric == "time_on_page" and not ("event:page" in dims or query.filters_on("event:page")):
        raise QueryError(f"metrics: {metric} needs an event:page filter or dimension")
    if metric == "scroll_depth" and not (
        "event:page" in dims or _top_level_on(query, "event:page")
    ):
        raise QueryError(
            f"metrics: {metric} needs an event:page dimension or a top-level event:page filter"
            " (not inside and/or/not)"
        )
    if metric in ENGAGEMENT_ONLY:
        for bad in dims:
            if bad == "event:goal" or is_session_only(bad):
                raise QueryError(f"metrics: {metric} cannot be grouped by {bad}")
    if metric == "exit_rate":
        if dims != ("visit:exit_page",):
            raise QueryError(
                'metrics: exit_rate needs the dimension "visit:exit_page" and no other'
            )
        event_filters = [
            c.dimension for c in query.all_conditions() if is_event_dimension(c.dimension)
        ]
        if event_filters:
            raise QueryError(
                f"metrics: exit_rate cannot be queried with a filter on {event_filters[0]}"
                " (an event dimension)"
            )


def check(query: Query) -> None:
    """Raise QueryError for a query that has no sensible answer; runs after optimize."""
    if sum(1 for d in query.dimensions if d.startswith("time")) > 1:
        raise QueryError("dimensions: at most one time dimension (time, time:hour, ...) per query")
    _check_filter_shapes(query)
    event_dims = [d for d in query.dimensions if is_event_dimension(d)]
    for metric in query.metrics:
        _check_metric(query, metric, event_dims)
    session_dims = [d for d in query.dimensions if is_session_only(d)]
    if session_dims and event_dims:
        raise QueryError(f"dimensions: {session_dims[0]} cannot be combined with {event_dims[0]}")
    requested = set(query.metrics) | set(query.dimensions)
    for index, (name, _) in enumerate(query.order_by):
        if name not in requested:
            raise QueryError(
                f"order_by[{index}]: {name} is not in metrics or dimensions; "
                f"order by one of: {', '.join(query.metrics + query.dimensions)}"
            )
    if query.time_dimension == "time:minute" and (
        query.date_range.end - query.date_range.start > MAX_MINUTE_SPAN
    ):
        raise QueryError(
            "dimensions: time:minute is for ranges of up to two days; use time:hour or time:day"
        )
    _check_buckets(query)
    if query.time_labels and query.time_dimension is None:
        raise QueryError("include.time_labels: needs a time dimension (time, time:day, ...)")
    _check_goal_filters(query)


def _check_goal_filters(query: Query) -> None:
    configured = ", ".join(g.display_name for g in query.goals) or "none configured"
    for condition in query.every_condition():
        if condition.dimension != "event:goal":
            continue
        if condition.operator not in ("is", "contains"):
            raise QueryError("filters: event:goal supports only the is and contains operators")
        if condition.operator == "is":
            fold = (lambda text: text) if condition.case_sensitive else str.lower
            names = {fold(g.display_name) for g in query.goals}
            missing = [c for c in condition.clauses if fold(c) not in names]
            if missing:
                raise QueryError(
                    f"filters: goal {missing[0]!r} is not configured for this site; "
                    f"goals: {configured}"
                )


def _check_buckets(query: Query) -> None:
    dimension = query.time_dimension
    if dimension is None:
        return
    spans = [("date_range", query.date_range)]
    if query.comparison is not None:
        spans.append(("include.comparisons", query.comparison.date_range))
    for where, span in spans:
        bucket = auto_bucket(span) if dimension == "time" else dimension
        if bucket_count(span, bucket) > MAX_TIME_BUCKETS:
            raise QueryError(
                f"dimensions: {dimension} over {where} {span.first_day} to {span.last_day}"
                f" has more than {MAX_TIME_BUCKETS:,} buckets; use a larger bucket"
                " (time:day, time:week, time:month) or a shorter range"
            )
