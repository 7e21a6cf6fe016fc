"""Session vs event filters, logical operators, comparisons, pagination, empty ranges."""

from __future__ import annotations

from typing import Any

import pytest

from jetrack.stats.engine import run_query
from jetrack.stats.errors import QueryError
from jetrack.stats.query import SiteInfo
from jetrack.store.stores import Stores
from tests.stats.helpers import event, insert, visit
from tests.stats.test_metrics import ask, table

METRICS = ["visitors", "visits", "pageviews", "bounce_rate", "visit_duration"]

FILTERS = [
    ("visit is", [["is", "visit:country", ["US"]]], [2, 2, 2, 100, 30]),
    # An event filter keeps visits with a matching event; their metrics stay whole-visit.
    ("event is", [["is", "event:page", ["/pricing"]]], [1, 1, 1, 0, 180]),
    (
        "contains, case-insensitive",
        [["contains", "event:page", ["BLOG"], {"case_sensitive": False}]],
        [2, 2, 3, 50, 330],
    ),
    ("matches", [["matches", "event:page", ["^/blog/[a-z]$"]]], [2, 2, 3, 50, 330]),
    ("matches_not", [["matches_not", "event:page", ["^/blog"]]], [3, 3, 4, 33, 460]),
    ("is_not", [["is_not", "visit:source", ["Google"]]], [3, 3, 3, 67, 420]),
    ("contains_not", [["contains_not", "visit:source", ["oo", "itt"]]], [2, 2, 2, 50, 600]),
    ("not", [["not", ["is", "visit:country", ["US"]]]], [2, 3, 5, 0, 660]),
    (
        "or across visit and event",
        [["or", [["is", "visit:country", ["FR"]], ["is", "event:page", ["/blog/b"]]]]],
        [2, 2, 2, 0, 900],
    ),
    (
        "and",
        [["and", [["is", "visit:country", ["DE"]], ["is", "event:page", ["/blog/a"]]]]],
        [1, 1, 1, 0, 600],
    ),
    ("goal", [["is", "event:goal", ["Signup"]]], [1, 1, 0, 0, 180]),
    ("page goal", [["contains", "event:goal", ["blog"]]], [2, 2, 3, 50, 330]),
    ("exit page", [["is", "visit:exit_page", ["/pricing"]]], [2, 2, 3, 0, 690]),
    (
        "country name",
        [["is", "visit:country_name", ["germany"], {"case_sensitive": False}]],
        [1, 2, 4, 0, 390],
    ),
    ("no match", [["is", "visit:country", ["JP"]]], [0, 0, 0, 0, 0]),
]


@pytest.mark.parametrize(
    ("filters", "expected"), [f[1:] for f in FILTERS], ids=[f[0] for f in FILTERS]
)
def test_filters(fixture_stores: Stores, filters: list[Any], expected: list[Any]) -> None:
    assert table(ask(fixture_stores, metrics=METRICS, filters=filters)) == [([], expected)]


def test_event_filter_with_visit_dimension(fixture_stores: Stores) -> None:
    answer = ask(fixture_stores, metrics=["visitors", "pageviews"], dimensions=["visit:source"],
                 filters=[["is", "event:page", ["/"]]])  # fmt: skip
    assert table(answer) == [
        (["Direct / None"], [1, 1]),
        (["Google"], [1, 1]),
        (["Newsletter"], [1, 1]),
    ]


def test_comparison_with_previous_period(fixture_stores: Stores) -> None:
    # D-1 holds S0 only: 1 visitor, 1 pageview, a bounce.
    answer = ask(fixture_stores, metrics=["visitors", "pageviews", "bounce_rate"],
                 include={"comparisons": {"mode": "previous_period"}})  # fmt: skip
    [row] = answer["results"]
    assert row["metrics"] == [4, 7, 40]
    assert row["comparison"] == {
        "dimensions": [],
        "metrics": [1, 1, 100],
        "change": [300, 600, -60],
    }
    assert answer["query"]["comparison_date_range"] == [
        "2024-03-09T00:00:00+01:00",
        "2024-03-09T23:59:59+01:00",
    ]


def test_comparison_by_dimension_and_by_time(fixture_stores: Stores) -> None:
    by_source = ask(fixture_stores, metrics=["visitors"], dimensions=["visit:source"],
                    include={"comparisons": {"mode": "previous_period"}})  # fmt: skip
    compared = {r["dimensions"][0]: r["comparison"] for r in by_source["results"]}
    assert compared["Google"] == {"dimensions": ["Google"], "metrics": [1], "change": [0]}
    assert compared["Twitter"] == {"dimensions": ["Twitter"], "metrics": [0], "change": [100]}
    hourly = ask(fixture_stores, metrics=["visitors"], dimensions=["time:hour"],
                 include={"comparisons": {"mode": "previous_period"}, "time_labels": True})  # fmt: skip
    noon = next(r for r in hourly["results"] if r["dimensions"] == ["2024-03-10 12:00:00"])
    assert noon["comparison"]["dimensions"] == ["2024-03-09 12:00:00"]
    assert noon["comparison"]["metrics"] == [1]
    assert len(hourly["meta"]["comparison_time_labels"]) == 24


def test_year_over_year_range(fixture_stores: Stores) -> None:
    answer = ask(fixture_stores, metrics=["visitors"],
                 include={"comparisons": {"mode": "year_over_year"}})  # fmt: skip
    assert answer["query"]["comparison_date_range"][0] == "2023-03-10T00:00:00+01:00"
    assert answer["results"][0]["comparison"]["metrics"] == [0]


def test_pagination_order_and_total_rows(fixture_stores: Stores) -> None:
    page = ask(fixture_stores, metrics=["visitors"], dimensions=["event:page"],
               include={"total_rows": True}, pagination={"limit": 2, "offset": 1})  # fmt: skip
    assert table(page) == [(["/blog/a"], [2]), (["/blog/b"], [1])]
    assert page["meta"]["total_rows"] == 4
    past = ask(fixture_stores, metrics=["visitors"], dimensions=["event:page"],
               include={"total_rows": True}, pagination={"limit": 2, "offset": 10})  # fmt: skip
    assert past["results"] == [] and past["meta"]["total_rows"] == 4
    ordered = ask(fixture_stores, metrics=["visitors"], dimensions=["event:page"],
                  order_by=[["visitors", "asc"], ["event:page", "desc"]])  # fmt: skip
    assert [r[0][0] for r in table(ordered)] == ["/pricing", "/blog/b", "/blog/a", "/"]


def test_empty_range(fixture_stores: Stores) -> None:
    empty = ["2024-01-01", "2024-01-02"]
    aggregate = ask(fixture_stores, metrics=[*METRICS, "views_per_visit"], date_range=empty)
    assert table(aggregate) == [([], [0, 0, 0, 0, 0, 0.0])]
    breakdown = ask(fixture_stores, metrics=METRICS, dimensions=["visit:source"],
                    date_range=empty, include={"total_rows": True})  # fmt: skip
    assert breakdown["results"] == [] and breakdown["meta"]["total_rows"] == 0
    series = ask(fixture_stores, metrics=["visitors"], dimensions=["time:day"], date_range=empty,
                 include={"time_labels": True})  # fmt: skip
    assert series["results"] == [] and series["meta"]["time_labels"] == ["2024-01-01", "2024-01-02"]


def test_datetime_range_and_response_shape(fixture_stores: Stores) -> None:
    answer = ask(fixture_stores, metrics=["visitors", "pageviews"],
                 date_range=["2024-03-10T09:00:00+01:00", "2024-03-10T10:59:59+01:00"])  # fmt: skip
    assert answer == {
        "results": [{"dimensions": [], "metrics": [2, 3]}],
        "meta": {},
        "query": {
            "site_id": "example.com",
            "metrics": ["visitors", "pageviews"],
            "date_range": ["2024-03-10T09:00:00+01:00", "2024-03-10T10:59:59+01:00"],
            "dimensions": [],
            "filters": [],
            "order_by": [["visitors", "desc"]],
            "include": {},
            "pagination": {"limit": 10000, "offset": 0},
        },
    }


@pytest.mark.parametrize(
    ("request_part", "message"),
    [
        (
            {"metrics": ["bounce_rate"], "dimensions": ["event:name"]},
            "bounce_rate is a visit metric",
        ),
        ({"metrics": ["percentage"]}, "percentage needs at least one dimension"),
        ({"metrics": ["conversion_rate"]}, "needs an event:goal filter"),
        ({"metrics": ["time_on_page"]}, "needs an event:page filter"),
        ({"metrics": ["visitors"], "order_by": [["pageviews", "desc"]]}, "order_by[0]"),
        ({"metrics": ["visitors"], "include": {"time_labels": True}}, "needs a time dimension"),
        (
            {"metrics": ["visitors"], "filters": [["is", "event:goal", ["Nope"]]]},
            "'Nope' is not configured",
        ),
        (
            {"metrics": ["visitors"], "date_range": ["2024-03-10", "2024-03-01"]},
            "after the last day",
        ),
        ({"metrics": ["visitors"], "filters": [["matches", "event:page", ["("]]]}, "re2"),
        ({"metrics": ["visitors"], "dimensions": ["time:day", "time:hour"]}, "one time dimension"),
        ({"metrics": ["visitorz"]}, "metrics[0]"),
    ],
)
def test_semantic_errors(
    fixture_stores: Stores, request_part: dict[str, Any], message: str
) -> None:
    with pytest.raises(QueryError) as caught:
        ask(fixture_stores, **request_part)
    assert message in caught.value.message
    assert caught.value.status == 400


BOUNCES = [
    ("one pageview", [("pageview", 1)], 100),
    ("one pageview and an interactive custom event", [("pageview", 1), ("Download", 1)], 0),
    ("one pageview and a non-interactive custom event", [("pageview", 1), ("Scrolled", 0)], 100),
    ("one pageview and an engagement ping", [("pageview", 1), ("engagement", 0)], 100),
    ("two pageviews", [("pageview", 1), ("pageview", 1)], 0),
]


@pytest.mark.parametrize(
    ("site_id", "events", "bounce_rate"),
    [(100 + i, *b[1:]) for i, b in enumerate(BOUNCES)],
    ids=[b[0] for b in BOUNCES],
)
def test_bounce_definition(
    fixture_stores: Stores, site_id: int, events: list[tuple[str, int]], bounce_rate: int
) -> None:
    rows = [
        event(f"2024-05-01 10:0{i}", name=name, interactive=interactive, site_id=site_id)
        for i, (name, interactive) in enumerate(events)
    ]
    insert(fixture_stores, rows)
    site = SiteInfo(site_id, "example.com")
    body = {"site_id": "example.com", "metrics": ["bounce_rate", "pageviews", "events"],
            "date_range": ["2024-05-01", "2024-05-01"]}  # fmt: skip
    [row] = run_query(fixture_stores.events, site, body)["results"]
    pageviews = sum(1 for n, _ in events if n == "pageview")
    customs = sum(1 for n, _ in events if n not in ("pageview", "engagement"))
    assert row["metrics"] == [bounce_rate, pageviews, pageviews + customs]


def test_special_characters_reach_clickhouse_intact(fixture_stores: Stores) -> None:
    odd = "/it's\\a\tpath"
    insert(fixture_stores, visit(1, 1, [("2024-05-01 10:00", odd)], site_id=200))
    site = SiteInfo(200, "example.com")
    body = {"site_id": "example.com", "metrics": ["pageviews"], "dimensions": ["event:page"],
            "date_range": ["2024-05-01", "2024-05-01"],
            "filters": [["is", "event:page", [odd]], ["matches", "event:page", ["\\\\a\\t"]]]}  # fmt: skip
    assert table(run_query(fixture_stores.events, site, body)) == [([odd], [1])]
