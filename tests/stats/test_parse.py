"""Parsing: a schema-valid request becomes a Query, with no I/O (every input a value)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest

from jetrack.stats.errors import QueryError
from jetrack.stats.parse import needs_first_data_day
from jetrack.stats.query import Behaviour, Condition, Connective, Negation
from tests.stats.queries import BERLIN, GOALS, UTC_SITE, parsed


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


# (site, date_range, first data day, start, end, first local day, last local day); NOW is
# 2024-03-20 12:00 UTC.
RANGES = [
    (UTC_SITE, "day", None, "2024-03-20 00:00", "2024-03-21 00:00", "2024-03-20", "2024-03-20"),
    # Nd and Nmo are Plausible's: the N whole days (months) before today (this month).
    (UTC_SITE, "7d", None, "2024-03-13 00:00", "2024-03-20 00:00", "2024-03-13", "2024-03-19"),
    (UTC_SITE, "1d", None, "2024-03-19 00:00", "2024-03-20 00:00", "2024-03-19", "2024-03-19"),
    (UTC_SITE, "10d", None, "2024-03-10 00:00", "2024-03-20 00:00", "2024-03-10", "2024-03-19"),
    (UTC_SITE, "30d", None, "2024-02-19 00:00", "2024-03-20 00:00", "2024-02-19", "2024-03-19"),
    (UTC_SITE, "5000d", None, "2010-07-12 00:00", "2024-03-20 00:00", "2010-07-12",
     "2024-03-19"),
    (UTC_SITE, "month", None, "2024-03-01 00:00", "2024-04-01 00:00", "2024-03-01", "2024-03-31"),
    (UTC_SITE, "1mo", None, "2024-02-01 00:00", "2024-03-01 00:00", "2024-02-01", "2024-02-29"),
    (UTC_SITE, "3mo", None, "2023-12-01 00:00", "2024-03-01 00:00", "2023-12-01", "2024-02-29"),
    (UTC_SITE, "6mo", None, "2023-09-01 00:00", "2024-03-01 00:00", "2023-09-01", "2024-02-29"),
    (UTC_SITE, "12mo", None, "2023-03-01 00:00", "2024-03-01 00:00", "2023-03-01", "2024-02-29"),
    (UTC_SITE, "100mo", None, "2015-11-01 00:00", "2024-03-01 00:00", "2015-11-01",
     "2024-02-29"),
    # Berlin's 7d: its days begin at 23:00 UTC.
    (BERLIN, "7d", None, "2024-03-12 23:00", "2024-03-19 23:00", "2024-03-13", "2024-03-19"),
    (UTC_SITE, "year", None, "2024-01-01 00:00", "2025-01-01 00:00", "2024-01-01", "2024-12-31"),
    (UTC_SITE, "all", date(2024, 2, 1), "2024-02-01 00:00", "2024-03-21 00:00", "2024-02-01",
     "2024-03-20"),
    (UTC_SITE, "all", None, "2024-03-20 00:00", "2024-03-21 00:00", "2024-03-20", "2024-03-20"),
    (UTC_SITE, "all", date(2030, 1, 1), "2024-03-20 00:00", "2024-03-21 00:00", "2024-03-20",
     "2024-03-20"),
    # Berlin is UTC+1 in March (until the 31st): its days start at 23:00 UTC.
    (BERLIN, "day", None, "2024-03-19 23:00", "2024-03-20 23:00", "2024-03-20", "2024-03-20"),
    (BERLIN, ["2024-03-09", "2024-03-11"], None, "2024-03-08 23:00", "2024-03-11 23:00",
     "2024-03-09", "2024-03-11"),
    (BERLIN, ["2024-03-09T12:00:00", "2024-03-09T12:59:59"], None, "2024-03-09 11:00",
     "2024-03-09 12:00", "2024-03-09", "2024-03-09"),
    (UTC_SITE, ["2024-03-09T12:00:00+01:00", "2024-03-10T00:00:00Z"], None, "2024-03-09 11:00",
     "2024-03-10 00:00:01", "2024-03-09", "2024-03-10"),
]  # fmt: skip


@pytest.mark.parametrize(("site", "value", "first_day", "start", "end", "first", "last"), RANGES)
def test_date_ranges_resolve_in_the_site_time_zone(
    site: Any, value: Any, first_day: date | None, start: str, end: str, first: str, last: str
) -> None:
    span = parsed(site, first_day, date_range=value).date_range
    assert (span.start, span.end) == (utc(start), utc(end))
    assert (span.first_day.isoformat(), span.last_day.isoformat()) == (first, last)
    assert span.timezone == site.timezone


@pytest.mark.parametrize(
    ("date_range", "needed"),
    [("all", True), ("7d", False), ("day", False), (["2024-03-01", "2024-03-02"], False)],
)
def test_only_the_all_range_needs_the_first_data_day(date_range: Any, needed: bool) -> None:
    assert needs_first_data_day({"date_range": date_range}) is needed


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (["2024-03-11", "2024-03-09"], "date_range: the first day 2024-03-11 is after"),
        (["2024-02-30", "2024-03-09"], "date_range[0]: '2024-02-30' is not a calendar date"),
        (["1899-12-31", "2024-03-09"], "date_range[0]: 1899-12-31 is outside the supported"),
        (["2024-03-09T10:00:00", "soon"], "date_range[1]: 'soon' is not an ISO 8601 datetime"),
        ("0d", "date_range: '0d' is out of range; use 1d to 5000d or 1mo to 100mo"),
        ("5001d", "date_range: '5001d' is out of range"),
        ("0mo", "date_range: '0mo' is out of range"),
        ("101mo", "date_range: '101mo' is out of range"),
        ("7w", "date_range: '7w' is not a date range; use day, month, year, all, Nd"),
    ],
)
def test_bad_dates_are_refused_naming_the_field(value: Any, message: str) -> None:
    with pytest.raises(QueryError, match=message.replace("[", r"\[").replace("]", r"\]")):
        parsed(date_range=value)


def test_filters_become_trees_with_their_modifiers() -> None:
    query = parsed(
        filters=[
            ["is", "visit:country", ["DE", "FR"]],
            ["not", ["contains", "event:page", ["/blog"], {"case_sensitive": False}]],
            ["or", [["is", "visit:source", ["Google"]], ["matches", "event:page", ["^/a"]]]],
        ]
    )
    assert query.filters == (
        Condition("is", "visit:country", ("DE", "FR")),
        Negation(Condition("contains", "event:page", ("/blog",), case_sensitive=False)),
        Connective(
            "or",
            (
                Condition("is", "visit:source", ("Google",)),
                Condition("matches", "event:page", ("^/a",)),
            ),
        ),
    )


def test_behavioural_filters_and_clause_types_are_kept() -> None:
    query = parsed(
        filters=[
            ["has_done", ["is", "event:goal", ["Signup"]]],
            ["has_not_done", ["or", [["is", "event:page", ["/a"]], ["is", "event:name", ["x"]]]]],
            ["is", "visit:city", [2950159]],
            ["is", "visit:os_version", ["10", 11]],
        ]
    )
    assert query.filters == (
        Behaviour("has_done", Condition("is", "event:goal", ("Signup",))),
        Behaviour(
            "has_not_done",
            Connective(
                "or",
                (Condition("is", "event:page", ("/a",)), Condition("is", "event:name", ("x",))),
            ),
        ),
        Condition("is", "visit:city", ("2950159",), clause_type="integer"),
        Condition("is", "visit:os_version", ("10", "11"), clause_type="mixed"),
    )


@pytest.mark.parametrize("mode", ["previous_period", "year_over_year"])
def test_a_comparison_date_range_is_for_custom_mode_only(mode: str) -> None:
    # Plausible refuses it too; before, Jetrack compared with its own range silently.
    spec = {"mode": mode, "date_range": ["2024-01-01", "2024-01-31"]}
    with pytest.raises(
        QueryError, match=r"include\.comparisons\.date_range: only with mode custom"
    ):
        parsed(include={"comparisons": spec})


# (comparison spec, first and last day compared with 2024-03-09..11, a Saturday..Monday)
COMPARISONS = [
    ({"mode": "previous_period"}, "2024-03-06", "2024-03-08"),
    ({"mode": "previous_period", "match_day_of_week": True}, "2024-03-02", "2024-03-04"),
    ({"mode": "year_over_year"}, "2023-03-09", "2023-03-11"),
    ({"mode": "custom", "date_range": ["2024-01-01", "2024-01-31"]}, "2024-01-01", "2024-01-31"),
]


@pytest.mark.parametrize(("spec", "first", "last"), COMPARISONS)
def test_comparisons_get_their_range(spec: dict[str, Any], first: str, last: str) -> None:
    query = parsed(include={"comparisons": spec})
    assert query.comparison is not None
    span = query.comparison.date_range
    assert (span.first_day.isoformat(), span.last_day.isoformat()) == (first, last)
    assert query.comparison.mode == spec["mode"]


def test_the_rest_of_the_request_is_copied_as_given() -> None:
    query = parsed(
        BERLIN,
        metrics=["visitors", "bounce_rate"],
        dimensions=["visit:source", "time:day"],
        order_by=[["bounce_rate", "asc"]],
        include={"time_labels": True, "total_rows": True},
        pagination={"limit": 5, "offset": 10},
    )
    assert (query.site_id, query.timezone, query.goals) == (7, "Europe/Berlin", GOALS)
    assert query.metrics == ("visitors", "bounce_rate")
    assert query.dimensions == ("visit:source", "time:day")
    assert query.order_by == (("bounce_rate", "asc"),)
    assert (query.time_labels, query.total_rows, query.limit, query.offset) == (True, True, 5, 10)
    assert query.time_dimension == "time:day" and query.comparison is None
    assert query.echo["pagination"] == {"limit": 5, "offset": 10}
