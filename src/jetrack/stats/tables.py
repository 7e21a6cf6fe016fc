"""Which part of the SQL (events, sessions, engagement) computes each metric of a query.

The sessions table has one row per visit, ~3.5x fewer rows than events and no GROUP BY
session_id, so every visit-level number comes from it: visit metrics, visits (unless
grouped by an event dimension), and visitors when each result row is a set of whole
visits (no event or time dimension). Pageviews and events count events in the range, so
they stay on the events table, except grouped by exit page, a value only the sessions
table has. With a time dimension, events (and visitors) are bucketed by event time and
visits by when they started (clipped to the range), so every visit is in one bucket.

An event filter on what events_by_page holds (a page, an event name, goals without
custom properties) finds its visits there, reading only those pages' and names' rows: with
other filters too (which no rollup row answers), the visitors of whole visits come from
the sessions rows of those visits rather than from a scan of every event."""

from __future__ import annotations

from dataclasses import dataclass

from jetrack.stats.dimensions import is_session_only
from jetrack.stats.filters import matching_goals
from jetrack.stats.metrics import (
    BY_ENTRY_PAGE,
    COUNTED_IN_RANGE,
    DERIVED,
    ENGAGEMENT_ONLY,
    SESSION_ONLY,
)
from jetrack.stats.query import (
    Behaviour,
    Condition,
    Filter,
    GoalInfo,
    Negation,
    Query,
    conditions,
    is_event_dimension,
)

PARTS = ("events", "sessions", "engagement")


@dataclass(frozen=True, slots=True)
class Tables:
    provider: dict[str, str]  # metric name -> part; derived metrics have none
    # Grouped by page, the sessions part groups visits by entry page: its rows describe
    # only the pages the events part found (a visit may have entered on a page it viewed
    # before the range).
    entries_of_pages: bool = False
    # exit_rate: a part counting each page's pageviews, the divisor of the exits (visits
    # by exit page) of that page.
    exits: bool = False

    def metrics_of(self, part: str) -> list[str]:
        return [m for m, p in self.provider.items() if p == part]

    @property
    def parts(self) -> list[str]:
        return [p for p in PARTS if p in self.provider.values()]


def choose(query: Query) -> Tables:
    metrics = list(query.metrics)
    exits = "exit_rate" in metrics
    if exits and "visits" not in metrics:
        metrics.append("visits")  # the exits, from the sessions part
    if any(m in DERIVED and m != "exit_rate" for m in metrics) and "visitors" not in metrics:
        metrics.append("visitors")
    by_event = query.has_event_dimension
    entries_of_pages = "event:page" in query.dimensions and any(m in BY_ENTRY_PAGE for m in metrics)
    if entries_of_pages and "visits" not in metrics:
        metrics.append("visits")  # the pages, from the events part
    # Sessions-only dimensions (exit page, entry and exit hostnames) group sessions rows.
    by_exit_page = any(is_session_only(d) for d in query.dimensions)
    event_filters = any(is_event_dimension(c.dimension) for c in query.all_conditions())
    needs_sessions = by_exit_page or any(
        m in SESSION_ONLY or (m == "visits" and not by_event) for m in metrics
    )
    # Visitors of whole visits: cheaper from sessions, unless only an event filter would
    # bring the sessions table in (then one scan of events answers it), but one that
    # events_by_page answers beside other filters.
    visitors_from_sessions = by_exit_page or (
        not by_event
        and query.time_dimension is None
        and (needs_sessions or not event_filters or found_by_page(query))
    )
    provider: dict[str, str] = {}
    for metric in metrics:
        if metric in DERIVED:
            continue
        if metric in ENGAGEMENT_ONLY:
            provider[metric] = "engagement"
        elif metric in SESSION_ONLY or (metric == "visits" and not by_event):
            provider[metric] = "sessions"
        elif metric == "visitors":
            provider[metric] = "sessions" if visitors_from_sessions else "events"
        elif metric in COUNTED_IN_RANGE:
            provider[metric] = "sessions" if by_exit_page else "events"
        else:
            provider[metric] = "events"
    return Tables(provider, entries_of_pages, exits)


# The event dimensions events_by_page holds (0012_events_by_page.sql).
BY_PAGE_DIMENSIONS = frozenset({"event:page", "event:name"})


def by_page(tree: Filter, goals: tuple[GoalInfo, ...]) -> bool:
    """Whether a filter tree's conditions read only columns of events_by_page (its
    has_done/has_not_done find their own table)."""
    for condition in conditions(tree):
        if condition.dimension == "event:goal":
            if any(goal.custom_props for goal in matching_goals(condition, goals)):
                return False
        elif condition.dimension not in BY_PAGE_DIMENSIONS:
            return False
    return True


def touches_event(tree: Filter) -> bool:
    """Whether a filter tree reads the event itself (a page, a goal, a property)."""
    return any(is_event_dimension(c.dimension) for c in conditions(tree))


def narrows(tree: Filter) -> bool:
    """Whether a filter tree keeps only the events it names (is, contains, matches; no
    negation): the visits events_by_page is worth reading for. `is_not "/"` keeps nearly
    every visit, and a set of them all costs more than a scan of the events (2M-event
    site, a country and a page filter that every page matches: 530 -> 770 ms)."""
    if isinstance(tree, Condition):
        return tree.operator in ("is", "contains", "matches")
    if isinstance(tree, Negation):
        return False
    if isinstance(tree, Behaviour):
        return True  # the visit's other events: found in its own subquery
    return all(narrows(child) for child in tree.children)


def found_by_page(query: Query) -> bool:
    """Whether the query's filters are trees on visit dimensions and trees events_by_page
    answers that `narrow`, more than one condition (one alone may be answered by
    event_rollups, which count the events part's visitors)."""
    alone = len(query.filters) == 1 and isinstance(query.filters[0], Condition)
    return not alone and all(
        (by_page(tree, query.goals) and narrows(tree)) or not touches_event(tree)
        for tree in query.filters
    )
