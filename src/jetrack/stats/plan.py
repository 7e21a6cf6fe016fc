"""The query plan, decided once and purely: the parts of the statement and the tables each
reads, the days read from the daily rollups, and what each percentage divides by.

`decide` takes the optimized, checked Query and the rolled-up days found for it
(jetrack.stats.rollup.rolled_window, the one lookup planning needs) and does no I/O;
jetrack.stats.sql renders the Plan without deciding anything again."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

from jetrack.stats import revenue
from jetrack.stats.dimensions import is_session_only, on_sessions
from jetrack.stats.metrics import COUNTED_IN_RANGE
from jetrack.stats.query import (
    PROPS_PREFIX,
    Condition,
    Connective,
    Filter,
    Negation,
    Query,
)
from jetrack.stats.revenue import RevenuePlan
from jetrack.stats.rollup import (
    Rolled,
    event_visitors_from_rollups,
    graph_from_rollups,
    inline_percentage,
    of_all_visits,
    pages_from_rollups,
    totals_from_rollups,
    visits_from_rollups,
)
from jetrack.stats.tables import Tables, choose

# What a part reads: the events/sessions tables, or rollup rows (of visits for the
# sessions part; for the events part, visitors by day, the range's totals, or by page)
# with the tables for the rest of the range.
# event_visitor_rollups: the visitors of the visits with an event the query's one event
# filter matches (event_rollups), by nothing or a visit column.
Source = Literal[
    "tables", "visit_rollups", "graph_rollups", "totals_rollups", "page_rollups",
    "event_visitor_rollups",
]  # fmt: skip


@dataclass(frozen=True, slots=True)
class Part:
    """One subquery of the statement (events, sessions or engagement) and its metrics."""

    name: str
    metrics: tuple[str, ...]
    source: Source = "tables"
    # A rollup source: whether the tables are read too, for the range outside the
    # rolled-up days (not when those days are the whole range).
    reads_tables: bool = True
    # By one dimension: also `{name}_total`, the visitors of all groups (a percentage's
    # divisor), from the same reads.
    with_total: bool = False
    # Joined to the parts before it by all their groups and its own (full outer join),
    # or only onto their groups (left join: Tables.entries_of_pages, the exits part).
    outer: bool = True
    # The filters its rows pass, when not the query's (the sessions part of top pages
    # filters the visits' entry pages where the query names the event's page).
    filters: tuple[Filter, ...] | None = None


@dataclass(frozen=True, slots=True)
class Divisor:
    """What a derived metric divides by: the first metric of `whole`, run as a scalar
    subquery of the same statement, or (`inline`) the `{name}_total` of the part that
    counts it (Part.with_total).
    With `by`, `whole` is grouped by those of the query's dimensions (their positions) and
    joined to the rows on them (group_conversion_rate: the visitors of each group)."""

    whole: Plan | None = None
    inline: bool = False
    by: tuple[int, ...] | None = None


@dataclass(frozen=True, slots=True)
class Plan:
    query: Query
    tables: Tables
    parts: tuple[Part, ...]
    # The whole UTC days some part reads from the rollups (None: no part does).
    rolled: Rolled | None = None
    divisors: tuple[tuple[str, Divisor], ...] = ()  # derived metric -> divisor
    # Which goals' revenue the revenue metrics sum, in which currency (or why not).
    revenue: RevenuePlan | None = None

    def column(self, metric: str) -> str:
        """The column of a part that holds a (non-derived) metric."""
        return f"{self.tables.provider[metric]}_{metric}"

    def divisor(self, metric: str) -> Divisor | None:
        return next((d for name, d in self.divisors if name == metric), None)


def decide(query: Query, rolled: Rolled | None = None, tables: Tables | None = None) -> Plan:
    """The plan of `query`, given the run of rolled-up days it can read (if any) and,
    if chosen already for that lookup, its `tables` (tables.choose)."""
    tables = tables or choose(query)
    parts = tuple(_part(name, query, tables, rolled) for name in tables.parts)
    if all(part.source == "tables" for part in parts):
        rolled = None
    divisors: list[tuple[str, Divisor]] = []
    if "percentage" in query.metrics:
        if any(part.with_total for part in parts):
            divisors.append(("percentage", Divisor(inline=True)))
        else:
            divisors.append(("percentage", Divisor(decide(whole(query, query.filters), rolled))))
    if "conversion_rate" in query.metrics:
        # Of all visitors, converted or not: the goal and custom property filters go.
        others = whole(query, without_conversion_filters(query.filters))
        divisors.append(("conversion_rate", Divisor(decide(others, of_all_visits(rolled)))))
    if "group_conversion_rate" in query.metrics:
        divisors.append(("group_conversion_rate", group_divisor(query)))
    if tables.exits:
        parts += (Part("exits", ("pageviews",), outer=False),)
    return Plan(query, tables, parts, rolled, tuple(divisors), revenue.decide(query))


def group_divisor(query: Query) -> Divisor:
    """Plausible's group conversion rate divides by the visitors of the same values of the
    other dimensions (a goal's own row has no visitors but its converters), without the
    top-level goal and custom property filters."""
    by = tuple(i for i, d in enumerate(query.dimensions) if d != "event:goal")
    filters = without_conversion_filters(query.filters)
    grouped = whole(query, filters).replace(dimensions=tuple(query.dimensions[i] for i in by))
    return Divisor(decide(grouped), by=by)


def _part(name: str, query: Query, tables: Tables, rolled: Rolled | None) -> Part:
    part = _source(name, query, tables, rolled)
    if name == "sessions" and tables.entries_of_pages:
        return replace(part, outer=False, filters=entry_filters(query))
    return part


def entry_filters(query: Query) -> tuple[Filter, ...]:
    """The query's filters with its event:page (and event:hostname) dimensions' conditions
    on the visit's entry page (and its hostname): the sessions part of top pages."""
    renames = {d: on_sessions(d) for d in query.dimensions if on_sessions(d) != d}

    def renamed(tree: Filter) -> Filter:
        if isinstance(tree, Condition):
            return replace(tree, dimension=renames.get(tree.dimension, tree.dimension))
        if isinstance(tree, Negation):
            return Negation(renamed(tree.child))
        if isinstance(tree, Connective):
            return Connective(tree.operator, tuple(map(renamed, tree.children)))
        return tree  # has_done/has_not_done: other events of the visit, as they are

    return tuple(map(renamed, query.filters))


def _source(name: str, query: Query, tables: Tables, rolled: Rolled | None) -> Part:
    metrics = tuple(tables.metrics_of(name))
    if rolled is None:
        return _tables_part(name, metrics, query, tables)
    span = query.date_range
    # Rolled-up days and the hour rows of the partial days (Rolled.cut_events) hold the
    # whole range of events.
    covered = (span.start, span.end) == rolled.reach(events=True)
    if name == "sessions" and visits_from_rollups(query, tables):
        # With the carried rows of the day before (or its rows cut where the range starts),
        # no sessions row is needed when the rows read reach the end of the range.
        start_cut = rolled.cut_visits and rolled.start_cut is not None
        no_rows = (rolled.carry or start_cut) and span.end <= rolled.reach(events=False)[1]
        with_total = inline_percentage(query, tables, rolled)
        return Part(name, metrics, "visit_rollups", not no_rows, with_total)
    if name == "events":
        if graph_from_rollups(query, tables):
            return Part(name, metrics, "graph_rollups", not covered)
        if totals_from_rollups(query, tables):
            return Part(name, metrics, "totals_rollups", not covered)
        if pages_from_rollups(query, tables):
            return Part(name, metrics, "page_rollups")
        if event_visitors_from_rollups(query, tables):
            # A percentage divides by the visitors of all groups: from the same reads.
            with_total = "percentage" in query.metrics and len(query.dimensions) == 1
            # No events row to read when the rows hold the whole range and no rolled-up
            # day may hold events of visits from before it (Rolled.events_until).
            foreign = rolled.events_until is None or rolled.events_until >= rolled.first
            reads = not covered or foreign
            return Part(name, metrics, "event_visitor_rollups", reads, with_total)
    return _tables_part(name, metrics, query, tables)


def _tables_part(name: str, metrics: tuple[str, ...], query: Query, tables: Tables) -> Part:
    """A part that reads the tables; a sessions or events part by one dimension with a
    percentage also counts the visitors of all groups (`with_total`) when the percentage's
    own statement would read the same rows."""
    totals = {"sessions": sessions_total, "events": events_total}
    return Part(name, metrics, with_total=name in totals and totals[name](query, tables))


def sessions_total(query: Query, tables: Tables) -> bool:
    """Whether a percentage's divisor (the visitors of the whole query) is the visitors of
    the sessions part's rows, by no dimension: its sessions rows are the query's own (no
    join of events in the range, no entry-page filters of top pages) and the whole query
    reads its visitors from sessions rows too."""
    return (
        "percentage" in query.metrics
        and len(query.dimensions) == 1
        and tables.provider.get("visitors") == "sessions"
        and not tables.entries_of_pages
        and not any(m in COUNTED_IN_RANGE for m in tables.metrics_of("sessions"))
        and choose(whole(query, query.filters)).provider.get("visitors") == "sessions"
    )


def events_total(query: Query, tables: Tables) -> bool:
    """Whether a percentage's divisor is the visitors of the events part's rows, by no
    dimension: the visitors are the events' (an event filter), each events row is in one
    group (not a goal's, whose rows are joined to the goals they match, nor a visit
    column's read from the sessions rows) and the whole query reads its visitors from
    events rows too, under the same filters."""
    return (
        "percentage" in query.metrics
        and len(query.dimensions) == 1
        and query.dimensions[0] != "event:goal"
        and not query.dimensions[0].startswith("time")
        and not is_session_only(query.dimensions[0])
        and tables.provider.get("visitors") == "events"
        and choose(whole(query, query.filters)).provider.get("visitors") == "events"
    )


def whole(query: Query, filters: tuple[Filter, ...]) -> Query:
    """Visitors of the whole query (no dimensions): the divisor of percentages."""
    return query.replace(
        metrics=("visitors",),
        dimensions=(),
        filters=filters,
        order_by=(("visitors", "desc"),),
        offset=0,
        comparison=None,
    )


def without_conversion_filters(filters: tuple[Filter, ...]) -> tuple[Filter, ...]:
    """The filters a conversion rate's divisor keeps, as Plausible's: all but the top-level
    conditions on event:goal and event:props:* (a has_done or and/or/not tree stays)."""
    return tuple(
        tree
        for tree in filters
        if not (
            isinstance(tree, Condition)
            and (tree.dimension == "event:goal" or tree.dimension.startswith(PROPS_PREFIX))
        )
    )
