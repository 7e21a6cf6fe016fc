"""The parsed stats query: frozen values that every later step reads and none mutates."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from jetrack.stats.exchange_rates import ExchangeRates

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
    # How the request wrote the clauses: "string", "integer" or "mixed" (rules.check_values
    # allows integers only where the dimension holds numbers).
    clause_type: str = "string"


@dataclass(frozen=True)
class Connective:
    """`["and", [...]]` or `["or", [...]]`."""

    operator: str
    children: tuple[Filter, ...]


@dataclass(frozen=True)
class Negation:
    """`["not", filter]`."""

    child: Filter


@dataclass(frozen=True)
class Behaviour:
    """`["has_done", filter]` or `["has_not_done", filter]`: a condition on the visit, that
    it has (or has not) an event in the range matching the filter."""

    operator: str
    child: Filter


Filter = Condition | Connective | Negation | Behaviour


def conditions(tree: Filter) -> list[Condition]:
    """The simple conditions of a filter tree that apply to its rows; those inside a
    has_done/has_not_done describe other events of the visit and are left out."""
    if isinstance(tree, Condition):
        return [tree]
    if isinstance(tree, Behaviour):
        return []
    if isinstance(tree, Negation):
        return conditions(tree.child)
    return [c for child in tree.children for c in conditions(child)]


def every_condition(tree: Filter) -> list[Condition]:
    """Every simple condition of a filter tree, those inside has_done/has_not_done too."""
    if isinstance(tree, Condition):
        return [tree]
    if isinstance(tree, Negation | Behaviour):
        return every_condition(tree.child)
    return [c for child in tree.children for c in every_condition(child)]


@dataclass(frozen=True)
class GoalInfo:
    """A goal as the engine needs it: a custom event name or a page path (may hold `*`),
    and the (key, value) custom properties an event must carry to complete it."""

    display_name: str
    event_name: str | None = None
    page_path: str | None = None
    custom_props: tuple[tuple[str, str], ...] = ()
    # ISO 4217 code of a revenue goal (custom event goals only): its revenue is summed in it.
    currency: str | None = None


@dataclass(frozen=True)
class SegmentInfo:
    """A saved segment the asker may use: its id and name, and its filters, parsed."""

    id: int
    name: str
    filters: tuple[Filter, ...]


@dataclass(frozen=True)
class SiteInfo:
    """What a query needs to know about a site; built from the control store's Site row.
    `segments`: the saved segments the request names and its asker may use (looked up by
    the web layer, jetrack.stats.segments), empty unless the request names one. (What ingestion knows
    of a site is `jetrack.ingest.site_cache.IngestSite`.)"""

    id: int
    domain: str
    timezone: str = "UTC"
    goals: tuple[GoalInfo, ...] = ()
    segments: tuple[SegmentInfo, ...] = ()

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
                getattr(g, "currency", None),
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
    # include.imports: add the site's imported history where the query allows it.
    imports: bool = False
    # Exchange rates for revenue in other currencies than the goal's (a value the runner
    # loads, jetrack.stats.exchange_rates); None: only amounts in the goal's currency count.
    rates: ExchangeRates | None = field(default=None, compare=False, hash=False)
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
        """The conditions on the rows (not those inside has_done/has_not_done)."""
        return [c for tree in self.filters for c in conditions(tree)]

    def every_condition(self) -> list[Condition]:
        return [c for tree in self.filters for c in every_condition(tree)]

    def filters_on(self, dimension: str) -> bool:
        return any(c.dimension == dimension for c in self.all_conditions())
