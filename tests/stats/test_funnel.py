"""Funnels counted on the real event store, against answers computed by hand: steps in
order within one visit (out of order, repeated, across visits), 2 and 8 steps, the date
range and filters applied as everywhere else; the same answers with the days rolled up."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from jetrack.stats.engine import prepare
from jetrack.stats.errors import QueryError
from jetrack.stats.filters import goal_match_sql
from jetrack.stats.funnel import (
    FunnelInfo,
    funnel_id_of,
    run_funnel,
    shape,
    statement,
    stats_request,
    steps_of,
)
from jetrack.stats.params import Params
from jetrack.stats.query import GoalInfo, SiteInfo, conditions, is_event_dimension
from jetrack.stats.sql import row_conditions
from jetrack.store.rollups import build_rollups
from jetrack.store.stores import Stores
from tests.stats.conftest import STORED, stored_as
from tests.stats.helpers import SITE_ID, at, demo_site, event, visit

NOW = at("2024-03-20 12:00")
STEP_GOALS = tuple(GoalInfo(f"Step {n}", event_name=f"Step{n}") for n in range(1, 9))
GOALS = (
    GoalInfo("Visit /pricing", page_path="/pricing"),
    GoalInfo("Signup", event_name="Signup"),
    GoalInfo("Purchase", event_name="Purchase"),
    GoalInfo("Pro signup", event_name="Signup", custom_props=(("plan", "pro"),)),
    *STEP_GOALS,
)
SITE = SiteInfo(SITE_ID, "example.com", "UTC", GOALS)
CHECKOUT = FunnelInfo(1, "Checkout", ("Visit /pricing", "Signup", "Purchase"))
SIGNUP = FunnelInfo(2, "Signup", ("Visit /pricing", "Signup"))
EIGHT = FunnelInfo(3, "Eight", tuple(g.display_name for g in STEP_GOALS))
DAY = ["2024-03-10", "2024-03-10"]


def custom(when: str, name: str, session_id: int, visitor_id: int, **values: Any) -> dict[str, Any]:
    return event(when, name=name, session_id=session_id, visitor_id=visitor_id, **values)


def fixture_rows() -> list[dict[str, Any]]:
    """2024-03-10 (UTC), funnel Checkout = /pricing -> Signup -> Purchase:

    v1 s1  /pricing, Signup, Purchase                       in order: 3
    v2 s2  Signup, then /pricing                            out of order: 1
    v3 s3  /pricing, /pricing, Signup, Signup               repeated: 2
    v4 s4  /pricing | s5 Signup, Purchase (another visit)   across visits: 1
    v5 s6  /                                                none: 0
    v6 s7  /pricing, Purchase                               skips Signup: 1
    v7 s8  FR: /pricing, Signup (plan=pro)                  2
    v8 s9  /pricing at 23:59 the day before, Signup at 00:01 in range: 0
    2024-03-11, funnel Eight = Step1 .. Step8:
    v9 s10 Step1 .. Step8                                   8
    v10 s11 Step1 .. Step5, Step7                           5
    v11 s12 Step2 .. Step8                                  0
    2024-03-12: v12 s13 Signup and /pricing in the same second
    """
    rows = visit(1, 1, [("2024-03-10 08:00", "/"), ("2024-03-10 08:01", "/pricing")])
    rows += [
        custom("2024-03-10 08:02", "Signup", 1, 1, pathname="/pricing"),
        custom("2024-03-10 08:03", "Purchase", 1, 1, pathname="/pricing"),
    ]
    rows += [custom("2024-03-10 09:00", "Signup", 2, 2, pathname="/")]
    rows += visit(2, 2, [("2024-03-10 09:01", "/pricing")], entry_page="/")
    rows += visit(3, 3, [("2024-03-10 10:00", "/pricing"), ("2024-03-10 10:01", "/pricing")])
    rows += [
        custom("2024-03-10 10:02", "Signup", 3, 3, entry_page="/pricing"),
        custom("2024-03-10 10:03", "Signup", 3, 3, entry_page="/pricing"),
    ]
    rows += visit(4, 4, [("2024-03-10 11:00", "/pricing")])
    rows += visit(5, 4, [("2024-03-10 15:00", "/")])
    rows += [
        custom("2024-03-10 15:01", "Signup", 5, 4),
        custom("2024-03-10 15:02", "Purchase", 5, 4),
    ]
    rows += visit(6, 5, [("2024-03-10 12:00", "/")])
    rows += visit(7, 6, [("2024-03-10 13:00", "/pricing")])
    rows += [custom("2024-03-10 13:05", "Purchase", 7, 6, entry_page="/pricing")]
    fr = {"country_code": "FR", "source": "Newsletter"}
    rows += visit(8, 7, [("2024-03-10 14:00", "/pricing")], **fr)
    rows += [
        custom("2024-03-10 14:01", "Signup", 8, 7, entry_page="/pricing", props={"plan": "pro"},
               **fr),
    ]  # fmt: skip
    rows += visit(9, 8, [("2024-03-09 23:59", "/pricing")])
    rows += [custom("2024-03-10 00:01", "Signup", 9, 8, entry_page="/pricing")]
    for minute in range(8):
        rows += [custom(f"2024-03-11 10:0{minute}", f"Step{minute + 1}", 10, 9)]
    for minute in (0, 1, 2, 3, 4, 6):
        rows += [custom(f"2024-03-11 11:0{minute}", f"Step{minute + 1}", 11, 10)]
    for minute in range(1, 8):
        rows += [custom(f"2024-03-11 12:0{minute}", f"Step{minute + 1}", 12, 11)]
    rows += [custom("2024-03-12 08:00:00", "Signup", 13, 12)]
    rows += visit(13, 12, [("2024-03-12 08:00:00", "/pricing")])
    return rows


@pytest.fixture(scope="module", params=STORED)
def funnel_stores(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Stores]:
    """The fixture with and without rollups (funnels read events either way: the answers
    must not move)."""
    with stored_as(request, tmp_path_factory, "funnel", fixture_rows()) as stores:
        yield stores


def steps(answer: dict[str, Any]) -> list[tuple[Any, ...]]:
    return [
        (
            s["label"],
            s["visitors"],
            s["dropoff"],
            s["dropoff_percentage"],
            s["conversion_rate"],
            s["conversion_rate_step"],
        )
        for s in answer["steps"]
    ]


def ask(stores: Stores, funnel: FunnelInfo, **request: Any) -> dict[str, Any]:
    body = {"site_id": "example.com", "funnel_id": funnel.id, "date_range": DAY, **request}
    funnel_id_of(body)
    return run_funnel(stores.events, SITE, funnel, body, now=NOW)


def test_checkout_in_order_within_a_visit(funnel_stores: Stores) -> None:
    answer = ask(funnel_stores, CHECKOUT)
    # Furthest step by visitor: v1 3, v2 1, v3 2, v4 1, v5 0, v6 1, v7 2, v8 0.
    assert steps(answer) == [
        ("Visit /pricing", 6, 0, 0.0, 100.0, 100.0),
        ("Signup", 3, 3, 50.0, 50.0, 50.0),
        ("Purchase", 1, 2, 66.67, 16.67, 33.33),
    ]
    assert answer["all_visitors"] == 8
    assert (answer["entering_visitors"], answer["entering_visitors_percentage"]) == (6, 75.0)
    assert answer["never_entering_visitors"] == 2
    assert answer["never_entering_visitors_percentage"] == 25.0
    assert (answer["completed_visitors"], answer["conversion_rate"]) == (1, 16.67)
    assert (answer["id"], answer["name"]) == (1, "Checkout")
    assert answer["query"] == {
        "site_id": "example.com",
        "funnel_id": 1,
        "date_range": ["2024-03-10T00:00:00+00:00", "2024-03-10T23:59:59+00:00"],
        "filters": [],
    }


def test_two_steps(funnel_stores: Stores) -> None:
    # v1 2, v2 1 (Signup came first), v3 2, v4 1 (Signup in the next visit), v6 1, v7 2.
    assert steps(ask(funnel_stores, SIGNUP)) == [
        ("Visit /pricing", 6, 0, 0.0, 100.0, 100.0),
        ("Signup", 3, 3, 50.0, 50.0, 50.0),
    ]


def test_eight_steps(funnel_stores: Stores) -> None:
    # v9 all 8; v10 stops at Step5 (Step6 never came); v11 never did Step1.
    answer = ask(funnel_stores, EIGHT, date_range=["2024-03-11", "2024-03-11"])
    assert [s["visitors"] for s in answer["steps"]] == [2, 2, 2, 2, 2, 1, 1, 1]
    assert answer["steps"][5]["dropoff"] == 1
    assert answer["steps"][5]["conversion_rate_step"] == 50.0
    assert (answer["all_visitors"], answer["conversion_rate"]) == (3, 50.0)


@pytest.mark.parametrize(
    ("filters", "expected", "everyone"),
    [
        # Visit attributes: only v7 (FR) is left, at Signup.
        ([["is", "visit:country", ["FR"]]], [1, 1, 0], 1),
        ([["is_not", "visit:country", ["FR"]]], [5, 2, 1], 7),
        ([["is", "visit:source", ["Newsletter"]]], [1, 1, 0], 1),
        # A page keeps the visits that viewed it, whole: v4's second visit goes, v5 and
        # v8 (whose /pricing was before the range) too.
        ([["is", "event:page", ["/pricing"]]], [6, 3, 1], 6),
        # A goal keeps the visits that completed it: s1 (3), s5 (none), s7 (1).
        ([["is", "event:goal", ["Purchase"]]], [2, 1, 1], 3),
        # A property: only v7's Signup carries plan=pro.
        ([["is", "event:props:plan", ["pro"]]], [1, 1, 0], 1),
        # Entered on /pricing: s3 (v3: 2), s4 (v4: 1), s7 (v6: 1), s8 (v7: 2), s9 (v8: 0).
        ([["is", "visit:entry_page", ["/pricing"]]], [4, 2, 0], 5),
        # Exit page (a sessions column, the visit's last page): s1, s2, s3, s4, s7, s8, and
        # s9, whose /pricing was the day before: v8 is there, at no step.
        ([["is", "visit:exit_page", ["/pricing"]]], [6, 3, 1], 7),
    ],
)
def test_filters_apply_as_everywhere(
    funnel_stores: Stores, filters: list[Any], expected: list[int], everyone: int
) -> None:
    answer = ask(funnel_stores, CHECKOUT, filters=filters)
    assert [s["visitors"] for s in answer["steps"]] == expected
    assert answer["all_visitors"] == everyone
    assert answer["query"]["filters"] == filters


def test_the_date_range_bounds_the_steps(funnel_stores: Stores) -> None:
    # Over both days v8's /pricing (the 9th) now precedes its Signup: v8 reaches Signup.
    answer = ask(funnel_stores, SIGNUP, date_range=["2024-03-09", "2024-03-10"])
    assert [s["visitors"] for s in answer["steps"]] == [7, 4]
    empty = ask(funnel_stores, SIGNUP, date_range=["2024-03-01", "2024-03-02"])
    assert [s["visitors"] for s in empty["steps"]] == [0, 0]
    assert (empty["all_visitors"], empty["conversion_rate"]) == (0, 0.0)
    assert empty["steps"][1]["dropoff_percentage"] == 0.0


def test_a_goal_with_properties_is_a_step(funnel_stores: Stores) -> None:
    pro = FunnelInfo(4, "Pro", ("Visit /pricing", "Pro signup"))
    assert [s["visitors"] for s in ask(funnel_stores, pro)["steps"]] == [6, 1]


def test_events_of_one_second_are_taken_in_the_funnels_order(funnel_stores: Stores) -> None:
    """The event store keeps seconds: within one, the order of the events is unknown, and
    windowFunnel takes them in the funnel's order (docs/funnels.md). v12 sent Signup and
    viewed /pricing in the same second."""
    answer = ask(funnel_stores, SIGNUP, date_range=["2024-03-12", "2024-03-12"])
    assert [s["visitors"] for s in answer["steps"]] == [1, 1]


@pytest.mark.parametrize(
    ("request_body", "message"),
    [
        ({"funnel_id": 1, "date_range": "7d", "metrics": ["visitors"]}, "metrics: not a field"),
        ({"date_range": "7d"}, "funnel_id: required"),
        ({"funnel_id": "1", "date_range": "7d"}, "funnel_id: required"),
        ({"funnel_id": True, "date_range": "7d"}, "funnel_id: required"),
        ({"funnel_id": 0, "date_range": "7d"}, "funnel_id: required"),
        ([1], "must be a JSON object"),
    ],
)
def test_request_shape_is_checked(request_body: Any, message: str) -> None:
    with pytest.raises(QueryError, match=message) as caught:
        funnel_id_of(request_body)
    assert caught.value.status == 400


@pytest.mark.parametrize(
    ("request_body", "message"),
    [
        ({}, "date_range: required"),
        ({"date_range": "fortnight"}, "date_range"),
        ({"date_range": "7d", "filters": [["is", "visit:country", "FR"]]}, "filters"),
        ({"date_range": "7d", "filters": [["is", "event:goal", ["Nope"]]]}, "'Nope' is not"),
        ({"date_range": "7d", "filters": [["matches", "event:page", ["(("]]]}, "re2"),
    ],
)
def test_bad_date_range_or_filters_are_400(
    funnel_stores: Stores, request_body: dict[str, Any], message: str
) -> None:
    body = {"site_id": "example.com", "funnel_id": 1, **request_body}
    with pytest.raises(QueryError, match=message) as caught:
        run_funnel(funnel_stores.events, SITE, CHECKOUT, body, now=NOW)
    assert caught.value.status == 400


def test_user_text_reaches_the_sql_only_as_parameters() -> None:
    from jetrack.stats.engine import prepare
    from jetrack.stats.schema import validate_request

    hostile = "x' OR 1=1 --"
    request = {"site_id": "example.com", "metrics": ["visitors"], "date_range": "7d",
               "filters": [["is", "visit:source", [hostile]]]}  # fmt: skip
    validate_request(request)
    query = prepare(None, SITE, request, now=NOW)  # type: ignore[arg-type]  # no lookup
    built = statement(query, GOALS[:2])
    assert hostile not in built.sql and hostile in built.params.values()
    assert "windowFunnel(259200)" in built.sql


def test_shape_from_levels_by_hand() -> None:
    """10 visitors entered no step, 5 stopped at A, 5 went on to C; none stopped at B."""
    from jetrack.stats.engine import prepare

    request = {"site_id": "example.com", "metrics": ["visitors"], "date_range": "day"}
    query = prepare(None, SITE, request, now=NOW)  # type: ignore[arg-type]  # no lookup
    answer = shape(FunnelInfo(9, "F", ("A", "B", "C")), {0: 10, 1: 5, 3: 5}, query)
    assert steps(answer) == [
        ("A", 10, 0, 0.0, 100.0, 100.0),
        ("B", 5, 5, 50.0, 50.0, 50.0),
        ("C", 5, 0, 0.0, 50.0, 100.0),
    ]
    assert answer["all_visitors"] == 20 and answer["entering_visitors_percentage"] == 50.0
    assert answer["conversion_rate"] == 50.0


def every_event_answer(stores: Stores, site: SiteInfo, funnel: FunnelInfo, body: Any) -> Any:
    """The funnel as it was counted before it read only its steps' events: every event of
    the filtered visits through windowFunnel, and every visitor counted exactly."""
    query = prepare(stores.events, site, stats_request(body), now=DEMO_NOW)
    params = Params()
    rows = row_conditions(query, params)
    in_range = f"{rows.base_where()} AND name != 'engagement'"
    on_events = [
        t for t in rows.row_trees if any(is_event_dimension(c.dimension) for c in conditions(t))
    ]
    on_visits = [t for t in rows.row_trees if t not in on_events]
    where = f"{in_range} AND {rows.row_filter(on_visits)}"
    if on_events:
        where += (
            f" AND session_id IN (SELECT session_id FROM events WHERE {in_range}"
            f" AND {rows.row_filter(on_events)})"
        )
    matches = ", ".join(goal_match_sql(goal, params) for goal in steps_of(funnel, site))
    visits = (
        f"SELECT any(visitor_id) AS visitor_id, windowFunnel(259200)(timestamp, {matches})"
        f" AS level FROM events WHERE {where}{rows.exit_page_clause()} GROUP BY session_id"
    )
    result = stores.events.query(
        f"SELECT level, count() FROM (SELECT visitor_id, max(level) AS level FROM ({visits})"
        " GROUP BY visitor_id) GROUP BY level",
        params.values,
    )
    return shape(funnel, {int(level): int(count) for level, count in result.rows}, query)


DEMO_NOW = datetime(2026, 3, 18, 15, 30, tzinfo=UTC)


# Filters of each kind: none, visit, event (page, goal), exit page, two.
STEP_FILTERS: list[list[Any]] = [
    [],
    [["is", "visit:country", ["DE"]]],
    [["is", "visit:source", ["Google"]]],
    [["is", "event:page", ["/pricing"]]],
    [["is", "event:goal", ["Signup"]]],
    [["is", "visit:exit_page", ["/pricing"]]],
    [["is", "visit:device", ["Mobile"]], ["is_not", "event:page", ["/"]]],
]


def test_reading_only_the_steps_events_answers_as_reading_all(stores: Stores) -> None:
    """On the demo's traffic (a week, 300 visitors a day), raw and rolled up: the same
    steps and all visitors as passing every event of the visits through windowFunnel."""
    site = demo_site(stores, DEMO_NOW, GoalInfo("Visit /", page_path="/"))
    funnel = FunnelInfo(9, "Three", ("Visit /", "Visit /pricing", "Signup"))
    for rolled_up in (False, True):
        if rolled_up:
            for day in range(8, 1, -1):
                build_rollups(stores.events, (DEMO_NOW - timedelta(days=day)).date())
        for filters in STEP_FILTERS:
            body = {"site_id": site.domain, "funnel_id": 9, "date_range": "7d", "filters": filters}
            answer = run_funnel(stores.events, site, funnel, body, now=DEMO_NOW)
            assert answer == every_event_answer(stores, site, funnel, body), (filters, rolled_up)
            assert answer["all_visitors"] > answer["entering_visitors"] > 0 or filters
