"""The plan, decided without a database: tables, rolled-up days and divisors.

Like Plausible's table_decider_test.exs: each case is a query and the plan it must get;
the rolled-up days are an input (what jetrack.stats.rollup.rolled_window would find)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime
from typing import Any

import pytest

from jetrack.stats.plan import Divisor, Part, Plan, decide, whole
from jetrack.stats.query import Behaviour, Condition, GoalInfo, SiteInfo
from jetrack.stats.rollup import Rolled, event_filter, longest_run, rollup_filter, wanted
from tests.stats.queries import BERLIN, UTC_SITE, optimized

DAYS = ["2024-03-09", "2024-03-11"]
ALL_DAYS = Rolled(date(2024, 3, 9), date(2024, 3, 11))
DE_DAYS = Rolled(date(2024, 3, 9), date(2024, 3, 11), filter=("country_code", "DE"))
KOLKATA = SiteInfo(UTC_SITE.id, UTC_SITE.domain, "Asia/Kolkata", UTC_SITE.goals)
LAST_TWO = Rolled(date(2024, 3, 10), date(2024, 3, 11))
CARRIED = Rolled(date(2024, 3, 9), date(2024, 3, 11), carry=True)


def plan(rolled: Rolled | None = None, site: Any = UTC_SITE, **request: Any) -> Plan:
    return decide(optimized(site, **{"date_range": DAYS, **request}), rolled)


# (request, metric -> part) with no rolled-up day: which table computes what.
TABLES: list[tuple[dict[str, Any], dict[str, str]]] = [
    ({"metrics": ["visitors", "visits", "bounce_rate"]},
     {"visitors": "sessions", "visits": "sessions", "bounce_rate": "sessions"}),
    ({"metrics": ["visitors", "pageviews"]}, {"visitors": "sessions", "pageviews": "events"}),
    # One scan of events answers visitors when only an event filter would add sessions.
    ({"metrics": ["visitors"], "filters": [["is", "event:page", ["/"]]]}, {"visitors": "events"}),
    ({"metrics": ["visitors", "visits"], "dimensions": ["event:page"]},
     {"visitors": "events", "visits": "events"}),
    ({"metrics": ["visitors", "visits"], "dimensions": ["time:day"]},
     {"visitors": "events", "visits": "sessions"}),
    ({"metrics": ["visitors", "pageviews"], "dimensions": ["visit:exit_page"]},
     {"visitors": "sessions", "pageviews": "sessions"}),
    ({"metrics": ["visitors", "time_on_page"], "dimensions": ["event:page"]},
     {"visitors": "events", "time_on_page": "engagement"}),
    # Derived metrics bring visitors, their numerator, in.
    ({"metrics": ["percentage"], "dimensions": ["visit:source"]}, {"visitors": "sessions"}),
]  # fmt: skip


@pytest.mark.parametrize(("request_body", "provider"), TABLES)
def test_tables(request_body: dict[str, Any], provider: dict[str, str]) -> None:
    decided = plan(**request_body)
    assert decided.tables.provider == provider
    assert all(part.source == "tables" and part.reads_tables for part in decided.parts)
    assert decided.rolled is None
    assert [p.name for p in decided.parts] == [
        name for name in ("events", "sessions", "engagement") if name in provider.values()
    ]


# (rolled-up days found, request, the parts the plan must have)
ROLLUPS: list[tuple[Rolled, Any, dict[str, Any], tuple[Part, ...]]] = [
    # The rolled-up days are the whole range: pageviews need no events row.
    (ALL_DAYS, UTC_SITE, {"metrics": ["visitors", "pageviews"]},
     (Part("events", ("pageviews",), "totals_rollups", reads_tables=False),
      Part("sessions", ("visitors",), "visit_rollups"))),
    # The first day is not rolled up: it comes from the tables.
    (LAST_TWO, UTC_SITE, {"metrics": ["visitors", "pageviews"]},
     (Part("events", ("pageviews",), "totals_rollups"),
      Part("sessions", ("visitors",), "visit_rollups"))),
    # The day before's carried rows replace its visits that went on into the range.
    (CARRIED, UTC_SITE, {"metrics": ["visits", "bounce_rate"]},
     (Part("sessions", ("visits", "bounce_rate"), "visit_rollups", reads_tables=False),)),
    (ALL_DAYS, UTC_SITE, {"metrics": ["visitors"], "dimensions": ["time:day"]},
     (Part("events", ("visitors",), "graph_rollups", reads_tables=False),)),
    (LAST_TWO, UTC_SITE, {"metrics": ["visitors", "visits"], "dimensions": ["event:page"]},
     (Part("events", ("visitors", "visits"), "page_rollups"),)),
    (ALL_DAYS, UTC_SITE, {"metrics": ["visitors", "bounce_rate"], "dimensions": ["visit:browser"]},
     (Part("sessions", ("visitors", "bounce_rate"), "visit_rollups"),)),
    # Berlin's days are the hour rows of two UTC days; Kolkata's midnights are not on the
    # hour in UTC: its graph reads the events table.
    (LAST_TWO, BERLIN, {"metrics": ["visitors"], "dimensions": ["time:day"]},
     (Part("events", ("visitors",), "graph_rollups"),)),
    (LAST_TWO, KOLKATA, {"metrics": ["visitors"], "dimensions": ["time:day"]},
     (Part("events", ("visitors",)),)),
    # One value of a visit column: the rows of filter_rollups (the rolled days say so).
    (DE_DAYS, UTC_SITE, {"filters": [["is", "visit:country", ["DE"]]]},
     (Part("sessions", ("visitors",), "visit_rollups"),)),
    (DE_DAYS, UTC_SITE, {"metrics": ["visitors"], "dimensions": ["time:day"],
                         "filters": [["is", "visit:country", ["DE"]]]},
     (Part("events", ("visitors",), "graph_rollups", reads_tables=False),)),
    # Nothing the rollups hold: other filters, two dimensions, a column without rows, an
    # event metric by a visit dimension, engagement.
    (ALL_DAYS, UTC_SITE, {"filters": [["is", "visit:country", ["DE"]],
                                      ["is", "visit:source", ["Google"]]]},
     (Part("sessions", ("visitors",)),)),
    (ALL_DAYS, UTC_SITE, {"filters": [["contains", "event:page", ["/"]]]},
     (Part("events", ("visitors",)),)),
    (ALL_DAYS, UTC_SITE, {"dimensions": ["visit:source", "visit:os"]},
     (Part("sessions", ("visitors",)),)),
    (ALL_DAYS, UTC_SITE, {"dimensions": ["visit:referrer"]}, (Part("sessions", ("visitors",)),)),
    (ALL_DAYS, UTC_SITE, {"metrics": ["pageviews"], "dimensions": ["visit:source"]},
     (Part("events", ("pageviews",)),)),
]  # fmt: skip


# (filters, the filter_rollups rows that answer them)
ROLLUP_FILTERS: list[tuple[list[Any], tuple[str, str] | None]] = [
    ([["is", "visit:country", ["DE"]]], ("country_code", "DE")),
    ([["is", "visit:source", ["Direct / None"]]], ("source", "Direct / None")),
    ([["is", "visit:entry_page", ["/blog"]]], ("entry_page", "/blog")),
    ([["is", "visit:utm_source", ["newsletter"]]], ("utm_source", "newsletter")),
    ([], None),
    ([["is", "visit:country", ["DE", "FR"]]], None),
    ([["is_not", "visit:country", ["DE"]]], None),
    ([["contains", "visit:country", ["D"]]], None),
    ([["is", "visit:country", ["de"], {"case_sensitive": False}]], None),
    ([["is", "visit:country", ["DE"]], ["is", "visit:device", ["Mobile"]]], None),
    ([["is", "visit:exit_page", ["/"]]], None),  # known only once the visit is over
    ([["is", "visit:referrer", ["x.com"]]], None),  # not rolled up
    ([["is", "event:page", ["/"]]], None),
    ([["is", "event:goal", ["Signup"]]], None),
]


@pytest.mark.parametrize(("filters", "rows"), ROLLUP_FILTERS)
def test_rollup_filter(filters: list[Any], rows: tuple[str, str] | None) -> None:
    assert rollup_filter(optimized(UTC_SITE, date_range=DAYS, filters=filters)) == rows


EVENT_SITE = SiteInfo(7, "example.com", "UTC", (
    GoalInfo("Signup", event_name="Signup"), GoalInfo("Blog", page_path="/blog/*"),
    GoalInfo("Pro", event_name="Purchase", custom_props=(("plan", "pro"),)),
    GoalInfo("Views", event_name="pageview"),
))  # fmt: skip
# (filters, the event_rollups key that answers them): keyed by page or event name, never
# by a goal, so a goal renamed or pointed at another event reads other rows.
EVENT_FILTERS: list[tuple[list[Any], tuple[str, str] | None]] = [
    ([["is", "event:page", ["/pricing"]]], ("pathname", "/pricing")),
    ([["is", "event:name", ["Signup"]]], ("name", "Signup")),
    ([["is", "event:goal", ["Signup"]]], ("name", "Signup")),
    ([["is", "event:goal", ["signup"], {"case_sensitive": False}]], ("name", "Signup")),
    ([["is", "event:goal", ["Blog"]]], None),  # a page goal: pageviews only, by pattern
    ([["is", "event:goal", ["Pro"]]], None),  # custom properties
    ([["is", "event:goal", ["Views"]]], None),  # every pageview is no key
    ([["is", "event:goal", ["Signup", "Pro"]]], None),
    ([["is", "event:name", ["pageview"]]], None),
    ([["is", "event:page", ["/a", "/b"]]], None),
    ([["is", "event:page", ["/A"], {"case_sensitive": False}]], None),
    ([["contains", "event:page", ["/blog"]]], None),
    ([["is", "event:page", ["/"]], ["is", "visit:country", ["DE"]]], None),
    ([["is", "visit:country", ["DE"]]], None),
]


@pytest.mark.parametrize(("filters", "key"), EVENT_FILTERS)
def test_event_filter(filters: list[Any], key: tuple[str, str] | None) -> None:
    assert event_filter(optimized(EVENT_SITE, date_range=DAYS, filters=filters)) == key


PRICING_DAYS = Rolled(date(2024, 3, 9), date(2024, 3, 11), filter=("pathname", "/pricing"),
                      of_events=True)  # fmt: skip


@pytest.mark.parametrize(
    ("request_body", "parts"),
    [
        # Visitors by a visit column of the page's events: the visits' rows.
        ({"metrics": ["visitors"], "dimensions": ["visit:source"]},
         (Part("events", ("visitors",), "event_visitor_rollups"),)),
        ({"metrics": ["visitors", "events"]},
         (Part("events", ("visitors", "events"), "event_visitor_rollups"),)),
        ({"metrics": ["visitors", "visits", "bounce_rate"]},
         (Part("sessions", ("visitors", "visits", "bounce_rate"), "visit_rollups"),)),
        ({"metrics": ["visitors"], "dimensions": ["time:day"]},
         (Part("events", ("visitors",), "graph_rollups", reads_tables=False),)),
        ({"metrics": ["visitors", "visits"], "dimensions": ["event:page"]},
         (Part("events", ("visitors", "visits"), "page_rollups"),)),
        # Not by the visits: pageviews by a visit column, an event dimension.
        ({"metrics": ["visitors", "pageviews"], "dimensions": ["visit:source"]},
         (Part("events", ("visitors", "pageviews")),)),
        ({"metrics": ["visitors"], "dimensions": ["event:name"]},
         (Part("events", ("visitors",)),)),
    ],
)  # fmt: skip
def test_a_page_filter_reads_event_rollups(
    request_body: dict[str, Any], parts: tuple[Part, ...]
) -> None:
    filters = [["is", "event:page", ["/pricing"]]]
    assert plan(PRICING_DAYS, filters=filters, **request_body).parts == parts


def test_a_page_filter_over_rolled_up_days_alone_reads_no_events() -> None:
    # The rows hold the whole range and no day of it may hold events of visits from before
    # it (Rolled.events_until is the day before): no events row is read.
    filters = [["is", "event:page", ["/pricing"]]]
    body = {"metrics": ["visitors"], "dimensions": ["visit:source"], "filters": filters}
    alone = replace(PRICING_DAYS, events_until=date(2024, 3, 8))
    assert plan(alone, **body).parts == (
        Part("events", ("visitors",), "event_visitor_rollups", reads_tables=False),
    )
    # Its first day may: its events are read.
    foreign = replace(PRICING_DAYS, events_until=date(2024, 3, 9))
    assert plan(foreign, **body).parts == (Part("events", ("visitors",), "event_visitor_rollups"),)


def test_a_goal_filters_conversion_rate_divides_by_rolled_up_visits() -> None:
    signup = Rolled(date(2024, 3, 9), date(2024, 3, 11), filter=("name", "Signup"),
                    of_events=True)  # fmt: skip
    decided = plan(signup, metrics=["visitors", "events", "conversion_rate"],
                   filters=[["is", "event:goal", ["Signup"]]])  # fmt: skip
    divisor = decided.divisor("conversion_rate")
    assert divisor is not None and divisor.whole is not None
    # All visitors of the same days, from visit_rollups (not the goal's rows).
    assert divisor.whole.rolled == ALL_DAYS
    assert divisor.whole.parts == (Part("sessions", ("visitors",), "visit_rollups"),)


@pytest.mark.parametrize(("rolled", "site", "request_body", "parts"), ROLLUPS)
def test_rolled_up_days(
    rolled: Rolled, site: Any, request_body: dict[str, Any], parts: tuple[Part, ...]
) -> None:
    decided = plan(rolled, site, **request_body)
    assert decided.parts == parts
    reads_rollups = any(part.source != "tables" for part in parts)
    assert decided.rolled == (rolled if reads_rollups else None)


def test_a_percentage_of_rolled_up_visitors_divides_by_the_same_reads() -> None:
    decided = plan(ALL_DAYS, metrics=["visitors", "percentage"], dimensions=["visit:source"])
    assert decided.parts == (Part("sessions", ("visitors",), "visit_rollups", with_total=True),)
    assert decided.divisors == (("percentage", Divisor(inline=True)),)


def test_a_percentage_of_filtered_events_divides_by_the_same_reads() -> None:
    page = [["is", "event:page", ["/pricing"]]]
    decided = plan(metrics=["visitors", "percentage"], dimensions=["visit:os"], filters=page)
    assert decided.parts == (Part("events", ("visitors",), with_total=True),)
    assert decided.divisors == (("percentage", Divisor(inline=True)),)
    # By goal an event is in a row per goal it matches: the whole query's own statement.
    by_goal = plan(metrics=["visitors", "percentage"], dimensions=["event:goal"], filters=page)
    assert by_goal.parts == (Part("events", ("visitors",)),)
    assert by_goal.divisor("percentage") == Divisor(
        decide(whole(by_goal.query, by_goal.query.filters))
    )


def test_other_percentages_divide_by_a_plan_of_the_whole_query() -> None:
    decided = plan(ALL_DAYS, metrics=["visitors", "percentage"], dimensions=["event:page"])
    assert decided.parts == (Part("events", ("visitors",), "page_rollups"),)
    divisor = decided.divisor("percentage")
    assert divisor is not None and not divisor.inline and divisor.whole is not None
    # Visitors of the whole range, from the same rolled-up days.
    assert divisor.whole.query == whole(decided.query, ())
    assert divisor.whole.parts == (Part("sessions", ("visitors",), "visit_rollups"),)
    assert divisor.whole.rolled == ALL_DAYS


def test_a_conversion_rate_divides_by_all_visitors_of_the_other_filters() -> None:
    goal = ["is", "event:goal", ["Signup"]]
    country = ["is", "visit:country", ["DE"]]
    decided = plan(metrics=["visitors", "conversion_rate"], dimensions=["visit:source"],
                   filters=[goal, country])  # fmt: skip
    divisor = decided.divisor("conversion_rate")
    assert divisor is not None and divisor.whole is not None
    assert divisor.whole.query.metrics == ("visitors",)
    assert divisor.whole.query.dimensions == ()
    assert divisor.whole.query.filters == (Condition("is", "visit:country", ("DE",)),)
    assert divisor.whole.divisors == ()
    assert decided.divisor("percentage") is None


# (site, request, the rollup rows wanted: days, column, ended before, carry; or None)
WANTED: list[tuple[Any, dict[str, Any], tuple[str, str, str, datetime | None, bool] | None]] = [
    (UTC_SITE, {"metrics": ["visitors"]}, ("2024-03-09", "2024-03-11", "", None, True)),
    (UTC_SITE, {"dimensions": ["visit:source"]},
     ("2024-03-09", "2024-03-11", "source", None, True)),
    (UTC_SITE, {"dimensions": ["visit:country_name"]},
     ("2024-03-09", "2024-03-11", "country_code", None, True)),
    (UTC_SITE, {"dimensions": ["event:page"]},
     ("2024-03-09", "2024-03-11", "pathname", datetime(2024, 3, 12, tzinfo=UTC), False)),
    (UTC_SITE, {"metrics": ["pageviews"]}, ("2024-03-09", "2024-03-11", "", None, False)),
    # Berlin's 2024-03-09..11 is 03-08 23:00 to 03-11 23:00 UTC: two whole UTC days.
    (BERLIN, {"metrics": ["visitors"]}, ("2024-03-09", "2024-03-10", "", None, True)),
    # Berlin's graph: the hour rows (hours_from) of its whole UTC days.
    (BERLIN, {"metrics": ["visitors"], "dimensions": ["time:day"]},
     ("2024-03-09", "2024-03-10", "hours_from", None, False)),
    # Filtered by one value: filter_rollups' rows, and no carried rows (there are none).
    (UTC_SITE, {"filters": [["is", "visit:country", ["DE"]]]},
     ("2024-03-09", "2024-03-11", "", None, False)),
    (UTC_SITE, {"dimensions": ["visit:source"], "filters": [["is", "visit:country", ["DE"]]]},
     ("2024-03-09", "2024-03-11", "source", None, False)),
    # By an event: visits of rolled-up days must have ended in the range (their events
    # matched in it); the day's events (graph, totals) need not.
    (UTC_SITE, {"filters": [["is", "event:page", ["/"]]]},
     ("2024-03-09", "2024-03-11", "", datetime(2024, 3, 12, tzinfo=UTC), False)),
    (UTC_SITE, {"dimensions": ["visit:browser"], "filters": [["is", "event:goal", ["Signup"]]]},
     ("2024-03-09", "2024-03-11", "browser", datetime(2024, 3, 12, tzinfo=UTC), False)),
    (UTC_SITE, {"metrics": ["pageviews"], "filters": [["is", "event:page", ["/"]]]},
     ("2024-03-09", "2024-03-11", "", None, False)),
    (UTC_SITE, {"filters": [["is", "visit:country", ["DE", "FR"]]]}, None),
    (UTC_SITE, {"dimensions": ["visit:city", "visit:os"]}, None),
]  # fmt: skip


@pytest.mark.parametrize(("site", "request_body", "rows"), WANTED)
def test_the_rollup_rows_a_query_wants(site: Any, request_body: dict[str, Any], rows: Any) -> None:
    want = wanted(optimized(site, **{"date_range": DAYS, **request_body}))
    if rows is None:
        assert want is None
        return
    assert want is not None
    first, last, column, ended, carry = rows
    assert (want.first.isoformat(), want.last.isoformat(), want.column) == (first, last, column)
    assert (want.ended_before, want.carry) == (ended, carry)


@pytest.mark.parametrize(
    ("days", "run"),
    [
        ([], None),
        ([9], (9, 9)),
        ([9, 10, 11], (9, 11)),
        ([1, 3, 4, 5, 7, 8], (3, 5)),
        ([1, 2, 4, 5], (1, 2)),  # the first of two equal runs
    ],
)
def test_the_longest_run_of_rolled_up_days(days: list[int], run: tuple[int, int] | None) -> None:
    found = longest_run([date(2024, 3, d) for d in days])
    assert found == (None if run is None else (date(2024, 3, run[0]), date(2024, 3, run[1])))


def test_exit_rate_joins_each_pages_pageviews_onto_its_exits() -> None:
    decided = plan(metrics=["exit_rate"], dimensions=["visit:exit_page"])
    assert decided.tables.provider == {"visits": "sessions"}
    assert decided.parts == (
        Part("sessions", ("visits",)),
        Part("exits", ("pageviews",), outer=False),
    )
    # The exits (visits by exit page) may come from the rollups; the pageviews do not.
    rolled = plan(ALL_DAYS, metrics=["exit_rate"], dimensions=["visit:exit_page"])
    assert [(p.name, p.source) for p in rolled.parts] == [
        ("sessions", "visit_rollups"),
        ("exits", "tables"),
    ]


def test_group_conversion_rate_divides_by_its_group_without_goal_and_property_filters() -> None:
    decided = plan(
        metrics=["group_conversion_rate"],
        dimensions=["event:goal", "visit:source"],
        filters=[
            ["is", "event:goal", ["Signup"]],
            ["is", "event:props:plan", ["pro"]],
            ["is", "visit:country", ["DE"]],
        ],
    )
    divisor = decided.divisor("group_conversion_rate")
    assert divisor is not None and divisor.whole is not None
    assert divisor.by == (1,)  # grouped by visit:source, the goal's own groups aside
    grouped = divisor.whole.query
    assert (grouped.metrics, grouped.dimensions) == (("visitors",), ("visit:source",))
    assert grouped.filters == (Condition("is", "visit:country", ("DE",)),)
    # Without another dimension it is one number, like conversion_rate's.
    alone = plan(metrics=["group_conversion_rate"], dimensions=["event:goal"])
    assert alone.divisor("group_conversion_rate") == Divisor(decide(whole(alone.query, ())), by=())


def test_the_sessions_part_of_top_pages_filters_the_entry_page() -> None:
    page = ["is", "event:page", ["/"]]
    decided = plan(
        metrics=["bounce_rate"],
        dimensions=["event:page", "event:hostname"],
        filters=[
            ["contains", "event:page", ["/blog"]],
            ["is", "event:hostname", ["a.example"]],
            ["is", "event:name", ["pageview"]],
            ["has_done", page],
        ],
    )
    sessions = next(p for p in decided.parts if p.name == "sessions")
    assert not sessions.outer
    assert sessions.filters == (
        Condition("contains", "visit:entry_page", ("/blog",)),
        Condition("is", "visit:entry_page_hostname", ("a.example",)),
        Condition("is", "event:name", ("pageview",)),
        # Other events of the visit: as they are.
        Behaviour("has_done", Condition("is", "event:page", ("/",))),
    )
    events = next(p for p in decided.parts if p.name == "events")
    assert events.filters is None  # the query's own


SHOP = SiteInfo(
    7,
    "shop.example",
    "UTC",
    (
        GoalInfo("Purchase", event_name="Purchase", currency="EUR"),
        GoalInfo("Refund", event_name="Refund", currency="EUR"),
        GoalInfo("Subscribe", event_name="Subscribe", currency="USD"),
        GoalInfo("Signup", event_name="Signup"),
    ),
)

# (request, the revenue goals summed, by goal, warning)
REVENUE: list[tuple[dict[str, Any], list[str], bool, str | None]] = [
    ({}, [], False, "no_revenue_goals_matching"),
    ({"filters": [["is", "event:goal", ["Signup"]]]}, [], False, "no_revenue_goals_matching"),
    ({"filters": [["is", "event:goal", ["Purchase", "Signup"]]]}, ["Purchase"], False, None),
    ({"filters": [["is", "event:goal", ["Purchase", "Refund"]]]}, ["Purchase", "Refund"], False,
     None),
    ({"filters": [["is", "event:goal", ["Purchase", "Subscribe"]]]}, [], False,
     "no_single_revenue_currency"),
    ({"dimensions": ["event:goal"]}, ["Purchase", "Refund", "Subscribe"], True, None),
    ({"dimensions": ["event:goal"], "filters": [["contains", "event:goal", ["u"]]]},
     ["Purchase", "Refund", "Subscribe"], True, None),
    # Two top-level goal filters: the goals both select.
    ({"filters": [["contains", "event:goal", ["u"]], ["contains", "event:goal", ["P"]]]},
     ["Purchase"], False, None),
]  # fmt: skip


@pytest.mark.parametrize(("request_body", "goals", "by_goal", "warning"), REVENUE)
def test_the_revenue_plan(
    request_body: dict[str, Any], goals: list[str], by_goal: bool, warning: str | None
) -> None:
    decided = plan(site=SHOP, metrics=["total_revenue"], **request_body).revenue
    assert decided is not None
    assert [g.display_name for g in decided.goals] == goals
    assert (decided.by_goal, decided.warning) == (by_goal, warning)
    assert plan(site=SHOP).revenue is None  # no revenue metric, no plan
