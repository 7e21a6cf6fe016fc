"""Checks the schema cannot express: combinations of metrics, dimensions and filters."""

from __future__ import annotations

from jetrack.stats.dates import MAX_MINUTE_SPAN, MAX_TIME_BUCKETS, auto_bucket, bucket_count
from jetrack.stats.errors import QueryError
from jetrack.stats.metrics import BY_ENTRY_PAGE, ENGAGEMENT_ONLY, SESSION_ONLY
from jetrack.stats.patterns import compile_pattern
from jetrack.stats.query import Query, conditions, is_event_dimension


def check_patterns(query: Query) -> None:
    """Refuse a matches clause that re2 cannot compile, before anything runs it: the
    optimizer matches place-name patterns against the names here (optimize), the others go
    to ClickHouse's re2 as bind parameters, where a bad one would fail mid-query."""
    for condition in query.all_conditions():
        if condition.operator.startswith("matches"):
            for clause in condition.clauses:
                compile_pattern(clause, condition.case_sensitive, dimension=condition.dimension)


def check(query: Query) -> None:
    """Raise QueryError for a query that has no sensible answer; runs after optimize."""
    if sum(1 for d in query.dimensions if d.startswith("time")) > 1:
        raise QueryError("dimensions: at most one time dimension (time, time:hour, ...) per query")
    event_dims = [d for d in query.dimensions if is_event_dimension(d)]
    for metric in query.metrics:
        by_entry = metric in BY_ENTRY_PAGE and event_dims == ["event:page"]
        if metric in SESSION_ONLY and event_dims and not by_entry:
            raise QueryError(
                f"metrics: {metric} is a visit metric and cannot be grouped by {event_dims[0]}; "
                "use visit dimensions or drop it"
            )
        if metric == "percentage" and not query.dimensions:
            raise QueryError("metrics: percentage needs at least one dimension")
        if metric == "conversion_rate" and not (
            "event:goal" in query.dimensions or query.filters_on("event:goal")
        ):
            raise QueryError("metrics: conversion_rate needs an event:goal filter or dimension")
        if metric in ENGAGEMENT_ONLY:
            if not ("event:page" in query.dimensions or query.filters_on("event:page")):
                raise QueryError(f"metrics: {metric} needs an event:page filter or dimension")
            for bad in ("event:goal", "visit:exit_page"):
                if bad in query.dimensions:
                    raise QueryError(f"metrics: {metric} cannot be grouped by {bad}")
    if "visit:exit_page" in query.dimensions and event_dims:
        raise QueryError(f"dimensions: visit:exit_page cannot be combined with {event_dims[0]}")
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
    configured = ", ".join(g.display_name for g in query.goals) or "none configured"
    for condition in query.all_conditions():
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
    _check_exit_page_trees(query)


def _check_exit_page_trees(query: Query) -> None:
    # An exit-page condition is checked on sessions rows, an event condition on events
    # rows: one and/or/not tree cannot hold both (jetrack.stats.sql splits the trees).
    for tree in query.filters:
        found = [c.dimension for c in conditions(tree)]
        if "visit:exit_page" in found and any(is_event_dimension(d) for d in found):
            raise QueryError(
                "filters: visit:exit_page cannot share one and/or/not filter with event "
                "dimensions; put them in separate top-level filters"
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
