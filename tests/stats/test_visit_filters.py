"""Visit filters read from the tables answer as they did before their faster SQL.

The dashboard with two visit filters (or one visit and one page filter, `is_not`,
`contains`...) reads the events and sessions tables. Their statements now test a column
with IN (not has(array, column)), the stored source rather than the expression naming the
empty one, put the conditions on a visit's attributes before FINAL (PREWHERE), and count
a percentage's divisor in the same read (GROUPING SETS). Each request is asked with all of
that and with none of it (the SQL as it was: the reference), and must get the same answer,
on a fixture with visits across midnight, a visit that started before the range, a
visit whose sessions row has two versions (its exit page changed), a source stored as
'' and one stored as the words "Direct / None", in UTC and off it, with the previous
period."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from jetrack.stats import filters, plan, sql
from jetrack.stats.engine import run_query
from jetrack.stats.params import Params
from jetrack.stats.query import Condition, SiteInfo
from jetrack.store.stores import Stores
from tests.stats.conftest import BERLIN, UTC_SITE, fixture_rows, stored_as
from tests.stats.helpers import at, event, insert, visit

NOW = at("2024-03-20 12:00")
KOLKATA = SiteInfo(UTC_SITE.id, UTC_SITE.domain, "Asia/Kolkata", UTC_SITE.goals)

DE = ["is", "visit:country", ["DE"]]
GOOGLE = ["is", "visit:source", ["Google"]]
FILTER_SETS: list[list[Any]] = [
    [DE, GOOGLE],
    [["is", "visit:device", ["Desktop"]], ["is", "visit:browser", ["Chrome"]]],
    [DE, ["is", "event:page", ["/pricing"]]],
    [GOOGLE, ["is", "event:goal", ["Signup"]]],
    [["is_not", "visit:country", ["US"]], ["contains", "visit:entry_page", ["blog"]]],
    [["is", "visit:source", ["Direct / None"]], ["is_not", "visit:country", ["FR"]]],
    [["is", "visit:source", ["Direct / None", "Google"]]],
    [["is", "visit:source", [""]]],
    [["is_not", "visit:source", [""]], DE],
    [["is_not", "visit:source", ["Direct / None"]]],
    [["is", "visit:source", ["direct / none"], {"case_sensitive": False}], DE],
    [["is", "visit:country", ["de"], {"case_sensitive": False}], GOOGLE],
    [["is_not", "visit:country", ["de", "fr"], {"case_sensitive": False}]],
    [DE, ["is", "visit:exit_page", ["/"]]],
    [DE, ["is", "visit:exit_page", ["/pricing"]]],
    [["or", [DE, ["is", "visit:country", ["FR"]]]], ["not", GOOGLE]],
    [DE, ["has_done", ["is", "event:page", ["/pricing"]]]],
]
RANGES = [
    ["2024-03-09", "2024-03-11"],
    ["2024-03-10", "2024-03-10"],
    ["2024-03-11", "2024-03-11"],
    ["2024-03-10T12:00:00", "2024-03-11T06:00:00"],
]


def dashboard() -> list[dict[str, Any]]:
    """What the dashboard asks (bench/query.py's dashboard), and a few more."""
    top = {"pagination": {"limit": 9}}
    return [
        {"metrics": ["visitors", "visits", "pageviews", "views_per_visit", "bounce_rate",
                     "visit_duration"], "include": {"comparisons": {"mode": "previous_period"}}},
        {"metrics": ["visitors"], "dimensions": ["time:day"]},
        {"metrics": ["visitors"], "dimensions": ["visit:source"], **top},
        {"metrics": ["visitors"], "dimensions": ["event:page"], **top},
        {"metrics": ["visitors", "visits", "bounce_rate", "visit_duration"],
         "dimensions": ["event:page"]},
        {"metrics": ["visitors", "visits"], "dimensions": ["visit:entry_page"], **top},
        {"metrics": ["visitors", "visits"], "dimensions": ["visit:exit_page"], **top},
        {"metrics": ["visitors", "percentage"], "dimensions": ["visit:country"]},
        {"metrics": ["visitors", "percentage"], "dimensions": ["visit:browser"], **top},
        {"metrics": ["visitors", "percentage", "bounce_rate"], "dimensions": ["visit:device"],
         "include": {"comparisons": {"mode": "previous_period"}}},
        {"metrics": ["visitors", "percentage"], "dimensions": ["visit:exit_page"]},
        {"metrics": ["visitors", "visits", "percentage"], "dimensions": ["visit:source"],
         "pagination": {"limit": 1, "offset": 1}},
        {"metrics": ["pageviews", "visitors"], "dimensions": ["visit:exit_page"]},
        {"metrics": ["visitors", "events", "conversion_rate"]},
    ]  # fmt: skip


def extra_rows() -> list[dict[str, Any]]:
    """Visits for the edges: one from before midnight of 2024-03-10 UTC into it (DE,
    Google), one whose source is stored as the words "Direct / None", one DE visit on the
    11th that crosses into the 12th."""
    de = {"source": "Google", "country_code": "DE", "browser": "Chrome", "device": "Desktop"}
    rows = visit(20, 300, [("2024-03-09 23:50", "/"), ("2024-03-10 00:10", "/pricing")], **de)
    rows += visit(21, 301, [("2024-03-10 14:00", "/blog/c")], source="Direct / None",
                  country_code="DE")  # fmt: skip
    rows += visit(22, 302, [("2024-03-11 23:40", "/blog/a"), ("2024-03-12 00:20", "/")], **de)
    rows += [event("2024-03-11 23:45", name="Signup", pathname="/blog/a", session_id=22,
                   visitor_id=302, entry_page="/blog/a", **de)]  # fmt: skip
    return rows


# A DE Google visit stored in two steps, so its sessions table has two rows (versions):
# the first ends on /, the second on /pricing.
FIRST = visit(30, 310, [("2024-03-11 10:00", "/")], source="Google", country_code="DE")
LATER = visit(30, 310, [("2024-03-11 10:05", "/pricing")], source="Google", country_code="DE",
              entry_page="/")  # fmt: skip


@pytest.fixture(scope="module", params=["sessions"])
def stores(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Stores]:
    with stored_as(request, tmp_path_factory, "visit-filters", fixture_rows() + extra_rows()) as s:
        insert(s, FIRST)
        insert(s, LATER)
        yield s


def old_condition_sql(condition: Condition, expr: str, params: Params) -> str:
    """The filter SQL as it was: has(array, expression) for is / is_not."""
    templates = {
        "is": ("has({values}, {expr})",
               "has(arrayMap(v -> lowerUTF8(v), {values}), lowerUTF8({expr}))"),
        "is_not": ("NOT has({values}, {expr})",
                   "NOT has(arrayMap(v -> lowerUTF8(v), {values}), lowerUTF8({expr}))"),
    }  # fmt: skip
    if condition.operator not in templates:
        return reference(condition, expr, params)
    sensitive, insensitive = templates[condition.operator]
    template = sensitive if condition.case_sensitive else insensitive
    return "(" + template.format(expr=expr, values=params.array(condition.clauses)) + ")"


reference = filters.condition_sql


def both_ways(stores: Stores, site: SiteInfo, request: dict[str, Any]) -> tuple[Any, Any]:
    body = {"site_id": site.domain, **request}
    new = run_query(stores.events, site, body, now=NOW)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(filters, "condition_sql", old_condition_sql)
        patch.setattr(sql, "_fixed_per_visit", lambda tree: False)
        patch.setattr(plan, "sessions_total", lambda query, tables: False)
        patch.setattr(plan, "events_total", lambda query, tables: False)
        old = run_query(stores.events, site, body, now=NOW)
    return new, old


def test_the_versions_fixture_has_two_rows_of_one_visit(stores: Stores) -> None:
    rows = stores.events.query("SELECT exit_page FROM sessions WHERE session_id = 30").rows
    final = stores.events.query("SELECT exit_page FROM sessions FINAL WHERE session_id = 30").rows
    assert sorted(rows) == [("/",), ("/pricing",)] and final == [("/pricing",)]


# UTC over every range; off UTC (Berlin: midnights on the hour; Kolkata: UTC+05:30) over
# the ranges with a visit across a local midnight.
CASES = [
    *((UTC_SITE, dates) for dates in RANGES),
    (BERLIN, RANGES[0]), (BERLIN, RANGES[3]), (KOLKATA, RANGES[0]),
]  # fmt: skip


# Each (filter set, panel) pair is asked in one of the cases (every case asks every filter
# set, with two of the panels): all of them in every case took a minute of CPU.
@pytest.mark.parametrize("case", range(len(CASES)))
def test_visit_filters_answer_as_the_old_sql_does(stores: Stores, case: int) -> None:
    site, dates = CASES[case]
    failures: list[str] = []
    answered = 0
    for f, filter_set in enumerate(FILTER_SETS):
        for p, panel in enumerate(dashboard()):
            if (f + p) % len(CASES) != case:
                continue
            request = {"date_range": dates, "filters": filter_set, **panel}
            if "event:page" in repr(filter_set):  # as the dashboard asks (rules.py)
                request["metrics"] = [m for m in panel["metrics"] if m != "views_per_visit"]
            if "conversion_rate" in panel["metrics"] and not any(
                f[1] == "event:goal" for f in filter_set if len(f) > 1
            ):
                continue
            new, old = both_ways(stores, site, request)
            answered += bool(new["results"])
            if new["results"] != old["results"]:
                failures.append(f"{request}: new {new['results']}, old {old['results']}")
    assert not failures, "\n".join(failures)
    assert answered > 5  # the filters keep rows: the comparison compares something


def test_two_visit_filters_count_by_hand(stores: Stores) -> None:
    """DE and Google over 2024-03-09..11 (UTC): v200 (S0), v101 (S1, S4), v300 (from the
    9th into the 10th), v302 (the 11th into the 12th), v310 (two sessions rows)."""
    body = {"site_id": UTC_SITE.domain, "date_range": ["2024-03-09", "2024-03-11"],
            "filters": [DE, GOOGLE]}  # fmt: skip
    top = run_query(stores.events, UTC_SITE, {**body, "metrics": ["visitors", "visits"]}, now=NOW)
    assert top["results"][0]["metrics"] == [5, 6]
    exits = run_query(
        stores.events, UTC_SITE,
        {**body, "metrics": ["visits", "percentage"], "dimensions": ["visit:exit_page"]}, now=NOW,
    )  # fmt: skip
    by_exit = {row["dimensions"][0]: row["metrics"] for row in exits["results"]}
    # v310's newest row ends on /pricing (the older row's / is not counted).
    assert by_exit["/pricing"][0] == 3 and by_exit["/"][0] == 2
    direct = run_query(
        stores.events, UTC_SITE,
        {**body, "filters": [["is", "visit:source", ["Direct / None"]]], "metrics": ["visits"]},
        now=NOW,
    )  # fmt: skip
    assert direct["results"][0]["metrics"] == [2]  # S2 (stored '') and v301 (the words)
