"""Every metric against every dimension family, numbers computed by hand from
tests/stats/conftest.py:fixture_rows (read its docstring first)."""

from __future__ import annotations

from typing import Any

import pytest

from jetrack.stats.engine import run_query
from jetrack.stats.query import SiteInfo
from jetrack.store.stores import Stores
from tests.stats.conftest import BERLIN, UTC_SITE
from tests.stats.helpers import at

NOW = at("2024-03-20 12:00")
DAY_D = ["2024-03-10", "2024-03-10"]
VISIT_METRICS = ["visitors", "visits", "pageviews", "bounce_rate", "visit_duration"]


def ask(stores: Stores, site: SiteInfo = BERLIN, **request: Any) -> dict[str, Any]:
    body = {"site_id": site.domain, "date_range": DAY_D, **request}
    return run_query(stores.events, site, body, now=NOW)


def table(answer: dict[str, Any]) -> list[tuple[list[Any], list[Any]]]:
    return [(r["dimensions"], r["metrics"]) for r in answer["results"]]


AGGREGATE_METRICS = [
    "visitors", "visits", "pageviews", "events", "bounce_rate", "visit_duration",
    "views_per_visit",
]  # fmt: skip


@pytest.mark.parametrize(
    ("site", "expected"),
    [
        # Berlin day D: S1-S5 (S5 by its 23:50 pageview; S6 is D+1 locally).
        # durations 180, 0, 60, 600, 1200 -> 408; pageviews per visit 2,1,1,2,2 -> 1.6
        (BERLIN, [4, 5, 7, 9, 40, 408, 1.6]),
        # UTC day D: also S5's second pageview and S6; bounces S2, S3, S6 of 6
        (UTC_SITE, [5, 6, 9, 11, 50, 340, 1.5]),
    ],
    ids=["berlin", "utc"],
)
def test_aggregate_in_the_site_time_zone(
    fixture_stores: Stores, site: SiteInfo, expected: list[Any]
) -> None:
    answer = ask(fixture_stores, site, metrics=AGGREGATE_METRICS)
    assert table(answer) == [([], expected)]


BREAKDOWNS = [
    (
        "visit:source",
        [
            (["Direct / None"], [1, 1, 1, 100, 0]),
            (["Google"], [1, 2, 4, 0, 390]),
            (["Newsletter"], [1, 1, 1, 0, 1200]),
            (["Twitter"], [1, 1, 1, 100, 60]),
        ],
    ),
    (
        "visit:country",
        [(["US"], [2, 2, 2, 100, 30]), (["DE"], [1, 2, 4, 0, 390]), (["FR"], [1, 1, 1, 0, 1200])],
    ),
    (
        "visit:country_name",
        [
            (["United States"], [2, 2, 2, 100, 30]),
            (["Germany"], [1, 2, 4, 0, 390]),
            (["France"], [1, 1, 1, 0, 1200]),
        ],
    ),
    (
        "visit:region_name",
        [
            (["California"], [2, 2, 2, 100, 30]),
            ([""], [1, 1, 1, 0, 1200]),
            (["Berlin"], [1, 2, 4, 0, 390]),
        ],
    ),
    (
        "visit:device",
        [(["Desktop"], [2, 3, 5, 0, 660]), (["Mobile"], [2, 2, 2, 100, 30])],
    ),
    (
        "visit:browser",
        [
            (["Firefox"], [2, 2, 2, 50, 600]),
            (["Chrome"], [1, 2, 4, 0, 390]),
            (["Safari"], [1, 1, 1, 100, 60]),
        ],
    ),
    ("visit:utm_campaign", [([""], [3, 4, 6, 50, 210]), (["spring"], [1, 1, 1, 0, 1200])]),
    (
        "visit:entry_page",
        [(["/"], [3, 3, 4, 33, 460]), (["/blog/a"], [2, 2, 3, 50, 330])],
    ),
    (
        "visit:exit_page",
        [
            (["/pricing"], [2, 2, 3, 0, 690]),
            (["/"], [1, 1, 1, 100, 0]),
            (["/blog/a"], [1, 1, 1, 100, 60]),
            (["/blog/b"], [1, 1, 2, 0, 600]),
        ],
    ),
]


@pytest.mark.parametrize(("dimension", "expected"), BREAKDOWNS, ids=[b[0] for b in BREAKDOWNS])
def test_visit_dimensions(
    fixture_stores: Stores, dimension: str, expected: list[tuple[list[Any], list[Any]]]
) -> None:
    answer = ask(fixture_stores, metrics=VISIT_METRICS, dimensions=[dimension])
    assert table(answer) == expected


EVENT_BREAKDOWNS = [
    (
        "event:page",
        ["visitors", "visits", "pageviews", "events", "percentage"],
        [
            (["/"], [3, 3, 3, 3, 75.0]),
            (["/blog/a"], [2, 2, 2, 3, 50.0]),
            (["/blog/b"], [1, 1, 1, 1, 25.0]),
            (["/pricing"], [1, 1, 1, 2, 25.0]),
        ],
    ),
    (
        "event:goal",
        ["visitors", "events", "conversion_rate"],
        [(["Visit /blog/*"], [2, 3, 50.0]), (["Signup"], [1, 1, 25.0])],
    ),
    (
        "event:props:plan",
        ["visitors", "events"],
        [(["(none)"], [4, 7]), (["free"], [1, 1]), (["pro"], [1, 1])],
    ),
    ("event:hostname", ["visitors", "pageviews"], [(["example.com"], [4, 7])]),
    (
        "event:name",
        ["visitors", "events"],
        [(["pageview"], [4, 7]), (["Outbound"], [1, 1]), (["Signup"], [1, 1])],
    ),
]


@pytest.mark.parametrize(
    ("dimension", "metrics", "expected"), EVENT_BREAKDOWNS, ids=[b[0] for b in EVENT_BREAKDOWNS]
)
def test_event_dimensions(
    fixture_stores: Stores,
    dimension: str,
    metrics: list[str],
    expected: list[tuple[list[Any], list[Any]]],
) -> None:
    answer = ask(fixture_stores, metrics=metrics, dimensions=[dimension])
    assert table(answer) == expected


def test_time_on_page_and_scroll_depth_per_page(fixture_stores: Stores) -> None:
    # "/": S1 20 s scroll 100, S2 10 s scroll 30; "/pricing": S1 40+5 s, deepest 80.
    answer = ask(
        fixture_stores,
        metrics=["visitors", "time_on_page", "scroll_depth"],
        dimensions=["event:page"],
    )
    assert table(answer) == [
        (["/"], [3, 15, 65]),
        (["/blog/a"], [2, 0, 0]),
        (["/blog/b"], [1, 0, 0]),
        (["/pricing"], [1, 45, 80]),
    ]
    filtered = ask(
        fixture_stores,
        metrics=["time_on_page", "scroll_depth"],
        filters=[["is", "event:page", ["/pricing"]]],
    )
    assert table(filtered) == [([], [45, 80])]


TOP_PAGES = ["visitors", "visits", "bounce_rate", "visit_duration"]


@pytest.mark.parametrize(
    ("site", "expected"),
    [
        # Visits with a pageview of the page; bounce rate and duration of the visits that
        # entered on it (Plausible's top pages). Berlin day D: "/" is in S1, S2, S5 and
        # entered by them: bounce S2 of 3, (180 + 0 + 1200) / 3; "/blog/a" entered by S3
        # (bounce, 60 s) and S4 (600 s); "/pricing" (S1; S5's is D+1) and "/blog/b" are
        # entered by none.
        (
            BERLIN,
            [
                (["/"], [3, 3, 33, 460]),
                (["/blog/a"], [2, 2, 50, 330]),
                (["/blog/b"], [1, 1, 0, 0]),
                (["/pricing"], [1, 1, 0, 0]),
            ],
        ),
        # UTC day D (a whole rolled-up day): also S5's /pricing and S6, a bounce on "/":
        # "/" bounces S2, S6 of S1, S2, S5, S6, (180 + 0 + 1200 + 0) / 4.
        (
            UTC_SITE,
            [
                (["/"], [4, 4, 50, 345]),
                (["/blog/a"], [2, 2, 50, 330]),
                (["/pricing"], [2, 2, 0, 0]),
                (["/blog/b"], [1, 1, 0, 0]),
            ],
        ),
    ],
    ids=["berlin", "utc"],
)
def test_top_pages_bounce_rate_and_duration_of_their_entries(
    fixture_stores: Stores, site: SiteInfo, expected: list[tuple[list[Any], list[Any]]]
) -> None:
    answer = ask(fixture_stores, site, metrics=TOP_PAGES, dimensions=["event:page"])
    assert table(answer) == expected


def test_top_pages_with_a_page_filter_keep_the_visits_that_viewed_it(
    fixture_stores: Stores,
) -> None:
    # Visits that viewed /blog/b: S4 only, which entered on /blog/a; /blog/b's own row
    # has its visit but no entry, and /blog/a no pageview that passes the filter.
    answer = ask(
        fixture_stores,
        metrics=TOP_PAGES,
        dimensions=["event:page"],
        filters=[["is", "event:page", ["/blog/b"]]],
    )
    assert table(answer) == [(["/blog/b"], [1, 1, 0, 0])]
    # Alone, bounce rate still lists the pages with events, not only the entry pages.
    alone = ask(fixture_stores, metrics=["bounce_rate"], dimensions=["event:page"])
    assert table(alone) == [
        (["/blog/a"], [50]),
        (["/"], [33]),
        (["/blog/b"], [0]),
        (["/pricing"], [0]),
    ]


TIME_SERIES = [
    # Berlin local hours of day D; visits bucketed where they started.
    (
        "time:hour",
        DAY_D,
        [
            (["2024-03-10 09:00:00"], [1, 1, 2]),
            (["2024-03-10 10:00:00"], [1, 1, 1]),
            (["2024-03-10 12:00:00"], [1, 1, 1]),
            (["2024-03-10 20:00:00"], [1, 1, 2]),
            (["2024-03-10 23:00:00"], [1, 1, 1]),
        ],
    ),
    # D and D+1: S5 is active on both days but its visit started on D.
    (
        "time:day",
        ["2024-03-10", "2024-03-11"],
        [(["2024-03-10"], [4, 5, 7]), (["2024-03-11"], [2, 1, 2])],
    ),
    # Week of Monday 2024-03-04 clipped to the range start 2024-03-09, then 2024-03-11.
    (
        "time:week",
        ["2024-03-09", "2024-03-17"],
        [(["2024-03-09"], [5, 6, 8]), (["2024-03-11"], [2, 1, 2])],
    ),
    ("time:month", ["2024-03-01", "2024-04-30"], [(["2024-03-01"], [6, 7, 10])]),
]


@pytest.mark.parametrize(
    ("dimension", "date_range", "expected"), TIME_SERIES, ids=[t[0] for t in TIME_SERIES]
)
def test_time_dimensions(
    fixture_stores: Stores,
    dimension: str,
    date_range: list[str],
    expected: list[tuple[list[Any], list[Any]]],
) -> None:
    answer = ask(
        fixture_stores,
        metrics=["visitors", "visits", "pageviews"],
        dimensions=[dimension],
        date_range=date_range,
    )
    assert table(answer) == expected


def test_visitors_are_unique_over_the_range_not_summed_per_day(fixture_stores: Stores) -> None:
    days = ask(fixture_stores, metrics=["visitors"], dimensions=["time:day"],
               date_range=["2024-03-09", "2024-03-11"])  # fmt: skip
    whole = ask(fixture_stores, metrics=["visitors"], date_range=["2024-03-09", "2024-03-11"])
    assert [r[1][0] for r in table(days)] == [1, 4, 2]
    assert table(whole) == [([], [6])]  # 200, 101, 102, 103, 104, 105


def test_plain_time_dimension_picks_the_bucket_from_the_range(fixture_stores: Stores) -> None:
    answer = ask(fixture_stores, metrics=["visitors"], dimensions=["time"],
                 include={"time_labels": True})  # fmt: skip
    assert answer["query"]["dimensions"] == ["time:hour"]
    assert len(answer["meta"]["time_labels"]) == 24
    assert answer["meta"]["time_labels"][0] == "2024-03-10 00:00:00"
