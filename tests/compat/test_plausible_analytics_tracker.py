"""@plausible-analytics/tracker (Plausible's official npm tracker) against a real Jetrack.

The package is used as its README says, with only `endpoint` pointing at Jetrack; the page
is on another loopback origin than Jetrack, so `captureOnLocalhost` is on.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from tests.conftest import LiveServer
from tests.tracker.conftest import HIDE, TALL

from .conftest import (
    SITE,
    OpenBrowsing,
    PageServer,
    call_and_wait,
    package_version,
    page_html,
    query,
    stored_events,
    wait_for_stats,
)

pytestmark = [pytest.mark.browser, pytest.mark.slow]

PACKAGE = "@plausible-analytics/tracker"
VERSION = "0.4.6"
BUNDLE = "plausible-analytics-tracker.js"
REFERRER = "https://news.ycombinator.com/item?id=42"


def tracker_page(server: LiveServer, options: str = "", body: str = "") -> str:
    setup = (
        "PlausibleTracker.init({"
        f"domain: {SITE!r}, endpoint: {server.url + '/api/event'!r}, captureOnLocalhost: true, "
        f"{options}}})"
    )
    return page_html(BUNDLE, setup, body=body)


def test_the_pinned_version_is_installed(compat_bundles: Path) -> None:
    assert package_version(PACKAGE) == VERSION


def test_pageviews_spa_route_custom_events_revenue_and_referrer(
    jetrack: LiveServer, pages: PageServer, browsing: OpenBrowsing
) -> None:
    session = browsing(jetrack)
    url = pages.add_page(
        "/pricing", tracker_page(jetrack, "customProperties: {app: 'compat'}", body=TALL)
    )
    page = session.open(url, referer=REFERRER)
    [pageview] = session.traffic.wait_for(page, 1, "pageview")
    # The package's own wire format: short names, `v` (its version), text/plain JSON.
    assert pageview == {
        "n": "pageview",
        "v": 36,
        "u": url,
        "d": SITE,
        "r": REFERRER,
        "p": {"app": "compat"},
    }

    page.evaluate("history.pushState({}, '', '/docs')")  # SPA route: auto pageview
    session.traffic.wait_for(page, 2, "pageview")
    signup = call_and_wait(
        page,
        "PlausibleTracker.track('Signup', {props: {plan: 'pro'}, "
        "revenue: {amount: 29.99, currency: 'EUR'}, callback: done})",
    )
    autoplay = call_and_wait(
        page, "PlausibleTracker.track('Autoplay', {interactive: false, callback: done})"
    )
    # The callback reports the answer's status: Jetrack accepted both.
    assert signup == {"status": 202}
    assert autoplay == {"status": 202}
    [sent] = session.traffic.events("Signup")
    assert sent["$"] == {"amount": 29.99, "currency": "EUR"}
    assert session.traffic.events("Autoplay")[0]["i"] is False

    wait_for_stats(
        jetrack,
        [([], [1, 1, 2, 4])],
        metrics=["visitors", "visits", "pageviews", "events"],
    )
    wait_for_stats(
        jetrack,
        [(["/docs"], [1]), (["/pricing"], [1])],
        metrics=["pageviews"],
        dimensions=["event:page"],
        order_by=[["event:page", "asc"]],
    )
    wait_for_stats(
        jetrack, [(["Hacker News"], [1])], metrics=["visitors"], dimensions=["visit:source"]
    )
    wait_for_stats(
        jetrack,
        [(["pro"], [1])],
        metrics=["events"],
        dimensions=["event:props:plan"],
        filters=[["is", "event:name", ["Signup"]]],
    )
    wait_for_stats(jetrack, [(["Signup"], [1, 1])], metrics=["visitors", "events"],
                   dimensions=["event:goal"])  # fmt: skip
    # customProperties reach every event: 2 pageviews and 2 custom events.
    wait_for_stats(jetrack, [(["compat"], [4])], metrics=["events"], dimensions=["event:props:app"])
    wait_for_stats(jetrack, [(["Desktop"], [1])], metrics=["visitors"],
                   dimensions=["visit:device"])  # fmt: skip

    session.traffic.assert_all_accepted(jetrack)
    session.assert_no_client_state(page)

    rows = stored_events(jetrack)
    by_name = {row["name"]: row for row in rows}
    assert by_name["Signup"]["revenue_amount"] == Decimal("29.990")
    assert by_name["Signup"]["revenue_currency"] == "EUR"
    assert by_name["Signup"]["props"] == {"app": "compat", "plan": "pro"}
    assert by_name["Signup"]["interactive"] == 1
    assert by_name["Autoplay"]["interactive"] == 0
    assert {row["source"] for row in rows} == {"Hacker News"}
    assert {row["referrer"] for row in rows} == {"https://news.ycombinator.com/item"}
    # Leaving /pricing for /docs sent /pricing's engagement ping; it is stored, not an event.
    engagement = [row for row in rows if row["name"] == "engagement"]
    assert [row["pathname"] for row in engagement] == ["/pricing"]
    assert engagement[0]["interactive"] == 0


def test_engagement_scroll_depth_and_time_on_page(
    jetrack: LiveServer, pages: PageServer, browsing: OpenBrowsing
) -> None:
    session = browsing(jetrack)
    page = session.open(pages.add_page("/article", tracker_page(jetrack, body=TALL)))
    session.traffic.wait_for(page, 1, "pageview")
    page.wait_for_timeout(1200)
    page.evaluate("window.scrollTo(0, document.body.scrollHeight)")
    page.wait_for_timeout(100)
    page.evaluate(HIDE, True)  # switching tabs ends the engaged time and sends the ping
    [ping] = session.traffic.wait_for(page, 1, "engagement")
    assert ping["sd"] == 100
    assert ping["e"] >= 1000
    assert ping["u"] == pages.origin + "/article"

    wait_for_stats(
        jetrack, [(["/article"], [100])], metrics=["scroll_depth"], dimensions=["event:page"]
    )
    [(_, [seconds])] = query(jetrack, metrics=["time_on_page"], dimensions=["event:page"])
    assert abs(seconds - ping["e"] / 1000) <= 0.5  # the ping's engaged time, rounded
    # An engagement ping is not an event and does not end a bounce.
    wait_for_stats(jetrack, [([], [1, 1, 100])], metrics=["pageviews", "events", "bounce_rate"])
    session.traffic.assert_all_accepted(jetrack)
    session.assert_no_client_state(page)


def test_hash_based_routing(jetrack: LiveServer, pages: PageServer, browsing: OpenBrowsing) -> None:
    session = browsing(jetrack)
    page = session.open(pages.add_page("/app", tracker_page(jetrack, "hashBasedRouting: true")))
    session.traffic.wait_for(page, 1, "pageview")
    page.evaluate("location.hash = '#/settings'")
    pageviews = session.traffic.wait_for(page, 2, "pageview")
    assert [p["h"] for p in pageviews] == [1, 1]
    wait_for_stats(
        jetrack,
        [(["/app"], [1]), (["/app#/settings"], [1])],
        metrics=["pageviews"],
        dimensions=["event:page"],
        order_by=[["event:page", "asc"]],
    )
    session.traffic.assert_all_accepted(jetrack)


def test_outbound_link_and_file_download_clicks(
    jetrack: LiveServer, pages: PageServer, browsing: OpenBrowsing
) -> None:
    session = browsing(jetrack)
    outbound = f"{pages.other_origin}/landing"
    links = f'<a id="out" href="{outbound}">out</a> <a id="pdf" href="/files/report.pdf">pdf</a>'
    url = pages.add_page(
        "/links", tracker_page(jetrack, "outboundLinks: true, fileDownloads: true", body=links)
    )
    page = session.open(url)
    session.traffic.wait_for(page, 1, "pageview")
    page.click("#pdf")
    page.wait_for_url(pages.origin + "/files/report.pdf")
    [download] = session.traffic.wait_for(page, 1, "File Download")
    page.goto(url)
    session.traffic.wait_for(page, 2, "pageview")
    page.click("#out")
    page.wait_for_url(outbound)
    [click] = session.traffic.wait_for(page, 1, "Outbound Link: Click")
    assert download["p"] == {"url": pages.origin + "/files/report.pdf"}
    assert click["p"] == {"url": outbound}

    wait_for_stats(
        jetrack,
        [(["File Download"], [1]), (["Outbound Link: Click"], [1])],
        metrics=["events"],
        dimensions=["event:goal"],
        order_by=[["event:goal", "asc"]],
    )
    wait_for_stats(
        jetrack,
        [([outbound], [1])],
        metrics=["events"],
        dimensions=["event:props:url"],
        filters=[["is", "event:name", ["Outbound Link: Click"]]],
    )
    session.traffic.assert_all_accepted(jetrack)
