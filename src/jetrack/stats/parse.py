"""Turn a schema-valid request dict into a Query (dates resolved in the site's time zone)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Any

from jetrack.stats import dates
from jetrack.stats.errors import QueryError
from jetrack.stats.query import (
    Comparison,
    Condition,
    Connective,
    Filter,
    Negation,
    Query,
    SiteInfo,
)


def parse_filter(raw: list[Any]) -> Filter:
    head = raw[0]
    if head in ("and", "or"):
        return Connective(head, tuple(parse_filter(child) for child in raw[1]))
    if head == "not":
        return Negation(parse_filter(raw[1]))
    modifiers = raw[3] if len(raw) > 3 else {}
    return Condition(
        operator=head,
        dimension=raw[1],
        clauses=tuple(str(clause) for clause in raw[2]),
        case_sensitive=bool(modifiers.get("case_sensitive", True)),
    )


def parse(
    request: dict[str, Any],
    site: SiteInfo,
    now: datetime,
    first_data_day: Callable[[], date | None],
) -> Query:
    """Assumes the request passed jetrack.stats.schema.validate_request."""
    span = dates.resolve(request["date_range"], site.timezone, now, first_data_day)
    include = request.get("include") or {}
    comparison = None
    if include.get("comparisons"):
        spec = include["comparisons"]
        match_dow = bool(spec.get("match_day_of_week", False))
        comparison = Comparison(
            spec["mode"],
            match_dow,
            dates.comparison_range(spec["mode"], span, match_dow, spec.get("date_range")),
        )
    pagination = request.get("pagination") or {}
    dimensions = tuple(request.get("dimensions") or ())
    if sum(1 for d in dimensions if d.startswith("time")) > 1:
        raise QueryError("dimensions: at most one time dimension (time, time:hour, ...) per query")
    return Query(
        site_id=site.id,
        timezone=site.timezone,
        metrics=tuple(request["metrics"]),
        date_range=span,
        dimensions=dimensions,
        filters=tuple(parse_filter(f) for f in request.get("filters") or ()),
        order_by=tuple((entry[0], entry[1]) for entry in request.get("order_by") or ()),
        time_labels=bool(include.get("time_labels", False)),
        total_rows=bool(include.get("total_rows", False)),
        comparison=comparison,
        limit=int(pagination.get("limit", 10_000)),
        offset=int(pagination.get("offset", 0)),
        goals=site.goals,
        echo={"site_id": request["site_id"], "include": include, "pagination": pagination},
    )
