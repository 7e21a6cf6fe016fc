"""A Plausible export with known totals, imported, then read through the Stats API v2
engine with `include.imports`: totals, rates weighted by visits, sources, pages,
countries, devices, native visits added, and Plausible's meta keys when imports are not
included (no imported data, out of range, an hourly interval, an unsupported query)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from jetrack.imports import registry
from jetrack.jobs import runner
from jetrack.stats import v1
from jetrack.stats.engine import run_query
from jetrack.stats.errors import QueryError
from jetrack.stats.imported import WARNINGS
from jetrack.stats.query import GoalInfo, SiteInfo
from jetrack.store.stores import Stores
from tests.imports import plausible_export as export
from tests.privacy.helpers import make_account
from tests.stats.helpers import event, insert, visit

RANGE = ["2024-03-01", "2024-03-05"]


def imported_site(stores: Stores, tmp_path: Path) -> tuple[SiteInfo, SiteInfo]:
    """example.com with the export imported and two native visits on 2024-03-05;
    other.com with nothing."""
    _, (site_id, other_id) = make_account(stores, "o@example.com", "example.com", "other.com")
    path = export.write_export(tmp_path / "export.zip")
    with stores.control.session() as session:
        registry.create_import(session, site_id, "plausible", path.name, {"path": str(path)})
    assert runner.run_pending(stores, kinds=("import",)) == 1
    de = {"site_id": site_id, "source": "Google", "channel": "Organic Search",
          "country_code": "DE", "device": "Desktop"}  # fmt: skip
    rows = visit(1, 1, [("2024-03-05 10:00", "/"), ("2024-03-05 10:01:40", "/pricing")], **de)
    fr = {"site_id": site_id, "country_code": "FR", "device": "Mobile"}
    rows += visit(2, 2, [("2024-03-05 11:00", "/")], **fr)
    insert(stores, rows)
    return SiteInfo(site_id, "example.com"), SiteInfo(other_id, "other.com")


def ask(stores: Stores, site: SiteInfo, **body: Any) -> dict[str, Any]:
    request = {"site_id": site.domain, "date_range": RANGE, "include": {"imports": True}}
    return run_query(stores.events, site, request | body)


def by_key(answer: dict[str, Any]) -> dict[str, list[Any]]:
    return {row["dimensions"][0]: row["metrics"] for row in answer["results"]}


def test_imported_totals_through_the_stats_api(stores: Stores, tmp_path: Path) -> None:
    site, other = imported_site(stores, tmp_path)
    days = export.DAYS
    top = ["visitors", "visits", "pageviews", "bounce_rate", "visit_duration", "views_per_visit"]
    answer = ask(stores, site, metrics=top)
    assert answer["meta"] == {"imports_included": True}
    # 300 + 2 visitors, 360 + 2 visits, 900 + 3 pageviews, (180 + 1) bounces of 362 visits,
    # (18,000 + 100) seconds.
    assert answer["results"][0]["metrics"] == [302, 362, 903, 50, 50, 2.49]
    assert answer["query"]["include"] == {"imports": True}
    native = run_query(stores.events, site, {"site_id": site.domain, "date_range": RANGE,
                                             "metrics": ["visitors", "pageviews"]})  # fmt: skip
    assert native["results"][0]["metrics"] == [2, 3] and native["meta"] == {}

    sources = ask(stores, site, metrics=["visitors", "bounce_rate"], dimensions=["visit:source"])
    assert by_key(sources) == {
        "Google": [export.SOURCES["Google"] * days + 1, 50],  # 105 bounces of 211 visits
        "Twitter": [export.SOURCES["Twitter"] * days, 50],
        "Direct / None": [20 * days + 1, 51],  # 30 + 1 bounces of 61
    }
    assert [row["dimensions"][0] for row in sources["results"]] == [
        "Google",
        "Twitter",
        "Direct / None",
    ] or sources["query"]["order_by"] == []
    # An export without a channel column: channels derived from sources at import time.
    channels = ask(stores, site, metrics=["visitors"], dimensions=["visit:channel"],
                   filters=[["is_not", "visit:channel", ["Organic Social"]]])  # fmt: skip
    assert by_key(channels) == {
        "Organic Search": [export.SOURCES["Google"] * days + 1],
        "Direct": [20 * days + 1],
    }
    pages = ask(stores, site, metrics=["pageviews"], dimensions=["event:page"],
                order_by=[["pageviews", "desc"]], pagination={"limit": 1},
                include={"imports": True, "total_rows": True})  # fmt: skip
    assert pages["results"] == [{"dimensions": ["/"], "metrics": [export.PAGES["/"] * days + 2]}]
    assert pages["meta"] == {"imports_included": True, "total_rows": 2}
    countries = ask(stores, site, metrics=["visitors"], dimensions=["visit:country_name"])
    assert by_key(countries) == {"Germany": [241], "France": [121]}
    devices = ask(stores, site, metrics=["visits"], dimensions=["visit:device"],
                  filters=[["is", "visit:device", ["Mobile"]]])  # fmt: skip
    assert by_key(devices) == {"Mobile": [export.DEVICES["Mobile"] * days + 1]}
    daily = ask(stores, site, metrics=["visitors"], dimensions=["time:day"])
    assert [row["metrics"][0] for row in daily["results"]] == [100, 100, 100, 2]
    compared = ask(stores, site, metrics=["visitors"], dimensions=["visit:device"],
                   date_range=["2024-03-02", "2024-03-03"],
                   include={"imports": True, "comparisons": {"mode": "previous_period"}})  # fmt: skip
    assert [(r["dimensions"], r["metrics"], r["comparison"]["metrics"]) for r in
            compared["results"]] == [(["Desktop"], [180], [90]), (["Mobile"], [60], [30])]  # fmt: skip
    # A source filter with no dimension reads the sources table.
    google = ask(stores, site, metrics=["visits"], filters=[["is", "visit:source", ["Google"]]])
    assert google["results"][0]["metrics"] == [211]

    # Why not: Plausible's reasons, and its warnings where it gives one.
    def reasons(site: SiteInfo, **body: Any) -> dict[str, Any]:
        meta = ask(stores, site, **({"metrics": ["visitors"]} | body))["meta"]
        return {k: v for k, v in meta.items() if k.startswith("imports")}

    assert reasons(other) == {"imports_included": False, "imports_skip_reason": "no_imported_data"}
    assert reasons(site, date_range=["2024-03-04", "2024-03-05"]) == {
        "imports_included": False, "imports_skip_reason": "out_of_range"
    }  # fmt: skip
    assert reasons(site, dimensions=["time:hour"]) == {
        "imports_included": False,
        "imports_skip_reason": "unsupported_interval",
        "imports_warning": WARNINGS["unsupported_interval"],
    }
    for body in (
        {"dimensions": ["visit:country"], "filters": [["is", "visit:source", ["Google"]]]},
        {"metrics": ["visitors", "time_on_page"], "dimensions": ["event:page"]},
        {"dimensions": ["visit:source", "visit:device"]},
        {"filters": [["matches", "visit:source", ["^G"]]]},
    ):
        assert reasons(site, **body)["imports_skip_reason"] == "unsupported_query", body
    # v1's with_imported is v2's include.imports.
    v1_params = {"site_id": site.domain, "period": "custom", "date": ",".join(RANGE)}
    assert v1.aggregate(stores.events, site, v1_params)["results"]["visitors"]["value"] == 2
    with_imported = v1.aggregate(stores.events, site, v1_params | {"with_imported": "true"})
    assert with_imported["results"]["visitors"]["value"] == 302
    with pytest.raises(QueryError, match="with_imported: true or false"):
        v1.aggregate(stores.events, site, v1_params | {"with_imported": "yes"})

    # Cities are GeoNames ids on both sides: added up (the export's and these visits' are
    # 0, unknown); their names are Jetrack's alone.
    by_id = ask(stores, site, metrics=["visitors"], dimensions=["visit:city"])
    assert by_id["meta"]["imports_included"] is True
    assert by_id["results"] == [{"dimensions": [0], "metrics": [362]}]  # 3 days x 120 + 2
    skipped = ask(stores, site, metrics=["visitors"], dimensions=["visit:city_name"])
    assert skipped["meta"]["imports_warning"] == WARNINGS["unsupported_query"]
    assert skipped["results"] == [{"dimensions": [""], "metrics": [2]}]  # native only


def test_imported_goal_conversions_through_the_stats_api(stores: Stores, tmp_path: Path) -> None:
    """Custom event goals count imported custom events by name, pageview goals imported
    pages by path (wildcards too), added to native conversions; the rates divide by all
    visitors, imported ones included."""
    site, _ = imported_site(stores, tmp_path)
    signup = {"site_id": site.id, "name": "Signup", "session_id": 1, "visitor_id": 1,
              "pathname": "/pricing", "entry_page": "/"}  # fmt: skip
    insert(stores, [event("2024-03-05 10:02", **signup)])
    goals = (
        GoalInfo("Signup", event_name="Signup"),
        GoalInfo("Visit /pricing", page_path="/pricing"),
        GoalInfo("Visit /*", page_path="/*"),
        GoalInfo("Pro signup", event_name="Signup", custom_props=(("plan", "pro"),)),
        GoalInfo("Outbound Link: Click", event_name="Outbound Link: Click"),
    )
    # Outbound links (as a Plausible export has them): the link's url kept.
    stores.events.command(
        "INSERT INTO imported_custom_events (site_id, import_id, batch, date, name, link_url,"
        " path, visitors, events) VALUES ({s:UInt32}, 1, 0, '2024-03-02', 'Outbound Link: Click',"
        " 'https://a.example/', '', 4, 5), ({s:UInt32}, 1, 0, '2024-03-02', 'Outbound Link: Click',"
        " '', '', 1, 1)",
        {"s": site.id},
    )
    site = SiteInfo(site.id, site.domain, goals=goals)
    days = export.DAYS
    conversions = ["visitors", "events", "conversion_rate"]
    by_goal = ask(stores, site, metrics=conversions, dimensions=["event:goal"])
    assert by_goal["meta"] == {"imports_included": True}
    # Imported: Signup 5 visitors and 6 events a day; "/" 66 visitors and 200 pageviews a
    # day, "/pricing" 33 and 100; natively one Signup, visits of "/" (2) and "/pricing" (1).
    # Of 302 visitors; the goal with a custom property has no imported rows.
    assert by_key(by_goal) == {
        "Outbound Link: Click": [5, 6, 1.66],
        "Signup": [5 * days + 1, 6 * days + 1, 5.3],
        "Visit /pricing": [33 * days + 1, 100 * days + 1, 33.11],
        "Visit /*": [99 * days + 2, 300 * days + 3, 99.01],
    }
    one = ask(stores, site, metrics=[*conversions, "total_revenue"],
              filters=[["is", "event:goal", ["Signup"]]])  # fmt: skip
    assert one["results"][0]["metrics"][:3] == [16, 19, 5.3] and one["meta"]["imports_included"]
    daily = ask(stores, site, metrics=["visitors"], dimensions=["time:day"],
                filters=[["is", "event:goal", ["Visit /pricing"]]])  # fmt: skip
    assert [row["metrics"][0] for row in daily["results"]] == [33, 33, 33, 1]
    group = ask(stores, site, metrics=["group_conversion_rate"], dimensions=["event:goal"],
                filters=[["contains", "event:goal", ["Visit"]]])  # fmt: skip
    assert by_key(group) == {"Visit /pricing": [33.11], "Visit /*": [99.01]}
    names = ask(stores, site, metrics=["events"], dimensions=["event:name"])
    assert by_key(names) == {"Signup": [19], "pageview": [3], "Outbound Link: Click": [6]}
    urls = ask(stores, site, metrics=["visitors", "events"], dimensions=["event:props:url"],
               filters=[["is", "event:goal", ["Outbound Link: Click"]]])  # fmt: skip
    assert by_key(urls) == {"https://a.example/": [4, 5], "(none)": [1, 1]}
    # Both goal types outside a breakdown by goal, a goal and a visit dimension, a custom
    # property Plausible does not import: native only, and said so.
    for body in (
        {"filters": [["contains", "event:goal", ["i"]]]},
        {"dimensions": ["visit:source"], "filters": [["is", "event:goal", ["Signup"]]]},
        {"dimensions": ["event:props:plan"], "filters": [["is", "event:goal", ["Signup"]]]},
        {"dimensions": ["time:day", "event:goal"], "metrics": ["group_conversion_rate"]},
    ):
        meta = ask(stores, site, **({"metrics": ["visitors"]} | body))["meta"]
        assert meta["imports_skip_reason"] == "unsupported_query", body
