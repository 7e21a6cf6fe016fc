"""Stats query benchmark: 10M synthetic events over 100 sites (one with 2M) across 30 days
in a fresh encrypted data dir, then a full dashboard's queries for the big site, timed; then
the same dashboard filtered by a goal (conversion mode) and two funnels (3 steps, and 3
steps with a source filter).

    .venv/bin/python bench/query.py [--events 10000000] [--big 2000000] [--runs 15]

Prints per-query p50/p95, each suite's total p50/p95 and bytes on disk per event (events,
events_by_page, sessions and daily rollups). The events are inserted with SQL, so the sessions table is
filled by `rebuild_sessions` afterwards and the days are rolled up as the hourly job would
once they are over (also for a `--keep` data dir made before either existed)."""

from __future__ import annotations

import argparse
import json
import math
import os
import secrets
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

from jetrack.config import load_settings
from jetrack.stats.engine import QueryError, run_query
from jetrack.stats.funnel import FunnelInfo, run_funnel
from jetrack.stats.query import GoalInfo, SiteInfo
from jetrack.store.cut_rollups import days_to_cut
from jetrack.store.events import first_value
from jetrack.store.ids import SEQUENCE_BITS
from jetrack.store.rollups import build_rollups, days_to_build
from jetrack.store.schema import EVENT_COLUMNS
from jetrack.store.sessions import rebuild_sessions
from jetrack.store.stores import Stores, open_stores

BIG_SITE = 1
ROLLUP_TABLES = ("visit_rollups", "filter_rollups", "event_rollups")
BENCH_KEY = "5e" * 32  # only for --keep, so a kept data dir can be reopened
DAYS = 30
END = datetime(2024, 6, 1, tzinfo=UTC)  # data covers the 30 days before this instant

# Session-level values are derived from a per-session hash `h`, event-level ones from a
# per-event hash `e`; pow(x, k) skews towards the first entries (Zipf-like).
_PICK = (
    "arrayElement({arr}, 1 + toUInt32(pow(((({h}) % 1000003) / 1000003.0), {k}) * length({arr})))"
)


def pick(values: list[str], h: str, k: float = 2.5) -> str:
    arr = "[" + ", ".join("'" + v + "'" for v in values) + "]"
    return _PICK.format(arr=arr, h=h, k=k)


SOURCES = ["", "Google", "Twitter", "Hacker News", "Bing", "Reddit", "DuckDuckGo", "Facebook",
           "LinkedIn", "Newsletter", "GitHub", "Product Hunt", "Mastodon", "Ecosia"]  # fmt: skip
COUNTRIES = ["US", "DE", "GB", "FR", "IN", "CA", "NL", "BR", "ES", "IT", "PL", "SE", "AU",
             "JP", "CH", "AT", "BE", "DK", "FI", "NO", "IE", "PT", "CZ", "RO", "MX", "AR",
             "TR", "UA", "ZA", "NG", "KR", "SG", "ID", "VN", "PH", "EG", "IL", "NZ", "GR"]  # fmt: skip
BROWSERS = ["Chrome", "Safari", "Firefox", "Edge", "Samsung Internet", "Opera", "Brave"]
OSES = ["Windows", "Mac", "iOS", "Android", "GNU/Linux", "ChromeOS"]
DEVICES = ["Desktop", "Mobile", "Laptop", "Tablet"]
LANGS = ["en", "de", "fr", "es", "pt", "it", "nl", "pl", "ja", "sv"]
CHANNELS = ["Direct", "Organic Search", "Organic Social", "Referral", "Email"]
CUSTOM = ["Signup", "Download", "Outbound Link: Click"]


VISITS_COLUMNS = "site_id UInt32, s UInt64, start DateTime('UTC'), session_id UInt64"


def visits_sql(site_expr: str, first: int, count: int) -> str:
    """Visits `first`..`first + count - 1`: site and start time (spread over the 30 days)."""
    h = "cityHash64(s, 7)"
    begin = int((END - timedelta(days=DAYS)).timestamp())
    return f"""
INSERT INTO bench_visits (site_id, s, start)
SELECT {site_expr} AS site_id, s, toDateTime({begin} + ({h} % {DAYS * 86400}), 'UTC') AS start
FROM (SELECT number + {first} AS s FROM numbers({count}))
"""


# Visit ids as ingestion makes them (jetrack.store.ids.session_id_at): the start second
# above one sequence that counts visits of all sites in the order they start.
NUMBER_VISITS = f"""
INSERT INTO bench_numbered
SELECT site_id, s, start,
       bitOr(bitShiftLeft(toUInt64(toUnixTimestamp(start)), {SEQUENCE_BITS}),
             (row_number() OVER (ORDER BY start, s) + 12345) % {1 << SEQUENCE_BITS})
FROM bench_visits
"""


def insert_sql(where: str, limit: int) -> str:
    """Visits of 1-6 events (ARRAY JOIN), ~8% custom events, ~15% engagement pings."""
    h = "cityHash64(s, 7)"
    e = "cityHash64(s, pos, 11)"
    page = f"concat('/', {pick([f'p{i}' for i in range(400)], e + ' % 999983', 3.0)})"
    entry = f"concat('/', {pick([f'p{i}' for i in range(400)], h + ' % 999983', 3.0)})"
    kind = f"({e} % 100)"
    name = f"if(pos = 0 OR {kind} < 77, 'pageview', if({kind} < 85, {pick(CUSTOM, e, 1.5)}, 'engagement'))"
    country = pick(COUNTRIES, "cityHash64(s, 23)", 2.5)
    return f"""
INSERT INTO events ({", ".join(EVENT_COLUMNS)})
SELECT
  site_id,
  start + pos * (20 + {e} % 300) AS timestamp,
  {name} AS name,
  -- 32-bit, fixed per visit and per day, as ingestion makes it
  cityHash64(site_id, toDate(start), intDiv(s, 2)) % 4294967296 AS visitor_id,
  session_id,
  'example.com' AS hostname,
  if(pos = 0, {entry}, {page}) AS pathname,
  if(source = '', '', concat(lower(replaceAll(source, ' ', '')), '.com/')) AS referrer,
  {pick(SOURCES, "cityHash64(s, 21)", 2.0)} AS source,
  {pick(CHANNELS, "cityHash64(s, 22)", 2.0)} AS channel,
  if({h} % 10 = 0, 'email', '') AS utm_medium,
  if({h} % 10 = 0, 'newsletter', '') AS utm_source,
  if({h} % 10 = 0, concat('issue-', toString({h} % 20)), '') AS utm_campaign,
  '' AS utm_content, '' AS utm_term, '' AS click_id_param,
  {entry} AS entry_page,
  {country} AS country_code,
  concat({country}, '-', toString({h} % 12)) AS region_code,
  concat('City ', toString({h} % 300)) AS city,
  toUInt32(0) AS city_geoname_id,
  {pick(DEVICES, "cityHash64(s, 24)", 2.0)} AS device,
  {pick(DEVICES, "cityHash64(s, 24)", 2.0)} AS screen_size,
  {pick(BROWSERS, "cityHash64(s, 25)", 2.0)} AS browser,
  toString(100 + {h} % 30) AS browser_version,
  {pick(OSES, "cityHash64(s, 26)", 2.0)} AS os,
  toString({h} % 15) AS os_version,
  {pick(LANGS, "cityHash64(s, 27)", 2.0)} AS language,
  if(name IN ('Signup', 'Download'), map('plan', if({e} % 3 = 0, 'pro', 'free')), map()) AS props,
  toDecimal64(0, 3) AS revenue_amount,
  '' AS revenue_currency,
  toUInt8(name != 'engagement' AND name != 'Outbound Link: Click') AS interactive,
  toUInt8(if(name = 'engagement', {e} % 101, 0)) AS scroll_depth,
  toUInt32(if(name = 'engagement', {e} % 120000, 0)) AS engagement_ms,
  toUInt32(0) AS import_id
FROM bench_numbered
ARRAY JOIN range(toUInt8(1 + cityHash64(s, 3) % 6)) AS pos
WHERE {where}
LIMIT {limit}
"""


def generate(stores: Stores, total: int, big: int) -> float:
    started = time.perf_counter()
    events = stores.events
    for table in ("bench_visits", "bench_numbered"):
        events.command(f"CREATE TABLE {table} ({VISITS_COLUMNS}) ENGINE = Memory")
    # ~3.5 events per visit on average (1-6); a few more visits than needed, cut by LIMIT.
    big_visits, rest_visits = int(big / 3.5) + 1000, int((total - big) / 3.5 * 1.02) + 1000
    events.command(visits_sql(str(BIG_SITE), 0, big_visits))
    events.command(visits_sql("toUInt32(2 + s % 99)", big_visits, rest_visits))
    events.command(NUMBER_VISITS)
    events.command(insert_sql(f"site_id = {BIG_SITE}", big))
    # The other sites' events in parts of at most ~400,000: one INSERT of 1.6M went past a
    # statement's memory under JETRACK_MEMORY_LIMIT=512M (192 MB) once the table had 35 columns.
    parts = max(1, (total - big) // 400_000)
    for part in range(parts):
        share = (total - big) // parts + (1 if part < (total - big) % parts else 0)
        events.command(insert_sql(f"site_id != {BIG_SITE} AND s % {parts} = {part}", share))
    for table in ("bench_visits", "bench_numbered"):
        events.command(f"DROP TABLE {table}")
    return time.perf_counter() - started


def dashboard(first: str, last: str) -> list[tuple[str, dict[str, Any]]]:
    base: dict[str, Any] = {"site_id": "big.example", "date_range": [first, last]}
    top = {"pagination": {"limit": 9}}
    return [
        ("aggregate + comparison", {**base, "metrics": ["visitors", "visits", "pageviews",
         "views_per_visit", "bounce_rate", "visit_duration"],
         "include": {"comparisons": {"mode": "previous_period"}}}),
        ("main graph", {**base, "metrics": ["visitors"], "dimensions": ["time:day"],
         "include": {"time_labels": True}}),
        ("sources", {**base, "metrics": ["visitors"], "dimensions": ["visit:source"], **top}),
        ("pages", {**base, "metrics": ["visitors"], "dimensions": ["event:page"], **top}),
        ("entry pages", {**base, "metrics": ["visitors", "visits"],
         "dimensions": ["visit:entry_page"], **top}),
        ("exit pages", {**base, "metrics": ["visitors", "visits"],
         "dimensions": ["visit:exit_page"], **top}),
        ("countries", {**base, "metrics": ["visitors", "percentage"],
         "dimensions": ["visit:country"]}),
        ("regions", {**base, "metrics": ["visitors"], "dimensions": ["visit:region"], **top}),
        ("browsers", {**base, "metrics": ["visitors", "percentage"],
         "dimensions": ["visit:browser"], **top}),
        ("operating systems", {**base, "metrics": ["visitors", "percentage"],
         "dimensions": ["visit:os"], **top}),
        ("devices", {**base, "metrics": ["visitors", "percentage"],
         "dimensions": ["visit:device"], **top}),
    ]  # fmt: skip


GOAL = [["is", "event:goal", ["Signup"]]]
CONVERSIONS = ["visitors", "events", "conversion_rate"]
GOALS = (
    GoalInfo("Signup", event_name="Signup"),
    GoalInfo("Download", event_name="Download"),
    GoalInfo("Visit /p0", page_path="/p0"),
    GoalInfo("Visit /p1", page_path="/p1"),
)
# The pages' Zipf-like spread makes /p0 and /p1 the two most viewed; ~8% of events are custom.
FUNNEL = FunnelInfo(1, "p0 -> p1 -> Signup", ("Visit /p0", "Visit /p1", "Signup"))


def goal_dashboard(
    first: str, last: str, goal: list[list[Any]] = GOAL
) -> list[tuple[str, dict[str, Any]]]:
    """The dashboard with the goal Signup (or `goal`) filtered, as the dashboard asks it
    then: the top stats and graph in conversions, every panel of the goal's visitors, the
    Goals panel."""
    queries: list[tuple[str, dict[str, Any]]] = []
    for name, request in dashboard(first, last):
        request = {**request, "filters": goal}
        if name == "aggregate + comparison":
            request["metrics"] = CONVERSIONS
        queries.append((name, request))
    base = {"site_id": "big.example", "date_range": [first, last], "filters": goal}
    queries.append(("goals", {**base, "metrics": CONVERSIONS, "dimensions": ["event:goal"]}))
    return queries


# One filter of each kind the dashboard offers (values among the common ones of the data),
# and two together: the dashboard with them, as with the goal above.
FILTERS: dict[str, list[list[Any]]] = {
    "country": [["is", "visit:country", ["DE"]]],
    "source": [["is", "visit:source", ["Google"]]],
    "device": [["is", "visit:device", ["Mobile"]]],
    "browser": [["is", "visit:browser", ["Firefox"]]],
    "page": [["is", "event:page", ["/p1"]]],
    "entry page": [["is", "visit:entry_page", ["/p0"]]],
    "UTM source": [["is", "visit:utm_source", ["newsletter"]]],
    "country + source": [["is", "visit:country", ["DE"]], ["is", "visit:source", ["Google"]]],
    # Other pairs (issue 17: no worse than before): two common values, a visit and a page.
    "device + browser": [["is", "visit:device", ["Desktop"]], ["is", "visit:browser", ["Chrome"]]],
    "country + page": [["is", "visit:country", ["DE"]], ["is", "event:page", ["/p1"]]],
}
# Goal-filtered dashboards (as goal_dashboard asks them) that --filters may name too.
GOAL_FILTERS: dict[str, list[list[Any]]] = {
    "goal": GOAL,
    "page goal": [["is", "event:goal", ["Visit /p0"]]],
}


def filtered_dashboard(
    first: str, last: str, filters: list[list[Any]]
) -> list[tuple[str, dict[str, Any]]]:
    """The dashboard with `filters`; with a page filter, the top stats without views per
    visit, as the dashboard asks them (frontend/src/state.ts)."""
    by_page = any(f[1] == "event:page" for f in filters)
    queries: list[tuple[str, dict[str, Any]]] = []
    for name, request in dashboard(first, last):
        request = {**request, "filters": filters}
        if by_page and name == "aggregate + comparison":
            request["metrics"] = [m for m in request["metrics"] if m != "views_per_visit"]
        queries.append((name, request))
    return queries


def funnels(first: str, last: str) -> list[tuple[str, dict[str, Any]]]:
    base = {"site_id": "big.example", "funnel_id": FUNNEL.id, "date_range": [first, last]}
    return [
        ("funnel, 3 steps", base),
        ("funnel, source filter", {**base, "filters": [["is", "visit:source", ["Google"]]]}),
    ]


Call = tuple[str, Callable[[], object]]


Figures = dict[str, tuple[float, float]]  # suite -> (whole p50, CPU time p50), ms


def time_dashboard(
    stores: Stores,
    zone: str,
    runs: int,
    filters: list[str],
    plain: bool = False,
    only_filters: bool = False,
) -> Figures:
    """The big site's dashboard over 30 days in time zone `zone` (plain, with a goal
    filtered, with each of `filters` (names in FILTERS), and funnels): p50/p95 per query
    and per suite; returns each suite's medians."""
    site = SiteInfo(BIG_SITE, "big.example", zone, GOALS)
    last = (END - timedelta(days=1)).date()
    first = last - timedelta(days=DAYS - 1)

    def queries(requests: list[tuple[str, dict[str, Any]]]) -> list[Call]:
        return [
            (name, partial(run_query, stores.events, site, request, now=END))
            for name, request in requests
        ]

    span = (first.isoformat(), last.isoformat())
    print(f"\nsite time zone {zone}")
    figures: Figures = {}
    figures["dashboard"] = time_suite("dashboard", queries(dashboard(*span)), runs)
    if plain:
        return figures
    for name in filters:
        if name in GOAL_FILTERS:
            suite = queries(goal_dashboard(*span, GOAL_FILTERS[name]))
        else:
            suite = queries(filtered_dashboard(*span, FILTERS[name]))
        figures[name] = time_suite(f"filter: {name}", suite, runs)
    if only_filters:
        return figures
    figures["goal"] = time_suite("goal-filtered dashboard", queries(goal_dashboard(*span)), runs)
    funnel_calls: list[Call] = [
        (name, partial(run_funnel, stores.events, site, FUNNEL, request, now=END))
        for name, request in funnels(*span)
    ]
    figures["funnels"] = time_suite("funnels", funnel_calls, runs)
    answer = run_funnel(stores.events, site, FUNNEL, funnels(*span)[0][1], now=END)
    steps = ", ".join(f"{s['label']} {s['visitors']:,}" for s in answer["steps"])
    print(f"  ({FUNNEL.name}: {answer['all_visitors']:,} visitors; {steps})")
    return figures


def print_summary(zone: str, figures: Figures) -> None:
    """Each suite's medians, and its ratio to the unfiltered dashboard of the same run."""
    plain = figures["dashboard"][0]
    print(f"\nsummary, {zone}{'whole p50':>13}{'CPU p50':>9}{'x plain':>9}")
    for name, (wall, cpu) in figures.items():
        print(f"  {name:<{len(zone) + 7}}{wall:>11.1f}{cpu:>9.1f}{wall / plain:>9.2f}")


def time_suite(title: str, calls: list[Call], runs: int) -> tuple[float, float]:
    timings: dict[str, list[float]] = {name: [] for name, _ in calls}
    totals: list[float] = []
    cpu: list[float] = []  # CPU time of the process (all chDB threads): less noisy
    for run in range(runs + 1):  # the first run warms caches and is dropped
        run_total = 0.0
        cpu_started = time.process_time()
        for name, call in calls:
            started = time.perf_counter()
            try:
                call()
            except QueryError as exc:  # past the query time limit (a big site, a busy machine)
                print(f"{title}: {name}: {exc}")
                return math.nan, math.nan
            elapsed = (time.perf_counter() - started) * 1000
            run_total += elapsed
            if run:
                timings[name].append(elapsed)
        if run:
            totals.append(run_total)
            cpu.append((time.process_time() - cpu_started) * 1000)
    print(f"{title:<24}{'p50 ms':>9}{'p95 ms':>9}")
    for name, values in timings.items():
        print(f"  {name:<22}{percentile(values, 0.5):>9.1f}{percentile(values, 0.95):>9.1f}")
    print(f"  {'whole':<22}{percentile(totals, 0.5):>9.1f}{percentile(totals, 0.95):>9.1f}")
    print(f"  {'CPU time':<22}{percentile(cpu, 0.5):>9.1f}{percentile(cpu, 0.95):>9.1f}")
    return percentile(totals, 0.5), percentile(cpu, 0.5)


def record(path: Path, big: int, runs: int, load: str, results: dict[str, Figures]) -> None:
    """One JSON line per run: what bench/scale_svg.py plots (the scale curve)."""
    line = {
        "big_site_events": big, "runs": runs, "load": load, "at": datetime.now(UTC).isoformat(),
        "suites": {zone: {name: {"p50": wall, "cpu": cpu} for name, (wall, cpu) in figures.items()}
                   for zone, figures in results.items()},
    }  # fmt: skip
    with path.open("a") as out:
        out.write(json.dumps(line) + "\n")


def _load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} {five:.2f} {fifteen:.2f} on {os.cpu_count()} cores"


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--big", type=int, default=2_000_000)
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument(
        "--keep", type=Path, help="data dir to keep (and reuse if it already holds the data)"
    )
    parser.add_argument("--zones", default="UTC,America/New_York")
    parser.add_argument(
        "--filters",
        default=",".join(FILTERS),
        help="the FILTERS (or GOAL_FILTERS) to time, comma-separated",
    )
    parser.add_argument(
        "--no-filters", action="store_true", help="only the plain and goal dashboards, funnels"
    )
    parser.add_argument(
        "--plain", action="store_true", help="only the unfiltered dashboard (no other suite)"
    )
    parser.add_argument(
        "--only-filters", action="store_true", help="the plain and filtered dashboards only"
    )
    parser.add_argument(
        "--as-is", action="store_true", help="a kept data dir: roll up no day it lacks"
    )
    parser.add_argument(
        "--record", type=Path, help="append the suites' medians to this JSON lines file"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="jetrack-bench-") as tmp:
        data_dir = args.keep or Path(tmp) / "data"
        reuse = (data_dir / "events").exists()
        settings = load_settings(
            data_dir=data_dir, encryption_key=BENCH_KEY if args.keep else secrets.token_hex(32),
            log_level="error",
        )  # fmt: skip
        stores = open_stores(settings)
        try:
            if not reuse:
                took = generate(stores, args.events, args.big)
                print(
                    f"generated {args.events:,} events ({args.big:,} on the big site) in {took:.1f} s"
                )
                started = time.perf_counter()
                stores.events.command("OPTIMIZE TABLE events FINAL")
                print(f"merged in {time.perf_counter() - started:.1f} s")
            if not first_value(stores.events.query("SELECT count() FROM sessions"), 0):
                started = time.perf_counter()
                rebuild_sessions(stores.events)
                print(f"sessions rebuilt from events in {time.perf_counter() - started:.1f} s")
                started = time.perf_counter()
                stores.events.command("OPTIMIZE TABLE sessions FINAL")
                print(f"sessions merged in {time.perf_counter() - started:.1f} s")
            # What the hourly job does once the 30 days are over (also for a kept data dir
            # whose days lack a rollup table added since).
            # The job cuts the days of a site in a zone off UTC at its midnights (its rows
            # for the partial UTC days at a local range's ends): the big site's, as the
            # first such zone of --zones (its UTC dashboards do not read them).
            off_utc = [zone for zone in args.zones.split(",") if zone != "UTC"]
            zones = {BIG_SITE: off_utc[0]} if off_utc else {}
            ended = END + timedelta(days=1)
            days = [] if args.as_is else days_to_build(stores.events, ended)
            cut = [] if args.as_is else days_to_cut(stores.events, zones, ended, DAYS + 1)
            if days or cut:
                started = time.perf_counter()
                for day in days:
                    build_rollups(stores.events, day, zones=zones)
                for day, site_ids in cut:
                    if day not in days:
                        build_rollups(stores.events, day, site_ids=site_ids, zones=zones)
                for table in ROLLUP_TABLES:
                    stores.events.command(f"OPTIMIZE TABLE {table} FINAL")
                print(
                    f"{len(days)} days rolled up, {len(cut)} cut at {zones} midnights,"
                    f" in {time.perf_counter() - started:.1f} s"
                )
            tables = ("events", "events_by_page", "sessions", *ROLLUP_TABLES)
            sizes = dict(
                stores.events.query(
                    "SELECT table, sum(bytes_on_disk) FROM system.parts WHERE active"
                    " AND database = currentDatabase()"
                    f" AND table IN ({', '.join(repr(t) for t in tables)}) GROUP BY table"
                ).rows
            )
            rows = first_value(stores.events.query("SELECT count() FROM events"))
            if reuse:  # a kept data dir: its big site's own size (for the printout and --record)
                args.big = first_value(
                    stores.events.query(f"SELECT count() FROM events WHERE site_id = {BIG_SITE}")
                )
            visits = first_value(stores.events.query("SELECT count() FROM sessions FINAL"))
            print(
                "on disk: "
                + " + ".join(f"{t} {sizes.get(t, 0) / rows:.2f}" for t in tables)
                + f" = {sum(sizes.values()) / rows:.1f} bytes/event"
                f" ({rows:,} events, {visits:,} visits)"
            )
            print(f"load average before: {_load()}")
            # UTC: the rollups' days are the site's. Elsewhere, the main graph and the two
            # partial UTC days at the ends of the range are read from the tables.
            filters = [] if args.no_filters else args.filters.split(",")
            load_before = _load()
            results = {
                zone: time_dashboard(
                    stores, zone, args.runs, filters, args.plain, args.only_filters
                )
                for zone in args.zones.split(",")
            }
            for zone, figures in results.items():
                print_summary(zone, figures)
            print(f"({args.runs} runs after one warm-up; 30 days; big site {args.big:,} events)")
            print(f"load average after: {_load()}")
            if args.record:
                record(args.record, args.big, args.runs, load_before, results)
        finally:
            stores.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
