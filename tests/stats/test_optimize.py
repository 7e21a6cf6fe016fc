"""The optimizer's steps, each a pure Query -> Query function, on parsed queries."""

from __future__ import annotations

from typing import Any

import pytest

from jetrack.stats.optimize import (
    STEPS,
    default_order,
    extend_hostname_filters_to_visit,
    flatten_filters,
    optimize,
    resolve_location_names,
    resolve_time_bucket,
)
from jetrack.stats.query import Condition, Connective, Negation
from tests.stats.queries import parsed

DE = ["is", "visit:country", ["DE"]]
PAGE = ["is", "event:page", ["/"]]
SOURCE = ["is", "visit:source", ["Google"]]


@pytest.mark.parametrize(
    ("date_range", "bucket"),
    [
        (["2024-03-09", "2024-03-09"], "time:hour"),
        (["2024-03-09", "2024-03-11"], "time:day"),
        (["2024-01-01", "2024-02-09"], "time:day"),  # 40 days
        (["2024-01-01", "2024-02-10"], "time:week"),  # 41 days
        (["2024-01-01", "2024-04-09"], "time:week"),  # 100 days
        (["2024-01-01", "2024-12-31"], "time:month"),
    ],
)
def test_time_becomes_a_bucket_by_the_length_of_the_range(
    date_range: list[str], bucket: str
) -> None:
    query = resolve_time_bucket(
        parsed(
            date_range=date_range, dimensions=["visit:source", "time"], order_by=[["time", "desc"]]
        )
    )
    assert query.dimensions == ("visit:source", bucket)
    assert query.order_by == ((bucket, "desc"),)


def test_an_explicit_bucket_is_left_alone() -> None:
    query = parsed(dimensions=["time:week"])
    assert resolve_time_bucket(query) is query


# (filters as sent, filters after flattening)
FLATTENED: list[tuple[list[Any], tuple[Any, ...]]] = [
    ([["and", [DE, PAGE]]], (Condition("is", "visit:country", ("DE",)),
                              Condition("is", "event:page", ("/",)))),
    ([["or", [["or", [DE, PAGE]], SOURCE]]], (Connective("or", (
        Condition("is", "visit:country", ("DE",)), Condition("is", "event:page", ("/",)),
        Condition("is", "visit:source", ("Google",)))),)),
    ([["not", ["not", DE]]], (Condition("is", "visit:country", ("DE",)),)),
    ([["or", [DE]]], (Condition("is", "visit:country", ("DE",)),)),
    ([["not", ["and", [DE, PAGE]]]], (Negation(Connective("and", (
        Condition("is", "visit:country", ("DE",)), Condition("is", "event:page", ("/",))))),)),
    ([["and", [DE, ["and", [PAGE, SOURCE]]]]], (Condition("is", "visit:country", ("DE",)),
        Condition("is", "event:page", ("/",)), Condition("is", "visit:source", ("Google",)))),
]  # fmt: skip


@pytest.mark.parametrize(("filters", "flat"), FLATTENED)
def test_filters_are_flattened(filters: list[Any], flat: tuple[Any, ...]) -> None:
    assert flatten_filters(parsed(filters=filters)).filters == flat


# (a filter on a place name, the filter on stored codes it becomes)
LOCATIONS = [
    (["is", "visit:country_name", ["Germany"]], Condition("is", "visit:country", ("DE",))),
    (["is", "visit:country_name", ["germany"], {"case_sensitive": False}],
     Condition("is", "visit:country", ("DE",))),
    (["is_not", "visit:country_name", ["Germany", "France"]],
     Condition("is_not", "visit:country", ("DE", "FR"))),
    (["contains_not", "visit:country_name", ["Germany"]],
     Condition("is_not", "visit:country", ("DE",))),
    (["is", "visit:country_name", ["Atlantis"]],
     Condition("is", "visit:country", ("(no such code)",))),
    (["is", "visit:region_name", ["Berlin"]], Condition("is", "visit:region", ("DE-BE",))),
    (["is", "visit:country", ["DE"]], Condition("is", "visit:country", ("DE",))),
]  # fmt: skip


@pytest.mark.parametrize(("raw", "resolved"), LOCATIONS)
def test_place_names_become_codes(raw: list[Any], resolved: Condition) -> None:
    assert resolve_location_names(parsed(filters=[raw])).filters == (resolved,)


def test_names_inside_trees_are_resolved_too() -> None:
    query = parsed(filters=[["not", ["is", "visit:country_name", ["Germany"]]]])
    assert resolve_location_names(query).filters == (
        Negation(Condition("is", "visit:country", ("DE",))),
    )


@pytest.mark.parametrize(
    ("request_body", "order"),
    [
        ({"metrics": ["visits", "visitors"]}, (("visits", "desc"),)),
        ({"dimensions": ["visit:source", "time:day"]}, (("time:day", "asc"),)),
        ({"order_by": [["visitors", "asc"]]}, (("visitors", "asc"),)),
    ],
)
def test_default_order(request_body: dict[str, Any], order: tuple[Any, ...]) -> None:
    assert default_order(parsed(**request_body)).order_by == order


def test_optimize_runs_every_step_in_order() -> None:
    assert [
        resolve_time_bucket,
        flatten_filters,
        resolve_location_names,
        extend_hostname_filters_to_visit,
        default_order,
    ] == STEPS
    query = optimize(
        parsed(dimensions=["time"], filters=[["and", [["is", "visit:country_name", ["France"]]]]])
    )
    assert query.dimensions == ("time:day",)
    assert query.order_by == (("time:day", "asc"),)
    assert query.filters == (Condition("is", "visit:country", ("FR",)),)


HOST = ["is", "event:hostname", ["shop.example"]]


@pytest.mark.parametrize(
    ("dimensions", "added"),
    [
        (["visit:source"], [Condition("is", "visit:entry_page_hostname", ("shop.example",))]),
        (["visit:utm_campaign", "visit:entry_page"],
         [Condition("is", "visit:entry_page_hostname", ("shop.example",))]),
        (["visit:exit_page"], [Condition("is", "visit:exit_page_hostname", ("shop.example",))]),
        (["visit:country"], []),
        ([], []),
    ],
)  # fmt: skip
def test_a_hostname_filter_reaches_the_visits_entry_or_exit_host(
    dimensions: list[str], added: list[Condition]
) -> None:
    query = extend_hostname_filters_to_visit(parsed(dimensions=dimensions, filters=[HOST]))
    assert list(query.filters) == [Condition("is", "event:hostname", ("shop.example",)), *added]
    # Only a top-level hostname filter (Plausible's rule keeps it there).
    nested = parsed(dimensions=dimensions, filters=[["not", HOST]])
    assert extend_hostname_filters_to_visit(nested) == nested
