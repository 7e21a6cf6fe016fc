"""What Plausible's Stats API v2 answers and Jetrack did not: group_conversion_rate,
exit_rate, has_done/has_not_done and the top pages' visit metrics, computed by hand from
conftest.py:fixture_rows (UTC day D: S1-S6), read with and without rollups (the entry and
exit page hostnames: test_hostnames.py)."""

from __future__ import annotations

from typing import Any

import pytest

from jetrack.stats.engine import run_query
from jetrack.stats.query import SiteInfo
from jetrack.store.stores import Stores
from tests.stats.conftest import UTC_SITE
from tests.stats.helpers import at

NOW = at("2024-03-20 12:00")
DAY_D = ["2024-03-10", "2024-03-10"]
SIGNUP = ["is", "event:goal", ["Signup"]]


def ask(stores: Stores, site: SiteInfo = UTC_SITE, **request: Any) -> list[Any]:
    body = {"site_id": site.domain, "date_range": DAY_D, **request}
    answer = run_query(stores.events, site, body, now=NOW)
    return [(r["dimensions"], r["metrics"]) for r in answer["results"]]


# UTC day D: visitors v101 (S1, S4), v102 (S2), v103 (S3), v104 (S5), v105 (S6) = 5.
# Signup: v101 in S1. "Visit /blog/*": v103 (S3) and v101 (S4).


def test_group_conversion_rate_divides_by_the_visitors_of_the_same_group(
    fixture_stores: Stores,
) -> None:
    # Google's one visitor converted: 100% of Google, 20% of all five visitors.
    assert ask(
        fixture_stores,
        metrics=["visitors", "conversion_rate", "group_conversion_rate"],
        dimensions=["visit:source"],
        filters=[SIGNUP],
    ) == [(["Google"], [1, 20.0, 100.0])]


def test_group_conversion_rate_by_goal_and_country(fixture_stores: Stores) -> None:
    # Per country, a goal's converters over that country's visitors: DE has v101 only,
    # US v102 and v103 (v103 read the blog).
    assert ask(
        fixture_stores,
        metrics=["visitors", "group_conversion_rate"],
        dimensions=["event:goal", "visit:country"],
        order_by=[["event:goal", "asc"], ["visit:country", "asc"]],
    ) == [
        (["Signup", "DE"], [1, 100.0]),
        (["Visit /blog/*", "DE"], [1, 100.0]),
        (["Visit /blog/*", "US"], [1, 50.0]),
    ]


def test_group_conversion_rate_by_goal_alone_is_the_conversion_rate(
    fixture_stores: Stores,
) -> None:
    assert ask(
        fixture_stores,
        metrics=["visitors", "conversion_rate", "group_conversion_rate"],
        dimensions=["event:goal"],
    ) == [(["Visit /blog/*"], [2, 40.0, 40.0]), (["Signup"], [1, 20.0, 20.0])]


def test_group_conversion_rate_leaves_custom_property_filters_out_of_the_divisor(
    fixture_stores: Stores,
) -> None:
    # Desktop visitors: v101 and v104. Reading the blog with plan=free: v101 (S4's
    # /blog/b). Divided by all Desktop visitors (not only those with plan=free): 50%.
    assert ask(
        fixture_stores,
        metrics=["visitors", "group_conversion_rate"],
        dimensions=["visit:device"],
        filters=[["is", "event:goal", ["Visit /blog/*"]], ["is", "event:props:plan", ["free"]]],
    ) == [(["Desktop"], [1, 50.0])]


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        # Signup (with plan=pro) by v101 alone, of all five visitors: the property filter
        # leaves the divisor as the goal filter does (Plausible's special_metrics.ex).
        ([SIGNUP, ["is", "event:props:plan", ["pro"]]], [1, 20.0]),
        # A property that no Signup carries: no conversion, still over five.
        ([SIGNUP, ["is", "event:props:plan", ["free"]]], [0, 0.0]),
        # has_done is no top-level goal condition: it stays in the divisor (v101's visit
        # S1 is the only one with a Signup), as Plausible keeps it.
        ([SIGNUP, ["has_done", SIGNUP]], [1, 100.0]),
    ],
)
def test_conversion_rate_divides_by_the_visitors_without_goal_and_property_filters(
    fixture_stores: Stores, filters: list[Any], expected: list[Any]
) -> None:
    answer = ask(fixture_stores, metrics=["visitors", "conversion_rate"], filters=filters)
    assert answer == [([], expected)]


def test_conversion_rates_by_source_with_a_property_filter(fixture_stores: Stores) -> None:
    # Google's one visitor (v101) converted with plan=pro: 100% of Google, 20% of all.
    assert ask(
        fixture_stores,
        metrics=["visitors", "conversion_rate", "group_conversion_rate"],
        dimensions=["visit:source"],
        filters=[SIGNUP, ["is", "event:props:plan", ["pro"]]],
    ) == [(["Google"], [1, 20.0, 100.0])]


# Exits by page (UTC day D): S1 and S5 left on /pricing, S2 and S6 on /, S3 on /blog/a, S4
# on /blog/b. Pageviews: / 4 (S1, S2, S5, S6), /pricing 2, /blog/a 2, /blog/b 1.


def test_exit_rate_is_exits_over_the_pages_pageviews(fixture_stores: Stores) -> None:
    assert ask(fixture_stores, metrics=["exit_rate", "visits"], dimensions=["visit:exit_page"]) == [
        (["/blog/b"], [100.0, 1]),
        (["/pricing"], [100.0, 2]),
        (["/"], [50.0, 2]),
        (["/blog/a"], [50.0, 1]),
    ]


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        # Other visits' pageviews of a page count too: an exit-page filter keeps the exits
        # of /pricing and its two pageviews.
        ([["is", "visit:exit_page", ["/pricing"]]], [(["/pricing"], [100.0])]),
        # Google: S1 (/, /pricing) and S4 (/blog/a, /blog/b).
        ([["is", "visit:source", ["Google"]]], [(["/blog/b"], [100.0]), (["/pricing"], [100.0])]),
        # Entered on /: S1, S2, S5, S6 and their pageviews.
        ([["is", "visit:entry_page", ["/"]]], [(["/pricing"], [100.0]), (["/"], [50.0])]),
    ],
)
def test_exit_rate_with_visit_filters(
    fixture_stores: Stores, filters: list[Any], expected: list[Any]
) -> None:
    assert (
        ask(fixture_stores, metrics=["exit_rate"], dimensions=["visit:exit_page"], filters=filters)
        == expected
    )


def test_has_done_keeps_the_visits_with_such_an_event(fixture_stores: Stores) -> None:
    has_signed_up = ["has_done", SIGNUP]
    assert ask(fixture_stores, metrics=["visitors", "visits"], filters=[has_signed_up]) == [
        ([], [1, 1])
    ]
    # Plausible's example: Signup conversions of visits that saw /pricing (S1's).
    assert ask(
        fixture_stores,
        metrics=["visitors", "events"],
        filters=[SIGNUP, ["has_done", ["is", "event:page", ["/pricing"]]]],
    ) == [([], [1, 1])]
    # Pages of the visits that read /blog/b: S4's.
    assert ask(
        fixture_stores,
        metrics=["pageviews"],
        dimensions=["event:page"],
        filters=[["has_done", ["is", "event:page", ["/blog/b"]]]],
    ) == [(["/blog/a"], [1]), (["/blog/b"], [1])]


def test_has_not_done_keeps_the_visits_without(fixture_stores: Stores) -> None:
    # Without /pricing: S2 (bounce), S3 (bounce), S4, S6 (bounce).
    no_pricing = ["has_not_done", ["is", "event:page", ["/pricing"]]]
    assert ask(
        fixture_stores, metrics=["visitors", "visits", "bounce_rate"], filters=[no_pricing]
    ) == [([], [4, 4, 75])]
    assert ask(
        fixture_stores, metrics=["visits"], dimensions=["visit:source"], filters=[no_pricing]
    ) == [
        (["Bing"], [1]),
        (["Direct / None"], [1]),
        (["Google"], [1]),
        (["Twitter"], [1]),
    ]


def test_top_pages_visit_metrics_are_those_of_the_visits_entering_there(
    fixture_stores: Stores,
) -> None:
    # Plausible's top pages: visits that viewed the page (events), bounce rate and
    # duration of the visits that entered on it. Entered on /: S1 180 s, S2, S5 1200 s, S6
    # (bounces: S2, S6); on /blog/a: S3 60 s (bounce), S4 600 s.
    assert ask(
        fixture_stores,
        metrics=["visits", "bounce_rate", "visit_duration"],
        dimensions=["event:page"],
        order_by=[["event:page", "asc"]],
    ) == [
        (["/"], [4, 50, 345]),
        (["/blog/a"], [2, 50, 330]),
        (["/blog/b"], [1, 0, 0]),
        (["/pricing"], [2, 0, 0]),
    ]
    # A page filter applies to the entry page on the visits' side, as in Plausible: the
    # visits that entered on a blog page.
    assert ask(
        fixture_stores,
        metrics=["visits", "bounce_rate"],
        dimensions=["event:page"],
        filters=[["contains", "event:page", ["/blog"]]],
        order_by=[["event:page", "asc"]],
    ) == [(["/blog/a"], [2, 50]), (["/blog/b"], [1, 0])]
