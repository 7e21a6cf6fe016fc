"""Which queries read daily rollups (jetrack.store.rollups), and for which days.

Only queries without filters, or whose one filter is `is` one value of a visit column
(filter_rollups, per value of those columns; `rollup_filter`), do. Their parts read
rollups when:
- visits (sessions part): no dimension or one visit dimension with rows in the rollups,
  and metrics that add up from sums (visitors, visits, bounce rate, duration, views per
  visit);
- events, by day: pageviews and events of the range (no dimension), and visitors by day
  for sites in UTC, whose days are the rollups' (the main graph);
- events, by page: visitors, visits and pageviews per page, from the rows of the days'
  visits, for days whose visits all ended inside the range.
The whole UTC days of the range that are rolled up come from the rollups, the rest (the
edges of the range, today, days not rolled up) from the sessions and events tables: the
two add up because no visitor id and no visit spans two days' rows.

The predicates and `wanted` are pure (jetrack.stats.plan decides with them);
`rolled_window` is the one lookup: which of the wanted days are rolled up."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from jetrack.stats.dimensions import DIMENSIONS, on_sessions
from jetrack.stats.filters import matching_goals
from jetrack.stats.query import Condition, DateRange, Query, is_event_dimension
from jetrack.stats.tables import Tables, choose
from jetrack.store.cut_rollups import day_cut
from jetrack.store.event_rollups import EVENT_NAME, PAGE, PAGEVIEW
from jetrack.store.events import EventStore
from jetrack.store.rollups import (
    FROM_HOUR,
    ROLLED_COLUMNS,
    VISIT_SPAN,
    carried_from,
    cut_rolled,
    empty_days,
    event_on_day,
    event_rolled_days,
    filtered_rolled_days,
    foreign_days,
    quiet,
    rolled_days,
)
from jetrack.store.schema import FILTERED_COLUMNS

ROLLUP_METRICS = ("visitors", "visits", "bounce_rate", "visit_duration", "views_per_visit")
EVENT_TOTALS = ("pageviews", "events")
PAGE_METRICS = ("visitors", "visits", "pageviews")
# The sessions column behind a visit dimension whose SQL is an expression over it.
_STORED = {"visit:source": "source"}


@dataclass(frozen=True, slots=True)
class Rolled:
    """Whole UTC days [first, last] that a query reads from the rollups."""

    first: date
    last: date
    # The range starts at `first`'s midnight and the day before is rolled up: its visits
    # that went on past midnight come from its carried rows, not from sessions rows.
    carry: bool = False
    # The rows of the visits of one value of a column (filter_rollups), not of all visits.
    filter: tuple[str, str] | None = None
    # `filter` is a key of event_rollups (event_filter), not a column of filter_rollups.
    of_events: bool = False
    # The last of the days whose events a part that counts the days' visits from their
    # rows still reads from the events table (jetrack.store.rollups.foreign_days: they may
    # hold events of visits from before `first`); `first` - 1 day: none; None: all.
    events_until: date | None = None
    # The range starts this many seconds into the day before `first` (a site-local
    # midnight): that day's part comes from its rows cut there (FROM_CUT, and PAST_CUT of
    # the day before it; the hour rows for events), or is known to hold none.
    start_cut: int | None = None
    # The range ends this many seconds into the day after `last`: its part before that
    # from the day's BEFORE_CUT rows (the hour rows for events), or known to be empty.
    end_cut: int | None = None
    # Whether the cuts are read for visits (the sessions part), and for events (the main
    # graph and the totals, from the hour rows): else those read the tables there.
    cut_visits: bool = False
    cut_events: bool = False
    # The range ends at `last`'s end and some of that day's visits went on past it: its
    # rows of event_rollups are those of the visits with a matching event that day
    # (jetrack.store.event_rollups.ON_DAY), not of all its visits with one.
    on_day_last: bool = False

    @property
    def after(self) -> date:
        return self.last + timedelta(days=1)

    @property
    def start(self) -> datetime:
        """The instant the rows read begin (the rolled days' or the start cut's)."""
        if self.start_cut is None:
            return midnight(self.first)
        return midnight(self.first) - timedelta(days=1) + timedelta(seconds=self.start_cut)

    @property
    def end(self) -> datetime:
        """The instant the rows read end."""
        return midnight(self.after) + timedelta(seconds=self.end_cut or 0)

    def reach(self, events: bool) -> tuple[datetime, datetime]:
        """The instants the rows of visits (or, `events`, of events) read begin and end."""
        if self.cut_events if events else self.cut_visits:
            return self.start, self.end
        return midnight(self.first), midnight(self.after)

    @property
    def carried_day(self) -> date:
        return self.first - timedelta(days=1)


def midnight(day: date) -> datetime:
    """The instant `day` begins, in UTC."""
    return datetime.combine(day, datetime.min.time(), UTC)


def rolled_column(dimension: str) -> str | None:
    """The rollups' column of a visit dimension, or None if it has no rows there."""
    row = DIMENSIONS.get(dimension)
    if row is None:
        return None
    column = _STORED.get(dimension, row.column)
    return column if column in ROLLED_COLUMNS else None


def rollup_filter(query: Query) -> tuple[str, str] | None:
    """(filtered column, value) when the query's one filter is `is` one value (case
    sensitive) of a column of filter_rollups; None when it has other filters or none."""
    if len(query.filters) != 1:
        return None
    tree = query.filters[0]
    if not (
        isinstance(tree, Condition)
        and tree.operator == "is"
        and len(tree.clauses) == 1
        and tree.case_sensitive
    ):
        return None
    column = rolled_column(tree.dimension)
    return (column, tree.clauses[0]) if column in FILTERED_COLUMNS else None


def event_filter(query: Query) -> tuple[str, str] | None:
    """The key of event_rollups (jetrack.store.event_rollups) when the query's one filter
    is `is` one page (case sensitive), one custom event name, or one goal without
    properties of a custom event or of one page (no wildcard): (PAGE, path),
    (EVENT_NAME, name) or (PAGEVIEW, path); else None."""
    if len(query.filters) != 1 or not isinstance(query.filters[0], Condition):
        return None
    tree = query.filters[0]
    if tree.operator != "is":
        return None
    name: str | None = None
    if tree.dimension == "event:goal":
        goals = matching_goals(tree, query.goals)
        if len(goals) != 1 or goals[0].custom_props:
            return None
        goal = goals[0]
        if goal.event_name is None:
            path = goal.page_path or ""
            return (PAGEVIEW, path) if path and "*" not in path else None
        name = goal.event_name
    elif tree.dimension in ("event:page", "event:name") and len(tree.clauses) == 1:
        if not tree.case_sensitive:
            return None
        if tree.dimension == "event:page":
            return (PAGE, tree.clauses[0])
        name = tree.clauses[0]
    if name is None or name in ("pageview", "engagement"):
        return None
    return (EVENT_NAME, name)


def unfiltered(query: Query) -> bool:
    """Whether the query has no filter that rollup rows cannot apply."""
    return not query.filters or rollup_filter(query) is not None or event_filter(query) is not None


def visits_from_rollups(query: Query, tables: Tables) -> bool:
    """Whether the query's sessions part can add up rollup rows."""
    if not unfiltered(query) or "sessions" not in tables.parts:
        return False
    if any(m not in ROLLUP_METRICS for m in tables.metrics_of("sessions")):
        return False
    if not query.dimensions:
        return True
    return (
        len(query.dimensions) == 1 and rolled_column(on_sessions(query.dimensions[0])) is not None
    )


def event_visitors_from_rollups(query: Query, tables: Tables) -> bool:
    """Whether the query, filtered by event_filter, is visitors (and pageviews and events
    of the whole range) of its events, by nothing or one visit column: the visitors of the
    visits that had a matching event, as the rows of event_rollups count them; or by
    event:goal when the filter is its one goal (the Goals panel: that goal's one row)."""
    if event_filter(query) is None or tables.parts != ["events"]:
        return False
    metrics = tables.metrics_of("events")
    if "visitors" not in metrics or any(m not in ("visitors", *EVENT_TOTALS) for m in metrics):
        return False
    if not query.dimensions or by_filtered_goal(query):
        return True
    return (
        metrics == ["visitors"]
        and len(query.dimensions) == 1
        and not is_event_dimension(query.dimensions[0])
        and rolled_column(query.dimensions[0]) is not None
    )


def by_filtered_goal(query: Query) -> bool:
    """Whether the query is by event:goal alone and its one filter is one goal (so its
    rows are that goal's, if any)."""
    tree = query.filters[0] if len(query.filters) == 1 else None
    return (
        query.dimensions == ("event:goal",)
        and isinstance(tree, Condition)
        and tree.dimension == "event:goal"
        and len(matching_goals(tree, query.goals)) == 1
    )


def graph_from_rollups(query: Query, tables: Tables) -> bool:
    """Whether the query is visitors by day on events (the main graph): by UTC day, or,
    unfiltered, by the day of a zone whose midnights are on the hour in UTC (its days are
    the hour rows of two UTC days, FROM_HOUR and BEFORE_HOUR)."""
    return (
        unfiltered(query)
        and query.dimensions == ("time:day",)
        and (query.timezone == "UTC" or (not query.filters and on_the_hour(query.date_range)))
        and tables.parts == ["events"]
        and tables.metrics_of("events") == ["visitors"]
    )


def on_the_hour(date_range: DateRange) -> bool:
    """Whether every local midnight of the range is on the hour in UTC."""
    zone = ZoneInfo(date_range.timezone)
    day = date_range.first_day
    while day <= date_range.last_day + timedelta(days=1):
        offset = datetime.combine(day, datetime.min.time(), zone).utcoffset()
        if offset is None or offset.total_seconds() % 3600:
            return False
        day += timedelta(days=1)
    return True


def totals_from_rollups(query: Query, tables: Tables) -> bool:
    """Whether the query's events part is pageviews/events of the whole range."""
    events_metrics = tables.metrics_of("events")
    return (
        unfiltered(query)
        and not query.dimensions
        and bool(events_metrics)
        and all(m in EVENT_TOTALS for m in events_metrics)
    )


def pages_from_rollups(query: Query, tables: Tables) -> bool:
    """Whether the query is visitors/visits/pageviews by page."""
    return (
        unfiltered(query)
        and query.dimensions == ("event:page",)
        and tables.parts == ["events"]
        and all(m in PAGE_METRICS for m in tables.metrics_of("events"))
    )


def inline_percentage(query: Query, tables: Tables, rolled: Rolled | None) -> bool:
    """Whether a percentage's divisor comes from the rollup reads of the query itself
    (visitors grouped by one dimension from rollups), not from a statement of its own."""
    return (
        rolled is not None
        and "percentage" in query.metrics
        and len(query.dimensions) == 1
        and tables.provider.get("visitors") == "sessions"
        and visits_from_rollups(query, tables)
    )


def of_all_visits(rolled: Rolled | None) -> Rolled | None:
    """The days of an event-filtered query's rollup reads, for a divisor without its
    filter (a conversion rate's visitors): they are rolled up in visit_rollups too."""
    if rolled is None or not rolled.of_events:
        return None
    return Rolled(rolled.first, rolled.last)


def whole_days(date_range: DateRange) -> tuple[date, date]:
    """The first and last UTC day wholly inside [start, end) (first > last when none)."""
    start = date_range.start.astimezone(UTC)
    first = start.date() + timedelta(days=0 if start.time() == datetime.min.time() else 1)
    last = date_range.end.astimezone(UTC).date() - timedelta(days=1)
    return first, last


@dataclass(frozen=True, slots=True)
class Wanted:
    """The rows of the rollups a query could read: of `column`, for the whole UTC days
    [first, last] of its range (with `ended_before`, days whose visits had all ended by
    then); `carry`: its visits part could read the day before's carried rows; `filter`:
    the rows of filter_rollups for that (column, value)."""

    first: date
    last: date
    column: str
    ended_before: datetime | None
    carry: bool
    filter: tuple[str, str] | None = None
    of_events: bool = False  # `filter` is a key of event_rollups
    # The cuts of the partial UTC days at the range's ends (site-local midnights), when
    # the query could read their cut rows (edge_cuts).
    start_cut: int | None = None
    end_cut: int | None = None


def edge_cuts(query: Query) -> tuple[int | None, int | None]:
    """The cuts (jetrack.store.rollups.day_cut) of the range's partial UTC days, when it
    starts and ends at site-local midnights whose UTC days are cut there; (None, None)
    when it does not, or a day is not cut on the hour."""
    span = query.date_range
    start, end = span.start.astimezone(UTC), span.end.astimezone(UTC)
    cuts: list[int | None] = []
    for moment in (start, end):
        seconds = moment.hour * 3600 + moment.minute * 60 + moment.second
        if seconds == 0:
            cuts.append(None)
        elif day_cut(span.timezone, moment.date()) == seconds:
            cuts.append(seconds)
        else:
            return None, None
    return cuts[0], cuts[1]


def wanted(query: Query, tables: Tables | None = None) -> Wanted | None:
    """What the rollups could answer of `query` (whose parts are `tables`, if chosen
    already); None when no part of it can read them."""
    tables = tables or choose(query)
    by_pages = pages_from_rollups(query, tables)
    by_visits = visits_from_rollups(query, tables)
    of_events = event_visitors_from_rollups(query, tables)
    if not (
        by_visits
        or by_pages
        or of_events
        or graph_from_rollups(query, tables)
        or totals_from_rollups(query, tables)
    ):
        return None
    first, last = whole_days(query.date_range)
    column: str | None = ""
    ended: datetime | None = None
    if by_pages:
        column, ended = "pathname", query.date_range.end
    elif query.timezone != "UTC" and graph_from_rollups(query, tables):
        column = FROM_HOUR
    elif (by_visits or of_events) and query.dimensions:
        column = rolled_column(on_sessions(query.dimensions[0]))
    only = rollup_filter(query)
    key = event_filter(query)
    if key is not None and (by_visits or of_events):
        # Visits with a matching event: those of a rolled-up day must have had it in the
        # range, so only days whose visits all ended in it.
        ended = query.date_range.end
    # Filtered, the visits of the day before that went on into the range are read from
    # the sessions table (filter_rollups has no carried rows).
    unfiltered_rows = only is None and key is None
    # Cut rows: of all visits (no filter), for visits, the main graph and the totals.
    cuts: tuple[int | None, int | None] = (None, None)
    if unfiltered_rows and not query.filters and not by_pages and not of_events:
        cuts = edge_cuts(query)
    return Wanted(first, last, column or "", ended, by_visits and unfiltered_rows,
                  only or key, key is not None, *cuts)  # fmt: skip


def longest_run(days: list[date]) -> tuple[date, date] | None:
    """The first and last day of the longest run of consecutive days (sorted days)."""
    best: tuple[date, date] | None = None
    run_start: date | None = None
    for index, day in enumerate(days):
        if run_start is None or day - days[index - 1] != timedelta(days=1):
            run_start = day
        if best is None or (day - run_start) > (best[1] - best[0]):
            best = (run_start, day)
    return best


def rolled_window(events: EventStore, query: Query, tables: Tables | None = None) -> Rolled | None:
    """The longest run of rolled-up whole days in the range that the query can read (the
    plan's input); looked up in the event store, the one I/O of planning."""
    want = wanted(query, tables)
    if want is None:
        return None
    on_day = False  # the last day read by its ON_DAY rows (Rolled.on_day_last)
    if want.filter is None:
        days = rolled_days(events, query.site_id, want.first, want.last, want.column,
                           want.ended_before)  # fmt: skip
    elif want.of_events:
        days, on_day = _event_rolled(events, query.site_id, want)
    else:
        # The days rolled up (visit_rollups: daily ids; pages: visits over in time), and
        # their rows of the column for every value of the filtered one.
        pages = "pathname" if want.column == "pathname" else ""
        days = rolled_days(events, query.site_id, want.first, want.last, pages,
                           want.ended_before)  # fmt: skip
        complete = set(filtered_rolled_days(events, query.site_id, want.first, want.last,
                                            want.filter[0], (want.column,), want.filter[1]))  # fmt: skip
        days = [day for day in days if day in complete]
    if want.filter is None:
        # Days with no visit at all read nothing, rolled up or not (filtered queries read
        # the filtered rows only where the build wrote them, as before).
        days = sorted(set(days) | set(empty_days(events, query.site_id, want.first, want.last)))
    run = longest_run(days)
    if run is None:
        return None
    carry = (
        want.carry
        and query.date_range.start == midnight(run[0])
        and carried_from(events, query.site_id, run[0] - timedelta(days=1))
    )
    events_until = None
    if want.of_events or want.column == "pathname":
        # Parts that read the events of visits the rows do not count (pages, the visitors
        # of an event filter, the visits with a matching event).
        foreign = foreign_days(events, query.site_id, run[0], run[1])
        events_until = max(foreign, default=run[0] - timedelta(days=1))
    cuts: tuple[int | None, int | None, bool, bool] = (None, None, False, False)
    if (want.start_cut or want.end_cut) and run == (want.first, want.last):
        cuts = _edges(events, query, want)
    return Rolled(run[0], run[1], carry, want.filter, want.of_events, events_until, *cuts,
                  on_day_last=on_day and run[1] == want.last)  # fmt: skip


def _edges(
    events: EventStore, query: Query, want: Wanted
) -> tuple[int | None, int | None, bool, bool]:
    """The cuts of the range's partial days, and whether every one of them can be read
    from cut rows (or holds nothing) for visits and for events; the tables are read for
    the partial days of what cannot."""
    site, span = query.site_id, query.date_range
    column = "" if want.column == FROM_HOUR else want.column
    visits = events_ok = True
    if want.start_cut is not None:
        day = want.first - timedelta(days=1)
        start = span.start.astimezone(UTC)
        mark = f"from:{want.start_cut}"
        # Visits of the day before it that went on past the start (PAST_CUT rows there).
        past = cut_rolled(events, site, day - timedelta(days=1), column, f"past:{want.start_cut}")
        visits = (
            past or quiet(events, site, start - timedelta(days=1), midnight(day), start)
        ) and (
            cut_rolled(events, site, day, column, mark)
            or quiet(events, site, midnight(day), midnight(want.first), start)
        )
        events_ok = cut_rolled(events, site, day, "", mark) or quiet(
            events, site, start - VISIT_SPAN, midnight(want.first), start
        )
    if want.end_cut is not None:
        day = want.last + timedelta(days=1)
        end = span.end.astimezone(UTC)
        mark = f"from:{want.end_cut}"
        # Visits that started before the end (BEFORE_CUT); events before it (hour rows).
        visits = visits and (
            cut_rolled(events, site, day, column, mark)
            or quiet(events, site, midnight(day), end, midnight(day))
        )
        events_ok = events_ok and (
            cut_rolled(events, site, day, "", mark)
            or quiet(events, site, midnight(day) - VISIT_SPAN, end, midnight(day))
        )
    if not (visits or events_ok):
        return None, None, False, False
    return want.start_cut, want.end_cut, visits, events_ok


def _event_rolled(events: EventStore, site_id: int, want: Wanted) -> tuple[list[date], bool]:
    """The days of `want` rolled up in visit_rollups (daily ids; with `ended_before`,
    visits over in time) whose event_rollups rows of its key and column are complete;
    and whether the last of them is `want.last` by its ON_DAY rows (a range that ends at
    its end, while some of its visits went on past it)."""
    assert want.filter is not None
    days = rolled_days(events, site_id, want.first, want.last, "", want.ended_before)
    complete = set(event_rolled_days(events, site_id, want.first, want.last, want.filter,
                                     (want.column,)))  # fmt: skip
    days = [day for day in days if day in complete]
    last = want.last
    on_day = (
        want.ended_before == midnight(last + timedelta(days=1))
        and (want.column == "" or want.column in ROLLED_COLUMNS)
        and last not in days
        and last in complete
        and bool(rolled_days(events, site_id, last, last))
        and event_on_day(events, site_id, last, want.filter, (want.column,))
    )
    return ([*days, last] if on_day else days), on_day
