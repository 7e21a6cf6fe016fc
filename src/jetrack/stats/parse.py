"""Turn a schema-valid request dict into a Query (dates resolved in the site's time zone).

Pure: what it needs to know (the site, the time, the site's first day with data) comes in
as values."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from jetrack.stats import dates
from jetrack.stats.errors import QueryError
from jetrack.stats.exchange_rates import ExchangeRates
from jetrack.stats.query import (
    Behaviour,
    Comparison,
    Condition,
    Connective,
    Filter,
    Negation,
    Query,
    SiteInfo,
)


def _clause_type(clauses: list[Any]) -> str:
    integers = [isinstance(clause, int) and not isinstance(clause, bool) for clause in clauses]
    return "integer" if all(integers) else "string" if not any(integers) else "mixed"


def parse_filter(raw: list[Any]) -> Filter:
    head = raw[0]
    if head in ("and", "or"):
        return Connective(head, tuple(parse_filter(child) for child in raw[1]))
    if head == "not":
        return Negation(parse_filter(raw[1]))
    if head in ("has_done", "has_not_done"):
        return Behaviour(head, parse_filter(raw[1]))
    modifiers = raw[3] if len(raw) > 3 else {}
    return Condition(
        operator=head,
        dimension=raw[1],
        clauses=tuple(str(clause) for clause in raw[2]),
        case_sensitive=bool(modifiers.get("case_sensitive", True)),
        clause_type=_clause_type(raw[2]),
    )


def needs_first_data_day(request: dict[str, Any]) -> bool:
    """Whether parsing `request` needs the site's first day with data (date range all)."""
    return bool(request.get("date_range") == "all")


def parse(
    request: dict[str, Any],
    site: SiteInfo,
    now: datetime,
    first_data_day: date | None = None,
    rates: ExchangeRates | None = None,
) -> Query:
    """Assumes the request passed jetrack.stats.schema.validate_request. `first_data_day`:
    the site's first local day with events, if any (see needs_first_data_day); `rates`:
    the exchange rates revenue in other currencies is converted with."""
    span = dates.resolve(request["date_range"], site.timezone, now, first_data_day)
    include = request.get("include") or {}
    comparison = None
    if include.get("comparisons"):
        spec = include["comparisons"]
        if spec.get("date_range") is not None and spec["mode"] != "custom":
            raise QueryError(
                f"include.comparisons.date_range: only with mode custom; {spec['mode']}"
                " compares with a range it computes from date_range (drop date_range, or"
                " set mode to custom)"
            )
        match_dow = bool(spec.get("match_day_of_week", False))
        comparison = Comparison(
            spec["mode"],
            match_dow,
            dates.comparison_range(spec["mode"], span, match_dow, spec.get("date_range")),
        )
    pagination = request.get("pagination") or {}
    dimensions = tuple(request.get("dimensions") or ())
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
        rates=rates,
        echo={"site_id": request["site_id"], "include": include, "pagination": pagination},
    )
