"""Funnels read only the events that complete a step and take all visitors from the
sessions rows: every answer is the one of the funnel over all the range's
events (`raw_statement`, the statement before), on seeded random visits with the edge
cases: visits across midnight (also with only engagement pings after it), steps out of
order and repeated, visits that started before the range, filters, time zones."""

from __future__ import annotations

import itertools
import random
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest

from jetrack.stats.engine import execute, prepare
from jetrack.stats.filters import goal_match_sql
from jetrack.stats.funnel import (
    WINDOW_SECONDS,
    FunnelInfo,
    counted_events,
    run_funnel,
    shape,
    stats_request,
    steps_of,
)
from jetrack.stats.params import Params
from jetrack.stats.query import GoalInfo, Query, SiteInfo
from jetrack.stats.sql import Statement, row_conditions
from jetrack.store.stores import Stores
from tests.stats.conftest import STORED, stored_as
from tests.stats.helpers import SITE_ID, at, event

NOW = at("2024-03-20 12:00")
GOALS = (
    GoalInfo("Visit /pricing", page_path="/pricing"),
    GoalInfo("Signup", event_name="Signup"),
    GoalInfo("Purchase", event_name="Purchase"),
    GoalInfo("Pro signup", event_name="Signup", custom_props=(("plan", "pro"),)),
    GoalInfo("Visit /blog/*", page_path="/blog/*"),
    GoalInfo("Visit /docs/**", page_path="/docs/**"),
)
SITES = [SiteInfo(SITE_ID, "example.com", zone, GOALS) for zone in ("UTC", "America/New_York")]
FUNNELS = [
    FunnelInfo(1, "Checkout", ("Visit /pricing", "Signup", "Purchase")),
    FunnelInfo(2, "Pro", ("Visit /blog/*", "Visit /pricing", "Pro signup")),
    FunnelInfo(3, "Docs", ("Visit /docs/**", "Signup")),
]
RANGES = [
    ["2024-03-05", "2024-03-11"],
    ["2024-03-07", "2024-03-07"],
    ["2024-03-06", "2024-03-08"],
    ["2024-03-04", "2024-03-04"],  # the day before the data
    ["2024-03-11", "2024-03-12"],  # the last day with data, and one without
]
FILTERS: list[list[Any]] = [
    [],
    [["is", "visit:source", ["Google"]]],  # filter_rollups
    [["is", "visit:country", ["DE"]]],
    [["is", "event:page", ["/pricing"]]],  # event_rollups
    [["is", "event:goal", ["Signup"]]],
    [["is", "event:name", ["Purchase"]]],
    [["is", "visit:exit_page", ["/pricing"]]],
    [["is", "visit:country", ["DE"]], ["is", "visit:source", ["Google"]]],  # the tables
    [["is_not", "visit:source", ["Google"]]],
    [["contains", "event:page", ["blog"]]],
    [["is", "visit:entry_page", ["/"]]],
]
PATHS = ["/", "/pricing", "/pricing", "/docs/a/b", "/blog/a", "/blog/b/c", "/about"]
NAMES = ["Signup", "Signup", "Purchase", "Outbound"]


def seeded_rows(seed: int = 17) -> list[dict[str, Any]]:
    """Eight days of visits: a visitor id per person and day (as the daily salt makes
    them, some the same as another day's), 1-3 visits each, one in four starting in the
    hour before midnight."""
    rng = random.Random(seed)
    rows: list[dict[str, Any]] = []
    visitor = visitor_count = session = 0
    for day in range(5, 13):
        for _ in range(30):
            # Now and then the 32-bit id of another day's visitor: two people, one id.
            visitor = rng.randint(1, visitor) if rng.random() < 0.04 else visitor_count + 1
            visitor_count = max(visitor_count, visitor)
            attrs = {
                "source": rng.choice(["Google", "Google", "", "Newsletter"]),
                "country_code": rng.choice(["DE", "FR", "US"]),
            }
            for _ in range(rng.randint(1, 3)):
                session += 1
                late = rng.random() < 0.25
                hour = 23 if late else rng.randint(0, 22)
                when = datetime(2024, 3, day, hour, rng.randint(0, 59), rng.randint(0, 59))
                rows += seeded_visit(rng, when, session, visitor, attrs)
    return rows


def seeded_visit(
    rng: random.Random, when: datetime, session: int, visitor: int, attrs: dict[str, Any]
) -> list[dict[str, Any]]:
    """Pageviews and custom events (steps in any order, repeated), some engagement pings,
    and now and then only engagement pings after midnight."""
    ids = {"session_id": session, "visitor_id": visitor, **attrs}
    rows: list[dict[str, Any]] = []
    entry = ""
    for _ in range(rng.randint(1, 8)):
        path = rng.choice(PATHS)
        entry = entry or path
        text = when.strftime("%Y-%m-%d %H:%M:%S")
        if rng.random() < 0.35 and rows:
            props = {"plan": rng.choice(["pro", "free"])} if rng.random() < 0.5 else {}
            rows.append(event(text, name=rng.choice(NAMES), pathname=path, props=props, **ids))
        else:
            rows.append(event(text, pathname=path, **ids))
        if rng.random() < 0.3:
            ping = (when + timedelta(seconds=rng.randint(5, 1500))).strftime("%Y-%m-%d %H:%M:%S")
            rows.append(event(ping, name="engagement", pathname=path, **ids))
        when += timedelta(seconds=rng.choice([0, 1, 30, 240, 900]))
    for row in rows:
        row["entry_page"] = entry
    return rows


@pytest.fixture(scope="module", params=[p for p in STORED if "rollups" in str(p)])
def seeded(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Stores]:
    """The seeded visits with ingestion's visit ids, every day rolled up."""
    with stored_as(request, tmp_path_factory, "funnel-fast", seeded_rows()) as stores:
        yield stores


def raw_statement(query: Query, steps: tuple[GoalInfo, ...]) -> Statement:
    """The funnel over every event of the range (the statement before rollups and step
    events): rows (level, visitors), level 0 included."""
    params = Params()
    counted = counted_events(row_conditions(query, params))
    steps_sql = ", ".join(goal_match_sql(goal, params) for goal in steps)
    visits = (
        f"SELECT any(visitor_id) AS visitor_id,"
        f" windowFunnel({WINDOW_SECONDS})(timestamp, {steps_sql}) AS level"
        f" FROM events WHERE {counted} GROUP BY session_id"
    )
    visitors = f"SELECT visitor_id, max(level) AS level FROM ({visits}) GROUP BY visitor_id"
    sql = f"SELECT level, count() FROM ({visitors}) GROUP BY level ORDER BY level"
    return Statement(sql, params.values, 1, ["visitors"])


def raw_answer(stores: Stores, site: SiteInfo, funnel: FunnelInfo, body: dict[str, Any]) -> Any:
    query = prepare(stores.events, site, stats_request(body), now=NOW)
    _columns, rows = execute(stores.events, raw_statement(query, steps_of(funnel, site)))
    return shape(funnel, {int(level): int(n) for level, n in rows}, query)


def test_every_answer_is_the_raw_one(seeded: Stores) -> None:
    compared = 0
    for site, (index, dates), (number, filters) in itertools.product(
        SITES, enumerate(RANGES), enumerate(FILTERS)
    ):
        # Every funnel unfiltered (the events of the steps only, all visitors apart), one
        # in turn with each filter (one pass over the filtered events).
        for funnel in FUNNELS if not filters else [FUNNELS[(index + number) % len(FUNNELS)]]:
            body = {"site_id": site.domain, "funnel_id": funnel.id, "date_range": dates}
            if filters:
                body["filters"] = filters
            fast = run_funnel(seeded.events, site, funnel, body, now=NOW)
            assert fast == raw_answer(seeded, site, funnel, body), (site, funnel, body)
            compared += 1
    assert compared == len(SITES) * len(RANGES) * (len(FUNNELS) + len(FILTERS) - 1)


def test_the_seeded_answers_are_not_trivial(seeded: Stores) -> None:
    """The comparison above compares funnels that visitors enter and complete, with
    visitors who never enter, ids of two days, and visits across midnight."""
    site, checkout = SITES[0], FUNNELS[0]
    body = {"site_id": site.domain, "funnel_id": checkout.id, "date_range": RANGES[0]}
    answer = run_funnel(seeded.events, site, checkout, body, now=NOW)
    assert answer["completed_visitors"] > 5
    assert answer["entering_visitors"] > answer["completed_visitors"]
    assert answer["never_entering_visitors"] > 5
    reused = seeded.events.query(
        "SELECT count() FROM (SELECT visitor_id FROM sessions FINAL GROUP BY visitor_id"
        " HAVING uniqExact(toDate(start)) > 1)"
    ).rows[0][0]
    assert reused > 3
    crossing = seeded.events.query(
        "SELECT count() FROM sessions FINAL WHERE toDate(start) != toDate(timestamp)"
    ).rows[0][0]
    assert crossing > 10
    # Visits whose events after midnight are only engagement pings.
    pings_only = seeded.events.query(
        "SELECT count() FROM (SELECT session_id, max(timestamp) AS last FROM events"
        " GROUP BY session_id) AS e INNER JOIN sessions AS s FINAL USING (session_id)"
        " WHERE toDate(e.last) != toDate(s.timestamp)"
    ).rows[0][0]
    assert pings_only > 0
