"""The SQL of a plan, rendered without a database: which tables it reads, and user values
only as bind parameters."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

import pytest

from jetrack.stats.plan import decide
from jetrack.stats.rollup import Rolled
from jetrack.stats.sql import Statement, build
from tests.stats.queries import BERLIN, UTC_SITE, optimized

DAYS = ["2024-03-09", "2024-03-11"]
ALL_DAYS = Rolled(date(2024, 3, 9), date(2024, 3, 11))
LAST_TWO = Rolled(date(2024, 3, 10), date(2024, 3, 11))
CARRIED = Rolled(date(2024, 3, 9), date(2024, 3, 11), carry=True)
ROLLUPS = "FROM visit_rollups FINAL"
SESSIONS = "FROM sessions FINAL"
EVENTS = "FROM events"


DE = [["is", "visit:country", ["DE"]]]
DE_DAYS = Rolled(date(2024, 3, 10), date(2024, 3, 11), filter=("country_code", "DE"))


def rendered(rolled: Rolled | None = None, site: Any = UTC_SITE, **request: Any) -> Statement:
    return build(decide(optimized(site, **{"date_range": DAYS, **request}), rolled))


# (rolled-up days, site, request, in the SQL, not in the SQL)
SHAPES: list[tuple[Rolled | None, Any, dict[str, Any], list[str], list[str]]] = [
    # Rolled-up days read their rows; visits of the day before that went on into the
    # range come from sessions rows, unless its carried rows can be read.
    (ALL_DAYS, UTC_SITE, {}, [ROLLUPS, SESSIONS], [EVENTS]),
    (CARRIED, UTC_SITE, {}, [ROLLUPS, "column IN ({p", "OR column IN"], [SESSIONS, EVENTS]),
    # Partial days (the range starts at noon) read sessions rows.
    (LAST_TWO, UTC_SITE, {"date_range": ["2024-03-09T12:00:00", "2024-03-11T23:59:59"]},
     [ROLLUPS, SESSIONS], []),
    (None, UTC_SITE, {}, [SESSIONS], [ROLLUPS, EVENTS]),
    (ALL_DAYS, UTC_SITE, {"metrics": ["pageviews", "events"]},
     [ROLLUPS, "sum(event_pageviews)", "sum(event_count)"], [EVENTS, SESSIONS]),
    (LAST_TWO, UTC_SITE, {"metrics": ["pageviews"]}, [ROLLUPS, EVENTS], [SESSIONS]),
    (ALL_DAYS, UTC_SITE, {"dimensions": ["time:day"]}, [ROLLUPS, "event_visitors"],
     [EVENTS, SESSIONS]),
    (LAST_TWO, UTC_SITE, {"dimensions": ["time:day"]}, [ROLLUPS, EVENTS], [SESSIONS]),
    # Berlin: its days from the hour rows of the UTC days, its edges from events.
    (LAST_TWO, BERLIN, {"dimensions": ["time:day"]},
     [ROLLUPS, EVENTS, "'hours_from', 'hours_before'"], [SESSIONS]),
    # Filtered by one value: filter_rollups' rows of it, the tables with the filter.
    (DE_DAYS, UTC_SITE, {"dimensions": ["visit:source"], "filters": DE},
     ["FROM filter_rollups FINAL", "filter_value = {p", SESSIONS, "country_code IN ({p"], [ROLLUPS, EVENTS]),
    (DE_DAYS, UTC_SITE, {"metrics": ["pageviews"], "filters": DE},
     ["FROM filter_rollups FINAL", EVENTS, "country_code IN ({p"], [ROLLUPS, SESSIONS]),
    # Pages: an event is of a rolled-up day's visit by the start second in its visit id.
    (ALL_DAYS, UTC_SITE, {"metrics": ["visitors", "visits"], "dimensions": ["event:page"]},
     [ROLLUPS, EVENTS, "column = 'pathname'", f"intDiv(session_id, {2**31})"], [SESSIONS]),
    (ALL_DAYS, UTC_SITE, {"metrics": ["visitors", "percentage"], "dimensions": ["visit:os"]},
     [ROLLUPS, SESSIONS, "GROUPING SETS ((d0), ())", "sessions_total"], ["WITH (SELECT"]),
    # From the tables, the divisor too comes from the sessions part's read; where the
    # visitors are the events' (a page filter), from the events part's.
    (None, UTC_SITE, {"metrics": ["visitors", "percentage"], "dimensions": ["visit:os"]},
     ["GROUPING SETS ((d0), ())", "sessions_total", SESSIONS], [ROLLUPS, "WITH (SELECT"]),
    (None, UTC_SITE, {"metrics": ["visitors", "percentage"], "dimensions": ["visit:os"],
                      "filters": [["is", "event:page", ["/"]]]},
     ["GROUPING SETS ((d0), ())", "events_total", EVENTS], [ROLLUPS, "WITH (SELECT", SESSIONS]),
    # ... but by goal (an event in as many rows as goals it matches), from a statement of
    # its own.
    (None, UTC_SITE, {"metrics": ["visitors", "percentage"], "dimensions": ["event:goal"],
                      "filters": [["is", "event:page", ["/"]]]},
     ["WITH (SELECT m0 FROM (", "AS total_percentage", EVENTS], [ROLLUPS, "GROUPING SETS"]),
    # Two visit filters: IN, the stored source, before FINAL.
    (None, UTC_SITE, {"metrics": ["visitors"], "dimensions": ["visit:os"],
                      "filters": [["is", "visit:country", ["DE"]],
                                  ["is", "visit:source", ["Direct / None"]]]},
     ["FROM sessions FINAL PREWHERE (country_code IN ({p", "(source IN ({p"],
     [ROLLUPS, "has(", "if(source"]),
    (None, UTC_SITE, {"metrics": ["conversion_rate"], "dimensions": ["event:goal"]},
     ["AS total_conversion_rate", "ARRAY JOIN arrayFilter(g -> g != ''", EVENTS], [ROLLUPS]),
    (None, UTC_SITE, {"filters": [["is", "visit:exit_page", ["/"]]],
                      "metrics": ["pageviews"]},
     [f"session_id IN (SELECT session_id {SESSIONS}"], [ROLLUPS]),
    (None, UTC_SITE, {"metrics": ["scroll_depth"], "dimensions": ["event:page"]},
     ["name = 'engagement'", "max(scroll_depth)"], [SESSIONS]),
    (None, UTC_SITE, {"metrics": ["pageviews"], "dimensions": ["visit:exit_page"]},
     ["INNER JOIN (SELECT session_id, countIf(name = 'pageview') AS matched_pageviews"], []),
]  # fmt: skip


@pytest.mark.parametrize(("rolled", "site", "request_body", "present", "absent"), SHAPES)
def test_what_the_statement_reads(
    rolled: Rolled | None,
    site: Any,
    request_body: dict[str, Any],
    present: list[str],
    absent: list[str],
) -> None:
    sql = rendered(rolled, site, **request_body).sql
    for text in present:
        assert text in sql
    for text in absent:
        assert text not in sql


# Whole range rolled up (no table read): each part one SELECT over the rows, under the
# statement's own (every subquery level costs ClickHouse analysis and planning time).
FLAT: list[tuple[dict[str, Any], int]] = [
    ({"metrics": ["visitors", "visits", "bounce_rate", "visit_duration", "views_per_visit"]}, 2),
    ({"metrics": ["visitors", "pageviews", "views_per_visit"]}, 3),
    ({"metrics": ["visitors"], "dimensions": ["time:day"]}, 2),
    ({"metrics": ["visitors", "visits"], "dimensions": ["visit:source"]}, 2),
    ({"metrics": ["visitors", "percentage"], "dimensions": ["visit:country"]}, 2),
]  # fmt: skip


@pytest.mark.parametrize(("request_body", "selects"), FLAT)
def test_a_range_wholly_rolled_up_is_read_by_flat_statements(
    request_body: dict[str, Any], selects: int
) -> None:
    sql = rendered(CARRIED, **request_body).sql
    assert ROLLUPS in sql and SESSIONS not in sql and EVENTS not in sql
    assert sql.count("SELECT") == selects and "UNION" not in sql


def test_events_rows_are_read_by_their_utc_days_on_the_key() -> None:
    # The events' key has toDate(timestamp): only conditions on it skip other days' rows.
    whole = rendered(site=BERLIN, metrics=["pageviews"])
    assert whole.sql.count("toDate(timestamp) >= {p") == 1
    # Berlin's 2024-03-09..11: from 03-08 23:00 to 03-11 23:00 UTC.
    assert {"2024-03-08", "2024-03-11"} <= set(whole.params.values())
    edges = rendered(LAST_TWO, site=BERLIN, metrics=["pageviews"]).sql
    assert "(toDate(timestamp) < {p" in edges and "OR toDate(timestamp) > {p" in edges


def test_rolled_up_days_and_the_range_are_parameters() -> None:
    statement = rendered(LAST_TWO, metrics=["visitors", "pageviews"])
    values = set(statement.params.values())
    assert {7, "2024-03-09 00:00:00", "2024-03-12 00:00:00"} <= values  # site and range
    assert {"2024-03-10", "2024-03-11", "2024-03-10 00:00:00"} <= values  # rolled-up days
    assert "2024-03-10" not in statement.sql and "2024-03-12" not in statement.sql


def test_user_values_reach_clickhouse_only_as_parameters() -> None:
    hostile = "x') OR 1=1 --"
    statement = rendered(
        filters=[["is", "visit:source", [hostile]], ["contains", "event:props:plan", [hostile]]],
        dimensions=["event:props:plan"],
    )
    assert hostile not in statement.sql and "plan" not in statement.sql
    assert hostile in statement.params.values() and "plan" in statement.params.values()


def test_time_buckets_are_in_the_site_time_zone() -> None:
    statement = rendered(site=BERLIN, dimensions=["time:day"])
    zone = next(k for k, v in statement.params.items() if v == "Europe/Berlin")
    assert f"toString(toDate(timestamp, {{{zone}:String}}))" in statement.sql


def test_columns_order_and_pagination() -> None:
    statement = rendered(
        metrics=["visits", "visitors"],
        dimensions=["visit:source", "visit:os"],
        order_by=[["visitors", "asc"]],
        pagination={"limit": 5, "offset": 10},
    )
    assert (statement.dimensions, statement.metrics) == (2, ["visits", "visitors"])
    assert statement.sql.startswith(
        "SELECT d0, d1, sessions_visits AS m0, sessions_visitors AS m1,"
        " count() OVER () AS total_rows FROM ("
    )
    limit, offset = re.fullmatch(
        r".* ORDER BY m1 ASC, d0 ASC, d1 ASC LIMIT \{(p\d+):UInt32\} OFFSET \{(p\d+):UInt32\}",
        statement.sql,
    ).groups()  # type: ignore[union-attr]
    assert (statement.params[limit], statement.params[offset]) == (5, 10)


def test_a_comparison_keeps_the_main_rows_keys_and_all_its_rows() -> None:
    query = optimized(date_range=DAYS, dimensions=["visit:source"])
    statement = build(decide(query), only_keys=[("Google",), ("Bing",)], paginate=False)
    assert " WHERE has([tuple({p" in statement.sql and " LIMIT " not in statement.sql
    assert {"Google", "Bing"} <= set(statement.params.values())
