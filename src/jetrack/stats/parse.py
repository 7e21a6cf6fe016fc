"""Turn a schema-valid request dict into a Query (dates resolved in the site's time zone).

Pure: what it needs to know (the site, the time, the site's first day with data) comes in
as values."""

from __future__ import annotations

from dataclasses import replace
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
    SegmentInfo,
    SiteInfo,
    every_condition,
)

SEGMENT_DIMENSION = "segment"
MAX_SEGMENT_IDS = 10  # in one query, over all its segment filters (Plausible's limit)


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


def expand_segments(
    trees: tuple[Filter, ...], segments: tuple[SegmentInfo, ...]
) -> tuple[Filter, ...]:
    """Each `["is", "segment", ids]` becomes the saved filters it names: one segment's
    filters joined with and, several segments' with or. `segments` are those the asker may
    use (SiteInfo.segments); any other id is refused by its number."""
    ids = [c for tree in trees for c in every_condition(tree) if c.dimension == SEGMENT_DIMENSION]
    if sum(len(c.clauses) for c in ids) > MAX_SEGMENT_IDS:
        raise QueryError(f"filters: at most {MAX_SEGMENT_IDS} segment ids in one query")
    if not ids:
        return trees
    by_id = {segment.id: segment for segment in segments}
    return tuple(_expand(tree, by_id) for tree in trees)


def _expand(tree: Filter, by_id: dict[int, SegmentInfo]) -> Filter:
    if isinstance(tree, Negation):
        return Negation(_expand(tree.child, by_id))
    if isinstance(tree, Behaviour):  # its rules (event dimensions only) are checked later
        return Behaviour(tree.operator, _expand(tree.child, by_id))
    if isinstance(tree, Connective):
        return Connective(tree.operator, tuple(_expand(child, by_id) for child in tree.children))
    if tree.dimension != SEGMENT_DIMENSION:
        return tree
    groups: list[Filter] = []
    for clause in tree.clauses:
        # The schema allows whole numbers only; JSON may spell one 12.0 (clause "12.0").
        segment = by_id.get(int(float(clause)))
        if segment is None:
            raise QueryError(
                f"filters: segment {clause} is not a segment of this site that you may use"
                " (a personal segment is its owner's alone; a shared link sees site segments)"
            )
        groups.append(Connective("and", tuple(_city_names(f) for f in segment.filters)))
    return groups[0] if len(groups) == 1 else Connective("or", tuple(groups))


def _city_names(tree: Filter) -> Filter:
    """A segment saved while visit:city held names (before GeoNames ids): its city
    conditions with text that is no id compare visit:city_name, as they meant."""
    if isinstance(tree, Negation):
        return Negation(_city_names(tree.child))
    if isinstance(tree, Behaviour):
        return Behaviour(tree.operator, _city_names(tree.child))
    if isinstance(tree, Connective):
        return Connective(tree.operator, tuple(_city_names(child) for child in tree.children))
    if tree.dimension == "visit:city" and not all(c.isdigit() for c in tree.clauses):
        return replace(tree, dimension="visit:city_name")
    return tree


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
        filters=expand_segments(
            tuple(parse_filter(f) for f in request.get("filters") or ()), site.segments
        ),
        order_by=tuple((entry[0], entry[1]) for entry in request.get("order_by") or ()),
        time_labels=bool(include.get("time_labels", False)),
        total_rows=bool(include.get("total_rows", False)),
        comparison=comparison,
        limit=int(pagination.get("limit", 10_000)),
        offset=int(pagination.get("offset", 0)),
        goals=site.goals,
        imports=bool(include.get("imports", False)),
        rates=rates,
        echo={"site_id": request["site_id"], "include": include, "pagination": pagination},
    )
