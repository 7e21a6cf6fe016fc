"""The refusals the schema cannot express, on optimized queries (rules.check, no SQL)."""

from __future__ import annotations

from typing import Any

import pytest

from jetrack.stats.errors import QueryError
from jetrack.stats.rules import check, check_patterns
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
