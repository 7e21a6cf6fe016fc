"""Daily rollups answer exactly what the sessions and events tables answer.

The fixture of conftest.py with ingestion's visit ids, every day rolled up: each query is
asked twice, reading the rollups where it can and never, and must get the same answer;
the raw answers are the hand-computed ones of test_metrics.py."""

from __future__ import annotations

import collections
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import pytest

from jetrack.jobs.rollups import run_rollups
from jetrack.privacy.event_tables import delete_site_rows
from jetrack.privacy.retention import apply_retention
from jetrack.stats import engine
from jetrack.stats.engine import run_query
from jetrack.stats.query import GoalInfo, SiteInfo
from jetrack.stats.rollup import rolled_window
from jetrack.store import rollups
from jetrack.store.cut_rollups import days_to_cut
from jetrack.store.event_schema import migrate_events
from jetrack.store.events import first_value
from jetrack.store.ids import COOKIE_ID_FLAG
from jetrack.store.job_queue import JobContext
from jetrack.store.stores import Stores, open_stores
from tests.conftest import EVENT_BACKENDS, backend_settings
from tests.stats.conftest import BERLIN, UTC_SITE, fixture_rows, roll_up_all, with_dated_ids
from tests.stats.helpers import at, event, insert, visit

NOW = at("2024-03-20 12:00")
VISIT_METRICS = ["visitors", "visits", "bounce_rate", "visit_duration", "views_per_visit"]
ROLLED_DIMENSIONS = [
    "visit:source", "visit:channel", "visit:utm_campaign", "visit:entry_page",
    "visit:exit_page", "visit:country", "visit:country_name", "visit:region", "visit:city_name",
    "visit:device", "visit:browser", "visit:os", "visit:language",
]  # fmt: skip
# One value of a visit column: read from filter_rollups (a value no visit has, too).
ROLLED_FILTERS = [
    ("visit:country", "DE"), ("visit:country", "XX"), ("visit:source", "Google"),
    ("visit:source", "Direct / None"), ("visit:device", "Mobile"), ("visit:browser", "Firefox"),
    ("visit:entry_page", "/blog/a"), ("visit:utm_campaign", "spring"), ("visit:region", "DE-BE"),
]  # fmt: skip
# One page, one custom event name, one goal of a custom event: read from event_rollups
# (a page no event has, too; /blog/b only in a visit that entered elsewhere).
EVENT_FILTERS = [
    ["is", "event:page", ["/"]], ["is", "event:page", ["/pricing"]],
    ["is", "event:page", ["/blog/b"]], ["is", "event:page", ["/nowhere"]],
    ["is", "event:goal", ["Signup"]], ["is", "event:name", ["Signup"]],
    ["is", "event:name", ["Outbound"]],
]  # fmt: skip
TABLE_FILTERS = [
    [["is", "visit:country", ["DE"]], ["is", "visit:source", ["Google"]]],
    [["is", "visit:country", ["DE", "US"]]],
    [["is_not", "visit:country", ["DE"]]],
    [["is", "visit:country", ["de"], {"case_sensitive": False}]],
    [["is", "event:page", ["/", "/pricing"]]],
    [["is", "event:page", ["/PRICING"], {"case_sensitive": False}]],
    [["is", "visit:exit_page", ["/"]]],
    [["is", "event:goal", ["Visit /blog/*"]]],
    [["is", "event:name", ["pageview"]]],
]
RANGES = [["2024-03-09", "2024-03-11"], ["2024-03-10", "2024-03-10"], ["2024-03-08", "2024-03-12"]]
WIDEST = RANGES[-1]


@pytest.fixture(scope="module", params=EVENT_BACKENDS)
def rolled(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Stores]:
    data_dir = tmp_path_factory.mktemp("rollups") / "data"
    with backend_settings(request, request.param, data_dir) as settings:
        stores = open_stores(settings)
        rows = with_dated_ids(fixture_rows())
        insert(stores, rows)
        roll_up_all(stores, rows)
        yield stores
        stores.close()


# How many rollup windows of the queries asked both ways read rows cut at a site-local
# midnight (Rolled.start_cut, end_cut): the partial UTC days of a zone off UTC.
CUT_READS: collections.Counter[str] = collections.Counter()


def both_ways(stores: Stores, site: SiteInfo, request: dict[str, Any]) -> tuple[Any, Any, int]:
    """The answer with rollups, the answer without, and how many parts read rollups."""
    used: collections.Counter[bool] = collections.Counter()

    def counting(*args: Any) -> Any:
        window = rolled_window(*args)
        used[window is not None] += 1
        if window is not None and (window.start_cut or window.end_cut):
            CUT_READS[site.timezone] += 1
        return window

    body = {"site_id": site.domain, **request}
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(engine, "rolled_window", counting)
        with_rollups = run_query(stores.events, site, body, now=NOW)
        patch.setattr(engine, "rolled_window", lambda *args: None)
        without = run_query(stores.events, site, body, now=NOW)
    return with_rollups["results"], without["results"], used[True]


def dashboard_panels() -> list[dict[str, Any]]:
    """What a filtered dashboard asks: top stats with the previous period, the graph, pages,
    a breakdown with percentages, entry pages."""
    return [
        {"metrics": [*VISIT_METRICS, "pageviews", "events"],
         "include": {"comparisons": {"mode": "previous_period"}}},
        {"metrics": ["visitors"], "dimensions": ["time:day"]},
        {"metrics": ["visitors", "visits", "pageviews"], "dimensions": ["event:page"]},
        {"metrics": ["visitors", "percentage"], "dimensions": ["visit:source"]},
        {"metrics": [*VISIT_METRICS], "dimensions": ["visit:entry_page"]},
    ]  # fmt: skip


def event_filtered_panels() -> list[dict[str, Any]]:
    """What a dashboard filtered by a page or a goal asks (frontend/src/state.ts): the top
    stats (in conversions for a goal), the graph, pages, visit breakdowns of the events'
    visitors (with percentages), entry and exit pages from the visits."""
    return [
        {"metrics": ["visitors", "visits", "pageviews", "bounce_rate", "visit_duration"],
         "include": {"comparisons": {"mode": "previous_period"}}},
        {"metrics": ["visitors", "events", "conversion_rate"],
         "include": {"comparisons": {"mode": "previous_period"}}},
        {"metrics": ["visitors", "events"]},
        {"metrics": ["visitors"], "dimensions": ["time:day"]},
        {"metrics": ["visitors"], "dimensions": ["event:page"]},
        {"metrics": ["visitors", "visits", "pageviews"], "dimensions": ["event:page"]},
        {"metrics": ["visitors"], "dimensions": ["visit:source"]},
        {"metrics": ["visitors", "percentage"], "dimensions": ["visit:country"]},
        {"metrics": ["visitors", "percentage"], "dimensions": ["visit:device"]},
        {"metrics": ["visitors", "visits"], "dimensions": ["visit:entry_page"]},
        {"metrics": ["visitors", "visits"], "dimensions": ["visit:exit_page"]},
        {"metrics": ["visitors"], "dimensions": ["visit:city_name"]},
        {"metrics": ["visitors", "events", "conversion_rate"], "dimensions": ["event:goal"]},
    ]  # fmt: skip


def requests(site: SiteInfo, dates: list[str]) -> list[tuple[dict[str, Any], bool]]:
    """(request, whether it must read rollups) for the site over the dates."""
    out: list[tuple[dict[str, Any], bool]] = []
    # A Berlin day is not a UTC day: only ranges of more than one day hold one.
    whole = site is UTC_SITE or dates[0] != dates[1]
    base: dict[str, Any] = {"date_range": dates}
    out.append(({**base, "metrics": [*VISIT_METRICS, "pageviews", "events"]}, whole))
    out.append(({**base, "metrics": ["visitors"], "dimensions": ["time:day"]}, whole))
    out.append(({**base, "metrics": ["visitors", "visits", "pageviews"],
                 "dimensions": ["event:page"]}, whole))  # fmt: skip
    # Top pages: visits by page from events, entries' bounces and durations.
    out.append(({**base, "metrics": ["visitors", "visits", "bounce_rate", "visit_duration"],
                 "dimensions": ["event:page"]}, whole))  # fmt: skip
    for dimension in ROLLED_DIMENSIONS:
        metrics = [*VISIT_METRICS, "percentage"]
        out.append(({**base, "metrics": metrics, "dimensions": [dimension]}, whole))
    out.append(({**base, "metrics": ["visitors", "bounce_rate"],
                 "include": {"comparisons": {"mode": "previous_period"}}}, whole))  # fmt: skip
    out.append(({**base, "metrics": ["visitors", "percentage"], "dimensions": ["visit:source"],
                 "include": {"comparisons": {"mode": "previous_period"}}}, whole))  # fmt: skip
    for dimension, value in ROLLED_FILTERS:
        filtered = {**base, "filters": [["is", dimension, [value]]]}
        for request in dashboard_panels():
            graph = request.get("dimensions") == ["time:day"]
            out.append(({**filtered, **request}, whole and (site is UTC_SITE or not graph)))
    for condition in EVENT_FILTERS:
        for request in event_filtered_panels():
            if "conversion_rate" in request["metrics"] and condition[1] != "event:goal":
                continue
            # Filtered, a graph reads rollups only in UTC (as with filter_rollups).
            graph = request.get("dimensions") == ["time:day"]
            reads = whole and (site is UTC_SITE or not graph)
            out.append(({**base, "filters": [condition], **request}, reads))
    # Not from rollups: other filters, two dimensions, event metrics by a visit column.
    for filters in TABLE_FILTERS:
        out.append(({**base, "metrics": ["visitors"], "dimensions": ["visit:source"],
                     "filters": filters}, False))  # fmt: skip
    out.append(({**base, "metrics": ["visitors"],
                 "dimensions": ["visit:source", "visit:device"]}, False))  # fmt: skip
    out.append(({**base, "metrics": ["pageviews"], "dimensions": ["visit:source"]}, False))
    return out


# One test per site, each asking its queries both ways against the module's data dir (454
# tests of one query each spent a tenth of their time in pytest); a failure lists every
# request that answered differently, in full. The widest range asks every request: every
# query shape with every kind of value. The other ranges move the edges of the rolled-up
# window, which does not depend on a filter's value: there the first request of each kind
# (this test was the suite's costliest, 64 s of CPU with all 154 requests on every range).
# On the ClickHouse server the queries are the same SQL (store/events.py), bound
# server-side: there the widest range alone, the first request of each kind.
def first_of_each_kind(
    asked: list[tuple[dict[str, Any], bool]],
) -> list[tuple[dict[str, Any], bool]]:
    """The first request of each kind (metrics, dimensions, comparison, filtered or not):
    37 of the 154, what the narrower ranges and the server backend are asked (the window's
    edges, and the server's binding, are the same for any filter's value)."""
    seen: dict[str, tuple[dict[str, Any], bool]] = {}
    for body, reads in asked:
        kind = {k: v for k, v in body.items() if k not in ("filters", "date_range")}
        seen.setdefault(
            repr(sorted({**kind, "filtered": "filters" in body}.items())), (body, reads)
        )
    return list(seen.values())


@pytest.mark.parametrize("site", [UTC_SITE, BERLIN], ids=lambda site: site.timezone)
def test_rollups_answer_as_the_tables_do(
    rolled: Stores, site: SiteInfo, request: pytest.FixtureRequest
) -> None:
    embedded = request.node.callspec.params["rolled"] == "embedded"
    failures: list[str] = []
    CUT_READS.clear()
    for dates in RANGES if embedded else [WIDEST]:
        asked = requests(site, dates)
        every = embedded and dates is WIDEST
        for request_body, reads_rollups in asked if every else first_of_each_kind(asked):
            try:
                with_rollups, without, used = both_ways(rolled, site, request_body)
            except Exception as exc:
                exc.add_note(f"request: {request_body}")
                raise
            if with_rollups != without:
                failures.append(f"{request_body}: rollups say {with_rollups}, tables {without}")
            if (used > 0) != reads_rollups:
                failures.append(f"{request_body}: read rollups {used} times, expected "
                                f"{'some' if reads_rollups else 'none'}")  # fmt: skip
    assert not failures, f"{site.timezone}: " + "\n".join(failures)
    # Berlin's local days cut its UTC days at 23:00: the fixture has those rows (conftest).
    assert (CUT_READS[site.timezone] > 0) == (site is BERLIN), CUT_READS


NEW_YORK = SiteInfo(UTC_SITE.id, UTC_SITE.domain, "America/New_York", UTC_SITE.goals)
KOLKATA = SiteInfo(UTC_SITE.id, UTC_SITE.domain, "Asia/Kolkata", UTC_SITE.goals)  # UTC+05:30


@pytest.mark.parametrize("dates", RANGES)
@pytest.mark.parametrize(("site", "by_hours"), [(NEW_YORK, True), (KOLKATA, False)])
def test_the_graph_of_a_zone_off_utc_by_hours(
    rolled: Stores, site: SiteInfo, by_hours: bool, dates: list[str]
) -> None:
    # A local day is the end of one UTC day and the start of the next: hour rows, where
    # the zone's midnights are on the hour in UTC.
    request = {"date_range": dates, "metrics": ["visitors"], "dimensions": ["time:day"]}
    with_rollups, without, used = both_ways(rolled, site, request)
    assert with_rollups == without
    assert (used > 0) == (by_hours and dates[0] != dates[1])


def test_a_visit_across_utc_midnight_counts_once_in_a_local_days_graph(rolled: Stores) -> None:
    # New York's 2024-03-09 is [03-09 05:00, 03-10 05:00) UTC. Visitor 51's visit has
    # events at 23:40 and, after UTC midnight, 00:20 (the day before's id): the day's
    # FROM_HOUR row of 03-09 and BEFORE_HOUR row of 03-10 must not both count it. Visitor
    # 52's visit of 03-10 02:00 UTC is new that day; visitor 53 was there the day before
    # too, but before New York's midnight (03-09 03:00 UTC, the local 03-08).
    site = SiteInfo(51, "midnight.example", "America/New_York")
    rows = visit(501, 51, [("2024-03-09 23:40", "/"), ("2024-03-10 00:20", "/b")], site_id=51)
    rows += visit(502, 52, [("2024-03-10 02:00", "/")], site_id=51)
    rows += visit(503, 53, [("2024-03-09 03:00", "/")], site_id=51)
    rows += visit(504, 53, [("2024-03-09 03:40", "/c")], site_id=51)
    rows += visit(505, 54, [("2024-03-09 12:00", "/")], site_id=51)
    insert(rolled, with_dated_ids(rows))
    for day in (date(2024, 3, 8), date(2024, 3, 9), date(2024, 3, 10), date(2024, 3, 11)):
        rollups.build_rollups(rolled.events, day, site_ids=[51], min_visits_per_row=1)
    request = {"date_range": ["2024-03-07", "2024-03-11"], "metrics": ["visitors"],
               "dimensions": ["time:day"]}  # fmt: skip
    with_rollups, without, used = both_ways(rolled, site, request)
    assert with_rollups == without and used
    by_day = {row["dimensions"][0]: row["metrics"][0] for row in without}
    assert (by_day["2024-03-08"], by_day["2024-03-09"]) == (1, 3)


def test_a_day_whose_hour_rows_have_the_old_names_is_read_from_the_tables_and_built_again(
    rolled: Stores,
) -> None:
    # Rows built before the fix above were named from_hour/before_hour: such a day has
    # none of today's hour rows, so the graph reads the tables, and the job rebuilds it.
    site = SiteInfo(52, "hours.example", "America/New_York")
    insert(rolled, with_dated_ids(visit(511, 61, [("2023-05-05 12:00", "/")], site_id=52)))
    day = date(2023, 5, 5)
    rollups.build_rollups(rolled.events, day, site_ids=[52], min_visits_per_row=1)
    assert day not in rollups.days_to_build(rolled.events, at("2023-05-07 00:00"))
    rolled.events.command(
        "DELETE FROM visit_rollups WHERE site_id = 52 AND column IN ('hours_from', 'hours_before')"
    )
    assert day in rollups.days_to_build(rolled.events, at("2023-05-07 00:00"))
    request = {"date_range": ["2023-05-04", "2023-05-06"], "metrics": ["visitors"],
               "dimensions": ["time:day"]}  # fmt: skip
    with_rollups, without, _ = both_ways(rolled, site, request)
    assert with_rollups == without
    assert sum(row["metrics"][0] for row in without) == 1
    rollups.build_rollups(rolled.events, day, site_ids=[52], min_visits_per_row=1)
    assert day not in rollups.days_to_build(rolled.events, at("2023-05-07 00:00"))
    assert both_ways(rolled, site, request)[2]  # read from the rebuilt rows


def test_the_rolled_fixture_has_data_in_the_compared_answers(rolled: Stores) -> None:
    # Guards the comparison above against comparing empty answers.
    results, _, used = both_ways(
        rolled, UTC_SITE, {"date_range": RANGES[0], "metrics": ["visitors", "pageviews"]}
    )
    assert results == [{"dimensions": [], "metrics": [6, 10]}] and used
    filtered, _, used = both_ways(
        rolled, UTC_SITE, {"date_range": RANGES[0], "metrics": ["visitors", "pageviews"],
                           "filters": [["is", "visit:country", ["DE"]]]},
    )  # fmt: skip
    assert filtered[0]["metrics"][0] > 0 and used
    graph, _, used = both_ways(
        rolled, NEW_YORK, {"date_range": RANGES[0], "metrics": ["visitors"],
                           "dimensions": ["time:day"]},
    )  # fmt: skip
    assert sum(row["metrics"][0] for row in graph) > 0 and used


# The tests below add sites of their own to the module's data dir (chDB opens one data
# dir per process); the comparisons above read site 1 only.


def test_cookie_mode_days_are_read_from_the_tables(rolled: Stores) -> None:
    rows = with_dated_ids(
        visit(101, COOKIE_ID_FLAG | 7, [("2024-03-10 10:00", "/")], site_id=5)
        + visit(102, 8, [("2024-03-10 11:00", "/")], site_id=6)
    )
    insert(rolled, rows)
    day = date(2024, 3, 10)
    rollups.build_rollups(rolled.events, day, site_ids=[5, 6], min_visits_per_row=1)
    assert rollups.rolled_days(rolled.events, 5, day, day) == []
    assert rollups.rolled_days(rolled.events, 6, day, day) == [day]
    assert rollups.rolled_days(rolled.events, 6, day, day, "browser") == [day]


def test_small_columns_are_left_to_the_tables(rolled: Stores) -> None:
    # With the default of 4 visits a row, a city seen once a day gets no row; the ALL row
    # and a column every visit shares (one browser) do.
    rows = []
    for n in range(4):
        rows += visit(201 + n, 10 + n, [(f"2024-03-10 1{n}:00", "/")], city=f"City {n}", site_id=31)
    insert(rolled, with_dated_ids(rows))
    day = date(2024, 3, 10)
    rollups.build_rollups(rolled.events, day, site_ids=[31])
    assert rollups.rolled_days(rolled.events, 31, day, day) == [day]
    assert rollups.rolled_days(rolled.events, 31, day, day, "browser") == [day]
    assert rollups.rolled_days(rolled.events, 31, day, day, "city") == []
    site = SiteInfo(31, "small.example")
    body = {"date_range": ["2024-03-10", "2024-03-10"], "metrics": ["visitors"]}
    by_city, _, used = both_ways(rolled, site, {**body, "dimensions": ["visit:city_name"]})
    assert [r["metrics"] for r in by_city] == [[1]] * 4 and used == 0


def test_a_filtered_value_keeps_its_rows_when_others_are_cut(rolled: Stores) -> None:
    # Eight visits enter on /a, all from DE; two enter on /b from two countries. By
    # entry page, /a's country rows hold 8 visits a row (kept), /b's 1 (cut), though the
    # column's rows over both values hold 10 / 3 < 4 (before 0011, cut for both).
    rows = []
    for n in range(8):
        rows += visit(801 + n, 20 + n, [(f"2024-03-10 0{n}:00", "/a")], country_code="DE",
                      site_id=32)  # fmt: skip
    for n, country in enumerate(("FR", "US")):
        rows += visit(811 + n, 40 + n, [(f"2024-03-10 1{n}:00", "/b")], country_code=country,
                      site_id=32)  # fmt: skip
    insert(rolled, with_dated_ids(rows))
    day = date(2024, 3, 10)
    rollups.build_rollups(rolled.events, day, site_ids=[32], min_filtered_visits=1)
    kept = rollups.filtered_rolled_days(rolled.events, 32, day, day, "entry_page",
                                        ("country_code",), "/a")  # fmt: skip
    cut = rollups.filtered_rolled_days(rolled.events, 32, day, day, "entry_page",
                                       ("country_code",), "/b")  # fmt: skip
    assert (kept, cut) == ([day], [])
    site = SiteInfo(32, "entries.example")
    body = {"date_range": ["2024-03-10", "2024-03-10"], "metrics": ["visitors", "percentage"],
            "dimensions": ["visit:country"]}  # fmt: skip
    for page, reads in (("/a", True), ("/b", False)):
        request = {**body, "filters": [["is", "visit:entry_page", [page]]]}
        with_rollups, without, used = both_ways(rolled, site, request)
        assert with_rollups == without and bool(used) == reads
    # The same cut for a page's visits in event_rollups: /a's eight are all from DE.
    on_page = rollups.event_rolled_days(rolled.events, 32, day, day, ("pathname", "/a"),
                                        ("country_code",))  # fmt: skip
    assert on_page == [day]


def test_event_rollups_key_goals_by_their_event_name(rolled: Stores) -> None:
    # A goal edited to count another event reads that event's rows: the rows are the
    # event's, not the goal's.
    edited = SiteInfo(UTC_SITE.id, UTC_SITE.domain, "UTC",
                      (GoalInfo("Signup", event_name="Outbound"),))  # fmt: skip
    body = {"date_range": RANGES[0], "metrics": ["visitors", "events", "conversion_rate"],
            "filters": [["is", "event:goal", ["Signup"]]]}  # fmt: skip
    signup, _, _ = both_ways(rolled, UTC_SITE, body)
    outbound, raw, used = both_ways(rolled, edited, body)
    assert outbound == raw and used
    # One Signup (visitor 101), one Outbound (visitor 103), each of one visitor of six.
    assert signup == outbound == [{"dimensions": [], "metrics": [1, 1, 16.67]}]
    by_source, raw, used = both_ways(rolled, edited, {**body, "metrics": ["visitors"],
                                                      "dimensions": ["visit:source"]})  # fmt: skip
    assert by_source == raw == [{"dimensions": ["Twitter"], "metrics": [1]}] and used


def test_a_small_site_day_reads_events_from_the_tables(rolled: Stores) -> None:
    # Below MIN_FILTERED_VISITS (the default here) the site-day has no event rows.
    insert(rolled, with_dated_ids(visit(461, 5, [("2024-03-10 10:00", "/x")], site_id=46)))
    day = date(2024, 3, 10)
    rollups.build_rollups(rolled.events, day, site_ids=[46], min_visits_per_row=1)
    assert rollups.event_rolled_days(rolled.events, 46, day, day, ("pathname", "/x"), ("",)) == []
    site = SiteInfo(46, "tiny.example")
    body = {"date_range": ["2024-03-10", "2024-03-10"], "metrics": ["visitors", "pageviews"],
            "filters": [["is", "event:page", ["/x"]]]}  # fmt: skip
    with_rollups, without, used = both_ways(rolled, site, body)
    assert with_rollups == without == [{"dimensions": [], "metrics": [1, 1]}] and not used


@pytest.mark.slow
def test_the_job_rolls_up_settled_days_once(rolled: Stores) -> None:
    insert(rolled, with_dated_ids(visit(301, 5, [("2025-01-10 23:50", "/")], site_id=41)))
    day = date(2025, 1, 10)
    # Not before the day is over and settled; the fixture's days are rolled up already.
    assert rollups.days_to_build(rolled.events, at("2025-01-11 01:00")) == []
    assert rollups.days_to_build(rolled.events, at("2025-01-11 02:30")) == [day]
    context = JobContext(rolled, 0, {})
    run_rollups(context)  # now: the day is long over
    assert context.payload["days"] == [day.isoformat()]
    assert rollups.days_to_build(rolled.events, at("2025-01-12 00:00")) == []
    assert rollups.rolled_days(rolled.events, 41, day, day + timedelta(days=1)) == [day]


# The rebuilds below send the SQL the module's fixture already sent to both backends when
# it rolled its days up: they run on embedded chDB only.
EMBEDDED_ONLY = pytest.mark.parametrize("rolled", ["embedded"], indirect=True)


@EMBEDDED_ONLY
def test_a_site_whose_zone_changed_reads_the_tables_until_its_days_are_cut_again(
    rolled: Stores,
) -> None:
    # Site 53's days were cut at Berlin's midnights (22:00 UTC in June). In New York its
    # local 06-05 and 06-06 are [06-05 04:00, 06-07 04:00) UTC: 06-05 from 04:00 is read
    # from the tables until the job cuts its days at 04:00. Visitor 72's visit crosses UTC
    # midnight (its own UTC day's id) inside the local 06-05; visitor 71's is before it.
    site = SiteInfo(53, "moved.example", "America/New_York")
    rows = visit(521, 71, [("2023-06-05 02:00", "/")], site_id=53)
    rows += visit(522, 72, [("2023-06-05 12:00", "/a"), ("2023-06-06 03:00", "/b")], site_id=53)
    rows += visit(523, 73, [("2023-06-06 10:00", "/")], site_id=53)
    insert(rolled, with_dated_ids(rows))
    days = [date(2023, 6, 5), date(2023, 6, 6)]
    for day in days:
        rollups.build_rollups(rolled.events, day, site_ids=[53], zones={53: BERLIN.timezone},
                              min_visits_per_row=1)  # fmt: skip
    now = at("2023-06-10 00:00")
    assert days_to_cut(rolled.events, {53: BERLIN.timezone}, now, 30) == []
    moved = days_to_cut(rolled.events, {53: site.timezone}, now, 30)
    assert moved == [(day, [53]) for day in reversed(days)]
    requests = [
        {"metrics": [*VISIT_METRICS, "pageviews", "events"]},
        {"metrics": ["visitors", "percentage"], "dimensions": ["visit:entry_page"]},
        {"metrics": ["visitors"], "dimensions": ["time:day"]},
    ]
    for cut in (False, True):
        if cut:
            for day, sites in moved:
                rollups.build_rollups(rolled.events, day, site_ids=sites,
                                      zones={53: site.timezone}, min_visits_per_row=1)  # fmt: skip
        CUT_READS.clear()
        for body in requests:
            with_rollups, without, used = both_ways(
                rolled, site, {"date_range": ["2023-06-05", "2023-06-06"], **body}
            )
            assert with_rollups == without and used, body
        assert (CUT_READS[site.timezone] == len(requests)) == cut, CUT_READS
    assert days_to_cut(rolled.events, {53: site.timezone}, now, 30) == []
    assert without[0]["metrics"] == [1]  # the graph: 72 on 06-05 (71's visit was the 04th)
    # The month before has no visit: its days read nothing, as if rolled up.
    month = {"date_range": ["2023-05-01", "2023-05-31"], **requests[0]}
    with_rollups, without, used = both_ways(rolled, site, month)
    assert with_rollups == without and without[0]["metrics"][:2] == [0, 0] and used


@pytest.mark.slow
def test_erasing_a_site_erases_its_rollups(rolled: Stores) -> None:
    insert(rolled, with_dated_ids(visit(401, 5, [("2024-03-10 10:00", "/")], site_id=9)))
    rollups.build_rollups(rolled.events, date(2024, 3, 10), site_ids=[9], min_visits_per_row=1,
                          min_filtered_visits=1)  # fmt: skip
    for table in ("visit_rollups", "filter_rollups", "event_rollups"):
        count = f"SELECT count() FROM {table} WHERE site_id = 9"
        assert first_value(rolled.events.query(count), 0) > 0
    delete_site_rows(rolled.events, 9)
    for table in ("visit_rollups", "filter_rollups", "event_rollups"):
        count = f"SELECT count() FROM {table} WHERE site_id = 9"
        assert first_value(rolled.events.query(count), 0) == 0


def test_a_custom_event_keeps_rows_that_hold_fewer_visits_than_a_page(rolled: Stores) -> None:
    # Four visits of a day in two countries, each with a Signup: two a row. The page's
    # rows by country are cut (MIN_VISITS_PER_ROW), the custom event's kept (fewer keys).
    rows: list[dict[str, Any]] = []
    for n, country in enumerate(["DE", "DE", "US", "US"]):
        where = {"site_id": 91, "country_code": country}
        rows += visit(911 + n, 30 + n, [("2024-03-10 10:00", "/")], **where)
        rows += [event("2024-03-10 10:01", name="Signup", session_id=911 + n,
                       visitor_id=30 + n, entry_page="/", **where)]  # fmt: skip
    insert(rolled, with_dated_ids(rows))
    day = date(2024, 3, 10)
    rollups.build_rollups(rolled.events, day, site_ids=[91], min_filtered_visits=1)
    by_country = ("country_code",)
    assert rollups.event_rolled_days(rolled.events, 91, day, day, ("name", "Signup"),
                                     by_country) == [day]  # fmt: skip
    assert rollups.event_rolled_days(rolled.events, 91, day, day, ("pathname", "/"),
                                     by_country) == []  # fmt: skip
    site = SiteInfo(91, "signups.example", "UTC", (GoalInfo("Signup", event_name="Signup"),))
    body = {"date_range": ["2024-03-10", "2024-03-10"], "metrics": ["visitors"],
            "dimensions": ["visit:country"], "filters": [["is", "event:goal", ["Signup"]]]}  # fmt: skip
    with_rollups, without, used = both_ways(rolled, site, body)
    assert with_rollups == without and used
    assert [row["metrics"][0] for row in without] == [2, 2]


def test_a_small_site_day_is_filtered_from_the_tables(rolled: Stores) -> None:
    # Below MIN_FILTERED_VISITS a site-day says it is not rolled up by filter.
    rows = visit(451, 5, [("2024-03-10 10:00", "/")], site_id=45, country_code="DE")
    insert(rolled, with_dated_ids(rows))
    day = date(2024, 3, 10)
    rollups.build_rollups(rolled.events, day, site_ids=[45], min_visits_per_row=1)
    assert rollups.rolled_days(rolled.events, 45, day, day) == [day]
    assert rollups.filtered_rolled_days(rolled.events, 45, day, day, "country_code", ("",)) == []
    site = SiteInfo(45, "tiny.example")
    body = {"date_range": ["2024-03-10", "2024-03-10"], "metrics": ["visitors"],
            "filters": [["is", "visit:country", ["DE"]]]}  # fmt: skip
    with_rollups, without, used = both_ways(rolled, site, body)
    assert with_rollups == without == [{"dimensions": [], "metrics": [1]}] and not used


@pytest.mark.slow
def test_retention_trims_rollups_with_the_tables(rolled: Stores) -> None:
    rows = visit(501, 5, [("2024-03-10 10:00", "/")], site_id=51)
    rows += visit(502, 6, [("2024-03-12 10:00", "/")], site_id=51)
    insert(rolled, with_dated_ids(rows))
    for day in (date(2024, 3, 10), date(2024, 3, 12)):
        rollups.build_rollups(rolled.events, day, site_ids=[51], min_visits_per_row=1,
                              min_filtered_visits=1)  # fmt: skip
    apply_retention(rolled.events, {51: at("2024-03-11 00:00")})
    for table in ("visit_rollups", "filter_rollups", "event_rollups"):
        days = f"SELECT DISTINCT toString(day) FROM {table} WHERE site_id = 51 ORDER BY 1"
        assert [r[0] for r in rolled.events.query(days).rows] == ["2024-03-12"]
    assert rollups.rolled_days(rolled.events, 51, date(2024, 3, 10), date(2024, 3, 12)) == [
        date(2024, 3, 12)
    ]


@pytest.mark.slow
def test_a_visit_that_goes_on_after_its_day_is_rolled_up_again(rolled: Stores) -> None:
    day = date(2024, 3, 14)
    first = with_dated_ids(visit(601, 7, [("2024-03-14 23:50", "/")], site_id=61))
    insert(rolled, first)
    rollups.build_rollups(rolled.events, day, site_ids=[61], min_visits_per_row=1)
    assert rollups.days_to_refresh(rolled.events, at("2024-03-15 03:00")) == []
    # The visit goes on past 02:00 (after the job rolled the day up): one more pageview.
    later = [row | {"timestamp": at("2024-03-15 02:30"), "pathname": "/later"} for row in first]
    insert(rolled, later)
    assert rollups.days_to_refresh(rolled.events, at("2024-03-15 03:00")) == [day]
    rollups.build_rollups(rolled.events, day, site_ids=[61], min_visits_per_row=1)
    assert rollups.days_to_refresh(rolled.events, at("2024-03-15 03:00")) == []
    site = SiteInfo(61, "long.example")
    body = {"date_range": ["2024-03-14", "2024-03-15"], "metrics": ["visitors", "pageviews"]}
    by_exit = {**body, "metrics": ["visitors", "visits"], "dimensions": ["visit:exit_page"]}
    for request in (body, by_exit):
        with_rollups, without, used = both_ways(rolled, site, request)
        assert with_rollups == without and used
    assert both_ways(rolled, site, body)[0] == [{"dimensions": [], "metrics": [1, 2]}]


def test_visits_from_the_day_before_come_from_its_carried_rows(rolled: Stores) -> None:
    rows = visit(701, 7, [("2024-03-12 23:50", "/"), ("2024-03-13 00:20", "/b")], site_id=71,
                 source="Google")  # fmt: skip
    rows += visit(702, 8, [("2024-03-13 10:00", "/")], site_id=71)
    rows += visit(703, 9, [("2024-03-12 10:00", "/")], site_id=71, source="Bing")
    insert(rolled, with_dated_ids(rows))
    for day in (date(2024, 3, 12), date(2024, 3, 13)):
        rollups.build_rollups(rolled.events, day, site_ids=[71], min_visits_per_row=1)
    site = SiteInfo(71, "carry.example")
    body = {"date_range": ["2024-03-13", "2024-03-13"]}
    windows: list[Any] = []

    def keep(*args: Any) -> Any:
        windows.append(rolled_window(*args))
        return windows[-1]

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(engine, "rolled_window", keep)
        aggregate = run_query(
            rolled.events, site, {"site_id": site.domain, **body,
                                  "metrics": ["visitors", "visits", "bounce_rate"]}, now=NOW,
        )  # fmt: skip
    assert windows[0] is not None and windows[0].carry
    # The visit from 23:50 the day before is in the range by its 00:20 pageview.
    assert aggregate["results"] == [{"dimensions": [], "metrics": [2, 2, 50]}]
    for request in (
        {**body, "metrics": ["visitors", "visits", "bounce_rate", "visit_duration"]},
        {**body, "metrics": ["visitors", "percentage"], "dimensions": ["visit:source"]},
        {**body, "metrics": ["visitors"], "dimensions": ["visit:exit_page"]},
    ):
        with_rollups, without, used = both_ways(rolled, site, request)
        assert with_rollups == without and used


# Site 81, in UTC, days 2024-04-01..05 rolled up but the 5th ("today", at EDGE_NOW): the
# edges of event filters' rollup reads. A visit from before the range into it (one into
# its second day), visits across midnight inside it and past its end, a custom event on a
# page its visit did not view (the page matches, its page goal does not), today's
# partial day.
EDGE_SITE = SiteInfo(81, "edges.example", "UTC", (
    GoalInfo("Signup", event_name="Signup"), GoalInfo("Visit /pricing", page_path="/pricing"),
    GoalInfo("Visit /", page_path="/"),
))  # fmt: skip
EDGE_NOW = at("2024-04-05 12:00")
EDGE_RANGES = [["2024-04-01", "2024-04-03"], ["2024-04-01", "2024-04-04"],
               ["2024-04-02", "2024-04-04"], ["2024-04-01", "2024-04-05"],
               ["2024-04-03", "2024-04-03"], ["2024-04-05", "2024-04-05"]]  # fmt: skip
EDGE_FILTERS = [
    ["is", "event:page", ["/pricing"]], ["is", "event:page", ["/"]],
    ["is", "event:goal", ["Signup"]], ["is", "event:goal", ["Visit /pricing"]],
    ["is", "event:goal", ["Visit /"]], ["is", "event:name", ["Signup"]],
]  # fmt: skip


def edge_rows() -> list[dict[str, Any]]:
    site = {"site_id": 81}
    de, us = {"country_code": "DE", "source": "Google"}, {"country_code": "US"}
    rows = visit(1, 11, [("2024-03-31 23:50", "/"), ("2024-04-01 00:10", "/pricing")], **site, **de)
    rows += [event("2024-04-01 00:12", name="Signup", pathname="/pricing", session_id=1,
                   visitor_id=11, **site, **de)]  # fmt: skip
    rows += visit(2, 21, [("2024-04-01 10:00", "/")], **site, **us)
    rows += [event("2024-04-01 10:01", name="Signup", pathname="/pricing", session_id=2,
                   visitor_id=21, entry_page="/", **site, **us)]  # fmt: skip
    rows += visit(3, 31, [("2024-04-02 23:55", "/pricing"), ("2024-04-03 00:05", "/")], **site)
    rows += visit(4, 41, [("2024-04-03 09:00", "/pricing")], **site, **de)
    rows += [event("2024-04-03 09:02", name="Signup", pathname="/pricing", session_id=4,
                   visitor_id=41, entry_page="/pricing", **site, **de)]  # fmt: skip
    rows += visit(5, 42, [("2024-04-03 12:00", "/")], **site, **us)
    rows += visit(6, 51, [("2024-04-04 23:58", "/pricing"), ("2024-04-05 00:03", "/pricing")],
                  **site, **us)  # fmt: skip
    rows += visit(7, 61, [("2024-04-05 10:00", "/pricing"), ("2024-04-05 10:02", "/")], **site)
    rows += visit(8, 41, [("2024-04-03 15:00", "/")], **site, **de)  # visitor 41 again
    # A long visit from before the range into its second day: that day's events are read.
    rows += visit(9, 71, [("2024-03-31 23:45", "/"), ("2024-04-02 10:00", "/pricing")], **site)
    return with_dated_ids(rows)


# Every (range, filter) pair with a third of the panels, so that each (filter, panel) pair
# is asked over two ranges (all of them took 38 s of CPU); on the ClickHouse server (the
# same SQL, bound server-side) the widest range, every filter and panel.
def test_event_filters_at_the_edges_of_rolled_up_days(
    rolled: Stores, request: pytest.FixtureRequest
) -> None:
    embedded = request.node.callspec.params["rolled"] == "embedded"
    insert(rolled, edge_rows())
    days = [date(2024, 3, 31) + timedelta(days=n) for n in range(5)]
    for day in days:
        rollups.build_rollups(rolled.events, day, site_ids=[81], min_visits_per_row=1,
                              min_filtered_visits=1)  # fmt: skip
    failures, reads = [], 0
    ranges = list(enumerate(EDGE_RANGES)) if embedded else [(3, EDGE_RANGES[3])]
    for r, dates in ranges:
        for f, condition in enumerate(EDGE_FILTERS):
            for p, panel in enumerate(event_filtered_panels()):
                if embedded and (r + f + p) % 3:
                    continue
                if "conversion_rate" in panel["metrics"] and condition[1] != "event:goal":
                    continue
                body = {"site_id": EDGE_SITE.domain, "date_range": dates, "filters": [condition],
                        **panel}  # fmt: skip
                answers = []
                for window in (rolled_window, lambda *args: None):
                    with pytest.MonkeyPatch.context() as patch:
                        patch.setattr(engine, "rolled_window", window)
                        answers.append(run_query(rolled.events, EDGE_SITE, body, now=EDGE_NOW))
                reads += rolled_window(rolled.events, engine.prepare(
                    rolled.events, EDGE_SITE, body, now=EDGE_NOW)) is not None  # fmt: skip
                if answers[0]["results"] != answers[1]["results"]:
                    failures.append(f"{body}: rollups say {answers[0]['results']},"
                                    f" tables {answers[1]['results']}")  # fmt: skip
    assert not failures, "\n".join(failures)
    assert reads > 30
    # The page goal counts pageviews only: visit 2's Signup on /pricing is not a view.
    body = {"date_range": ["2024-04-01", "2024-04-03"], "metrics": ["visitors", "events"]}
    on_page = {**body, "filters": [["is", "event:page", ["/pricing"]]]}
    goal = {**body, "filters": [["is", "event:goal", ["Visit /pricing"]]]}
    page_answer, raw, used = both_ways(rolled, EDGE_SITE, on_page)
    assert page_answer == raw == [{"dimensions": [], "metrics": [5, 7]}] and used
    goal_answer, raw, used = both_ways(rolled, EDGE_SITE, goal)
    assert goal_answer == raw == [{"dimensions": [], "metrics": [4, 4]}] and used
    # A page goal edited later to another page reads that page's rows.
    edited = SiteInfo(81, "edges.example", "UTC", (GoalInfo("Visit /pricing", page_path="/"),))
    answer, raw, used = both_ways(rolled, edited, goal)
    assert answer == raw == both_ways(rolled, EDGE_SITE, {
        **body, "filters": [["is", "event:goal", ["Visit /"]]]})[0] and used  # fmt: skip
    # A day built before the page goals' rows lacks their mark: read from the tables (and
    # built again by the job).
    mark = ("DELETE FROM event_rollups WHERE site_id = 81 AND day = '2024-04-02'"
            " AND filter = 'pageview' AND filter_value = '' AND column = ''")  # fmt: skip
    rolled.events.command(mark)
    rollups._forget_lookups(rolled.events)
    key = ("pageview", "/pricing")
    assert rollups.event_rolled_days(rolled.events, 81, days[1], days[4], key, ("",)) == [
        days[1], days[3], days[4]]  # fmt: skip
    assert date(2024, 4, 2) in rollups.days_to_build(rolled.events, EDGE_NOW)
    answer, raw, used = both_ways(rolled, EDGE_SITE, goal)
    assert answer == raw == [{"dimensions": [], "metrics": [4, 4]}]
    rollups.build_rollups(rolled.events, days[2], site_ids=[81], min_visits_per_row=1,
                          min_filtered_visits=1)  # fmt: skip
    assert rollups.event_rolled_days(rolled.events, 81, days[1], days[4], key, ("",)) == days[1:]
    assert_on_day_rows_end_a_range(rolled)


def assert_on_day_rows_end_a_range(rolled: Stores) -> None:
    """A range that ends on a day with a visit that went on past midnight (visit 3: /pricing
    on 2 April at 23:55, then / after midnight) reads that day's ON_DAY rows, of the visits
    with a matching event that day: visit 3 counts for /pricing, not for /."""

    def window(request: dict[str, Any]) -> Any:
        body = {"site_id": EDGE_SITE.domain, **request}
        return rolled_window(rolled.events, engine.prepare(rolled.events, EDGE_SITE, body,
                                                           now=EDGE_NOW))  # fmt: skip

    two_days = {"date_range": ["2024-04-01", "2024-04-02"]}
    by_country = {"metrics": ["visitors", "percentage"], "dimensions": ["visit:country"]}
    for page, visitors in (("/", 1), ("/pricing", 4)):
        filtered = {**two_days, "filters": [["is", "event:page", [page]]]}
        for panel in ({"metrics": ["visitors", "visits", "bounce_rate"]}, by_country):
            answer, raw, used = both_ways(rolled, EDGE_SITE, {**filtered, **panel})
            assert answer == raw and used, (page, panel)
        top = both_ways(rolled, EDGE_SITE, {**filtered, "metrics": ["visitors"]})[0]
        assert top == [{"dimensions": [], "metrics": [visitors]}]
        found = window({**filtered, "metrics": ["visitors"]})
        assert found is not None and found.on_day_last and found.last == date(2024, 4, 2)
    # A day built before the ON_DAY rows lacks their mark: its last day is read from the
    # tables (the same answers), and the job builds it again.
    on_page = {**two_days, "metrics": ["visitors"], "filters": [["is", "event:page", ["/"]]]}
    rolled.events.command("DELETE FROM event_rollups WHERE site_id = 81 AND day = '2024-04-02'"
                          " AND filter = '~' AND filter_value = '' AND column = ''")  # fmt: skip
    rollups._forget_lookups(rolled.events)
    assert date(2024, 4, 2) in rollups.days_to_build(rolled.events, EDGE_NOW)
    found = window(on_page)
    assert found is None or (not found.on_day_last and found.last < date(2024, 4, 2))
    answer, raw, _ = both_ways(rolled, EDGE_SITE, on_page)
    assert answer == raw == [{"dimensions": [], "metrics": [1]}]
    rollups.build_rollups(rolled.events, date(2024, 4, 2), site_ids=[81], min_visits_per_row=1,
                          min_filtered_visits=1)  # fmt: skip
    assert window(on_page).on_day_last


@EMBEDDED_ONLY
def test_a_data_dir_from_before_filter_rollups_gets_them(rolled: Stores) -> None:
    # The module's data dir as it was before 0006 (data and visit_rollups): the migration
    # adds the table, and the job builds its days again; filtered queries then read it.
    # Last in the module: it leaves the data dir as it found it.
    # The same for event_rollups (0011).
    stores = rolled
    for table, version in (("filter_rollups", 6), ("event_rollups", 11)):
        stores.events.command(f"DROP TABLE {table}")
        stores.events.command(f"DELETE FROM jetrack_migrations WHERE version = {version}")
    body = {"date_range": RANGES[0], "metrics": ["visitors", "bounce_rate"],
            "dimensions": ["visit:source"], "filters": [["is", "visit:country", ["DE"]]]}  # fmt: skip
    on_page = {**body, "filters": [["is", "event:page", ["/"]]]}
    assert migrate_events(stores.events) == ["0006_filter_rollups.sql", "0011_event_rollups.sql"]
    before = [both_ways(stores, UTC_SITE, request) for request in (body, on_page)]
    assert all(answer == raw and not used for answer, raw, used in before)
    days = rollups.days_to_build(stores.events, NOW)
    assert {date(2024, 3, 9), date(2024, 3, 10)} <= set(days)
    for day in days:
        rollups.build_rollups(stores.events, day, min_visits_per_row=1, min_filtered_visits=1)
    for request, (answer, _, _) in zip((body, on_page), before, strict=True):
        after, raw, used = both_ways(stores, UTC_SITE, request)
        assert after == raw == answer and used
    assert rollups.days_to_build(stores.events, NOW) == []


def test_top_stats_and_their_comparison_are_one_statement(rolled: Stores) -> None:
    # The two periods' rows come from one statement, as they would from two.
    body = {"site_id": UTC_SITE.domain, "date_range": RANGES[0],
            "metrics": [*VISIT_METRICS, "pageviews", "events"],
            "include": {"comparisons": {"mode": "previous_period"}}}  # fmt: skip
    statements: list[str] = []
    real = engine.execute

    def counting(events: Any, statement: Any) -> Any:
        if "FROM imported_" not in statement.sql:  # the imported days' lookup
            statements.append(statement.sql)
        return real(events, statement)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(engine, "execute", counting)
        folded = run_query(rolled.events, UTC_SITE, body, now=NOW)
        assert len(statements) == 1 and "UNION ALL SELECT 1, *" in statements[0], statements
        patch.setattr(engine, "_folds_comparison", lambda query: False)
        apart = run_query(rolled.events, UTC_SITE, body, now=NOW)
    assert len(statements) == 3
    assert folded == apart
    assert folded["results"][0]["metrics"][0] > 0
    assert folded["results"][0]["comparison"]["metrics"] != folded["results"][0]["metrics"]
