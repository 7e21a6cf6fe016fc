"""The refusals the schema cannot express, on optimized queries (rules.check, no SQL)."""

from __future__ import annotations

from typing import Any

import pytest

from jetrack.stats.errors import QueryError
from jetrack.stats.rules import check, check_patterns, check_values
from tests.stats.queries import optimized, parsed

EXIT = ["is", "visit:exit_page", ["/"]]
PAGE = ["is", "event:page", ["/"]]
YEAR = ["2024-01-01", "2024-12-31"]

# (request, the start of the refusal's message; None: answered)
CASES: list[tuple[dict[str, Any], str | None]] = [
    ({"metrics": ["visitors", "bounce_rate"], "dimensions": ["visit:source"]}, None),
    # Grouped by page: of the visits that entered on it (Plausible's top pages).
    ({"metrics": ["visits", "bounce_rate", "visit_duration"], "dimensions": ["event:page"]}, None),
    ({"metrics": ["bounce_rate"], "dimensions": ["event:page", "visit:source"]}, None),
    ({"metrics": ["views_per_visit"], "dimensions": ["event:page"]},
     "metrics: views_per_visit is a visit metric and cannot be grouped by event:page"),
    ({"metrics": ["bounce_rate"], "dimensions": ["event:page", "event:name"]},
     "metrics: bounce_rate is a visit metric and cannot be grouped by event:page"),
    ({"metrics": ["visit_duration"], "dimensions": ["event:props:plan"]},
     "metrics: visit_duration is a visit metric and cannot be grouped by event:props:plan"),
    ({"metrics": ["percentage"]}, "metrics: percentage needs at least one dimension"),
    ({"metrics": ["conversion_rate"], "dimensions": ["visit:source"]},
     "metrics: conversion_rate needs an event:goal filter or dimension"),
    ({"metrics": ["conversion_rate"], "dimensions": ["event:goal"]}, None),
    ({"metrics": ["time_on_page"]}, "metrics: time_on_page needs an event:page filter"),
    ({"metrics": ["scroll_depth"], "filters": [PAGE]}, None),
    ({"metrics": ["scroll_depth"], "dimensions": ["event:page", "event:goal"]},
     "metrics: scroll_depth cannot be grouped by event:goal"),
    ({"dimensions": ["visit:exit_page", "event:page"]},
     "dimensions: visit:exit_page cannot be combined with event:page"),
    ({"order_by": [["visits", "desc"]]}, "order_by[0]: visits is not in metrics or dimensions"),
    ({"dimensions": ["time", "time:day"]}, "dimensions: at most one time dimension"),
    ({"dimensions": ["time:minute"], "date_range": ["2024-03-09", "2024-03-11"]},
     "dimensions: time:minute is for ranges of up to two days"),
    ({"dimensions": ["time:minute"], "date_range": ["2024-03-09", "2024-03-10"]}, None),
    ({"dimensions": ["time:hour"], "date_range": ["2023-01-01", "2024-12-31"]},
     "dimensions: time:hour over date_range 2023-01-01 to 2024-12-31 has more than 10,000"),
    ({"dimensions": ["time:hour"], "date_range": YEAR}, None),
    ({"dimensions": ["time:hour"], "date_range": YEAR,
      "include": {"comparisons": {"mode": "custom", "date_range": ["2022-01-01", "2023-12-31"]}}},
     "dimensions: time:hour over include.comparisons"),
    ({"include": {"time_labels": True}}, "include.time_labels: needs a time dimension"),
    ({"filters": [["matches", "event:goal", ["Sign.*"]]]},
     "filters: event:goal supports only the is and contains operators"),
    ({"filters": [["is", "event:goal", ["Purchase"]]]},
     "filters: goal 'Purchase' is not configured for this site; goals: Signup, Blog"),
    ({"filters": [["is", "event:goal", ["signup"], {"case_sensitive": False}]]}, None),
    ({"filters": [["contains", "event:goal", ["nothing like it"]]]}, None),
    # An exit page is checked on sessions rows, an event page on events rows.
    ({"filters": [["or", [EXIT, PAGE]]]}, "filters: visit:exit_page cannot share one and/or/not"),
    ({"filters": [["not", ["and", [EXIT, ["is", "event:name", ["Signup"]]]]]]},
     "filters: visit:exit_page cannot share one and/or/not"),
    ({"filters": [["and", [EXIT, PAGE]]]}, None),  # flattened into two filters
    ({"filters": [["or", [EXIT, ["is", "visit:source", ["Google"]]]]]}, None),
    # --- Plausible's query validation (its query_parser_test.exs) as the bar -------------
    # views_per_visit: refused with an event:page filter, even a negated one.
    ({"metrics": ["views_per_visit"], "filters": [PAGE]},
     "metrics: views_per_visit cannot be queried with an event:page filter"),
    ({"metrics": ["views_per_visit"], "filters": [["not", PAGE]]},
     "metrics: views_per_visit cannot be queried with an event:page filter"),
    ({"metrics": ["views_per_visit"], "filters": [["is", "event:goal", ["Signup"]]]}, None),
    ({"metrics": ["views_per_visit"], "filters": [["has_done", PAGE]]}, None),
    # scroll_depth: an event:page dimension or a top-level event:page filter.
    ({"metrics": ["scroll_depth"]}, "metrics: scroll_depth needs an event:page dimension"),
    ({"metrics": ["scroll_depth"], "filters": [["not", PAGE]]},
     "metrics: scroll_depth needs an event:page dimension or a top-level event:page filter"),
    ({"metrics": ["scroll_depth"], "filters": [["is_not", "event:page", ["/"]]]}, None),
    ({"metrics": ["scroll_depth"], "dimensions": ["event:page"]}, None),
    ({"metrics": ["time_on_page"], "filters": [["not", PAGE]]}, None),
    # group_conversion_rate: like conversion_rate, a goal filter or dimension.
    ({"metrics": ["group_conversion_rate"]},
     "metrics: group_conversion_rate needs an event:goal filter or dimension"),
    ({"metrics": ["group_conversion_rate"], "dimensions": ["event:goal"]}, None),
    ({"metrics": ["conversion_rate", "group_conversion_rate"], "dimensions": ["event:goal"],
      "filters": [["is", "event:props:plan", ["pro"]]]}, None),
    ({"metrics": ["conversion_rate", "group_conversion_rate"], "dimensions": ["event:goal"],
      "filters": [["not", ["is", "event:props:plan", ["pro"]]]]},
     "filters: with conversion_rate, custom property filters (event:props:plan) can only"),
    # exit_rate: by exit page only, and no event filter.
    ({"metrics": ["exit_rate"]}, 'metrics: exit_rate needs the dimension "visit:exit_page"'),
    ({"metrics": ["exit_rate"], "dimensions": ["visit:exit_page", "visit:source"]},
     'metrics: exit_rate needs the dimension "visit:exit_page" and no other'),
    ({"metrics": ["exit_rate"], "dimensions": ["visit:exit_page"], "filters": [PAGE]},
     "metrics: exit_rate cannot be queried with a filter on event:page"),
    ({"metrics": ["exit_rate"], "dimensions": ["visit:exit_page"], "filters": [EXIT]}, None),
    ({"metrics": ["exit_rate"], "dimensions": ["visit:exit_page"],
      "filters": [["is", "visit:country", ["EE"]], ["is", "visit:entry_page", ["/"]]]}, None),
    # Behavioural filters: event dimensions only, not nested; goals checked inside too.
    ({"filters": [["has_done", ["is", "event:name", ["Signup"]]],
                  ["has_not_done", ["or", [["is", "event:goal", ["Signup"]], PAGE]]]]}, None),
    ({"filters": [["has_done", ["is", "visit:browser", ["Chrome"]]]]},
     "filters: has_done/has_not_done take event dimensions only"),
    ({"filters": [["has_done", ["has_not_done", PAGE]]]},
     "filters: has_done and has_not_done cannot be nested"),
    ({"filters": [["has_done", ["is", "event:goal", ["Unknown"]]]]},
     "filters: goal 'Unknown' is not configured for this site"),
    # event:goal and event:hostname at the top level only (an `and` there is top level).
    ({"filters": [["or", [["is", "event:goal", ["Signup"]], ["is", "event:name", ["x"]]]]]},
     "filters: event:goal can only be filtered at the top level"),
    ({"filters": [["not", ["is", "event:hostname", ["a.example"]]]]},
     "filters: event:hostname can only be filtered at the top level"),
    ({"filters": [["and", [["is", "event:goal", ["Signup"]], PAGE]]]}, None),
    ({"filters": [["has_done", ["or", [["is", "event:goal", ["Signup"]], PAGE]]]]}, None),
    # Session metrics by event dimensions: event:page, with event:hostname beside it.
    ({"metrics": ["bounce_rate"], "dimensions": ["event:page", "event:hostname"]}, None),
    ({"metrics": ["bounce_rate"], "dimensions": ["event:hostname"]},
     "metrics: bounce_rate is a visit metric and cannot be grouped by event:hostname"),
    # Entry and exit hostnames: sessions-only, like the exit page.
    ({"dimensions": ["visit:entry_page_hostname", "event:name"]},
     "dimensions: visit:entry_page_hostname cannot be combined with event:name"),
    ({"filters": [["or", [["is", "visit:exit_page_hostname", ["a"]], PAGE]]]},
     "filters: visit:exit_page_hostname cannot share one and/or/not filter"),
    ({"metrics": ["scroll_depth"], "dimensions": ["event:page", "visit:exit_page_hostname"]},
     "metrics: scroll_depth cannot be grouped by visit:exit_page_hostname"),
    # Revenue: any query is answered (null with a warning when no revenue goal matches).
    ({"metrics": ["total_revenue", "average_revenue"]}, None),
    # Revenue by the visits' exit page: Plausible joins sessions for it, so does Jetrack.
    ({"metrics": ["total_revenue"], "dimensions": ["visit:exit_page"]}, None),
]  # fmt: skip


@pytest.mark.parametrize(("request_body", "refusal"), CASES)
def test_rules(request_body: dict[str, Any], refusal: str | None) -> None:
    query = optimized(**request_body)
    if refusal is None:
        check(query)
        return
    with pytest.raises(QueryError) as raised:
        check(query)
    assert raised.value.message.startswith(refusal), raised.value.message
    assert raised.value.status == 400


@pytest.mark.parametrize(
    ("condition", "refused"),
    [
        (["matches", "visit:country_name", ["(Ger"]], True),
        (["matches_not", "visit:region_name", ["Berlin", "[a-"]], True),
        (["matches", "visit:country_name", ["^Ger"]], False),
        (["matches", "visit:country", ["(DE"]], True),  # every pattern, before ClickHouse
        (["matches", "event:page", ["^/(x|y)$"]], False),
        (["is", "visit:country_name", ["(Ger"]], False),
    ],
)
def test_patterns_are_checked_before_the_optimizer_or_the_engine_runs_them(
    condition: list[Any], refused: bool
) -> None:
    query = parsed(filters=[["not", condition]])
    if not refused:
        check_patterns(query)
        return
    with pytest.raises(QueryError, match=f"filters: {condition[1]}: .* is not a valid regular"):
        check_patterns(query)


# Filter values the dimension cannot hold: a 400 naming the filter (Plausible's:
# integers only for visit:city's GeoName ids, two-letter country codes).
VALUES: list[tuple[list[Any], str | None]] = [
    (["is", "visit:os_version", [123]],
     'filters: ["is", "visit:os_version", [123]]: visit:os_version holds text, not numbers'),
    (["is", "event:page", ["/a", 1]], 'filters: ["is", "event:page", ["/a", "1"]]: clauses mix'),
    (["is", "visit:country", ["USA"]],
     'filters: ["is", "visit:country", ["USA"]]: visit:country takes ISO 3166-1 alpha-2 codes'),
    (["is_not", "visit:country", ["DE", "U1"]], "filters: [\"is_not\", \"visit:country\""),
    (["contains", "visit:country", ["U"]], None),  # part of a code: fine
    (["is", "visit:country", ["de"]], None),
    # visit:city is GeoNames ids (numbers, or their digits as text); names are city_name.
    (["is", "visit:city", [2950159]], None),
    (["is_not", "visit:city", ["2950159"]], None),
    (["is", "visit:city", ["Berlin"]],
     'filters: ["is", "visit:city", ["Berlin"]]: visit:city takes GeoNames city ids'),
    (["is", "visit:city_name", ["Berlin"]], None),
    (["is", "visit:city_name", [2950159]], 'filters: ["is", "visit:city_name", [2950159]]: visit:'),
    (["has_done", ["is", "event:props:n", [1]]], "filters: [\"is\", \"event:props:n\", [1]]"),
]  # fmt: skip


@pytest.mark.parametrize(("condition", "refusal"), VALUES)
def test_filter_values_fit_the_dimension(condition: list[Any], refusal: str | None) -> None:
    query = parsed(filters=[condition])
    if refusal is None:
        check_values(query)
        return
    with pytest.raises(QueryError) as raised:
        check_values(query)
    assert raised.value.message.startswith(refusal), raised.value.message
