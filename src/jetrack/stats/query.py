"""The parsed stats query: frozen values that every later step reads and none mutates."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from jetrack.store.models import Site

# Dimensions whose value can differ between events of one visit.
EVENT_DIMENSIONS = ("event:page", "event:hostname", "event:goal", "event:name")
PROPS_PREFIX = "event:props:"
TIME_DIMENSIONS = ("time", "time:minute", "time:hour", "time:day", "time:week", "time:month")


def is_event_dimension(name: str) -> bool:
    return name in EVENT_DIMENSIONS or name.startswith(PROPS_PREFIX)


def is_time_dimension(name: str) -> bool:
    return name in TIME_DIMENSIONS


@dataclass(frozen=True)
class Condition:
    """One simple filter: `[operator, dimension, clauses, {case_sensitive}]`."""

    operator: str
    dimension: str
    clauses: tuple[str, ...]
    case_sensitive: bool = True


@dataclass(frozen=True)
class Connective:
    """`["and", [...]]` or `["or", [...]]`."""

    operator: str
    children: tuple[Filter, ...]


@dataclass(frozen=True)
class Negation:
    """`["not", filter]`."""

    child: Filter


Filter = Condition | Connective | Negation


def conditions(tree: Filter) -> list[Condition]:
    """Every simple condition inside a filter tree."""
    if isinstance(tree, Condition):
        return [tree]
    if isinstance(tree, Negation):
        return conditions(tree.child)
    return [c for child in tree.children for c in conditions(child)]


@dataclass(frozen=True)
class GoalInfo:
    """A goal as the engine needs it: a custom event name or a page path (may hold `*`),
    and the (key, value) custom properties an event must carry to complete it."""

    display_name: str
    event_name: str | None = None
    page_path: str | None = None
    custom_props: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class SiteInfo:
    """What a query needs to know about a site; built from the control store's Site row.
    (What ingestion knows of one is `jetrack.ingest.site_cache.IngestSite`.)"""

    id: int
    domain: str
    timezone: str = "UTC"
    goals: tuple[GoalInfo, ...] = ()

    @classmethod
    def from_site(cls, site: Site | SiteInfo) -> SiteInfo:
        """From a control store Site row (its goals must be loadable) or a SiteInfo."""
        if isinstance(site, SiteInfo):
            return site
        goals = tuple(
            GoalInfo(
                g.display_name,
                g.event_name,
                g.page_path,
                tuple(sorted((g.custom_props or {}).items())),
            )
            for g in site.goals
        )
        return cls(id=site.id, domain=site.domain, timezone=site.timezone or "UTC", goals=goals)


@dataclass(frozen=True)
class DateRange:
    """[start, end) in UTC, and the local calendar days it covers in the site's time zone."""

    start: datetime
    end: datetime
    first_day: date
    last_day: date
    timezone: str


@dataclass(frozen=True)
class Comparison:
    mode: str
    match_day_of_week: bool
    date_range: DateRange


@dataclass(frozen=True)
class Query:
    site_id: int
    timezone: str
    metrics: tuple[str, ...]
    date_range: DateRange
    dimensions: tuple[str, ...] = ()
    filters: tuple[Filter, ...] = ()
    order_by: tuple[tuple[str, str], ...] = ()
    time_labels: bool = False
    total_rows: bool = False
    comparison: Comparison | None = None
    limit: int = 10_000
    offset: int = 0
    goals: tuple[GoalInfo, ...] = ()
    # Only used to echo the request back in the response's `query` object.
    echo: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)

    def replace(self, **changes: Any) -> Query:
        return dataclasses.replace(self, **changes)

    @property
    def time_dimension(self) -> str | None:
        return next((d for d in self.dimensions if is_time_dimension(d)), None)

    @property
    def has_event_dimension(self) -> bool:
        return any(is_event_dimension(d) for d in self.dimensions)

    def all_conditions(self) -> list[Condition]:
        return [c for tree in self.filters for c in conditions(tree)]

    def filters_on(self, dimension: str) -> bool:
        return any(c.dimension == dimension for c in self.all_conditions())
