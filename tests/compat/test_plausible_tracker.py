"""plausible-tracker 0.3.x (Plausible's older npm tracker) against a real Jetrack.

This package posts with XMLHttpRequest, sends `p` as a JSON *string*, always sends `h`
(0 or 1) and `w`, and calls the callback without arguments once the request is done, so
the answer's status is read from the network log.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import LiveServer

from .conftest import (
    SITE,
    OpenBrowsing,
    PageServer,
    call_and_wait,
    package_version,
    page_html,
    stored_events,
    wait_for_stats,
)

pytestmark = [pytest.mark.browser, pytest.mark.slow]

PACKAGE = "plausible-tracker"
VERSION = "0.3.9"
BUNDLE = "plausible-tracker.js"
REFERRER = "https://duckduckgo.com/"


def tracker_page(server: LiveServer, options: str = "", then: str = "", body: str = "") -> str:
    setup = (
        "window.plausible = PlausibleLegacy.Plausible({"
        f"domain: {SITE!r}, apiHost: {server.url!r}, trackLocalhost: true, {options}}});\n"
        f"{then}"
    )
    return page_html(BUNDLE, setup, body=body)


def test_the_pinned_version_is_installed(compat_bundles: Path) -> None:
    assert package_version(PACKAGE) == VERSION


def test_auto_pageviews_spa_route_custom_event_and_referrer(
    jetrack: LiveServer, pages: PageServer, browsing: OpenBrowsing
) -> None:
    session = browsing(jetrack)
    url = pages.add_page("/pricing", tracker_page(jetrack, then="plausible.enableAutoPageviews()"))
    page = session.open(url, referer=REFERRER)
    [pageview] = session.traffic.wait_for(page, 1, "pageview")
    assert pageview == {"n": "pageview", "u": url, "d": SITE, "r": REFERRER, "w": 1280, "h": 0}

    page.evaluate("history.pushState({}, '', '/docs')")
    session.traffic.wait_for(page, 2, "pageview")
    result = call_and_wait(
        page, "plausible.trackEvent('Signup', {props: {plan: 'pro'}, callback: done})"
    )
    assert result is None  # this package's callback takes no argument
    [signup] = session.traffic.events("Signup")
    assert signup["p"] == '{"plan":"pro"}'  # props as a JSON string, as 0.3.x sends them
    assert [x.status for x in session.traffic.exchanges] == [202, 202, 202]

    wait_for_stats(
        jetrack, [([], [1, 1, 2, 3])], metrics=["visitors", "visits", "pageviews", "events"]
    )
    wait_for_stats(
        jetrack,
        [(["/docs"], [1]), (["/pricing"], [1])],
        metrics=["pageviews"],
        dimensions=["event:page"],
        order_by=[["event:page", "asc"]],
    )
    wait_for_stats(
        jetrack, [(["DuckDuckGo"], [1])], metrics=["visitors"], dimensions=["visit:source"]
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
    # `w` (the viewport width, 1280) gives the screen class.
    wait_for_stats(jetrack, [(["Laptop"], [1])], metrics=["visitors"],
                   dimensions=["visit:screen"])  # fmt: skip

    session.traffic.assert_all_accepted(jetrack)
    session.assert_no_client_state(page)
    rows = stored_events(jetrack)
    assert sorted((row["name"], row["pathname"], row["props"]["plan"] if row["props"] else "")
                  for row in rows) == [
        ("Signup", "/docs", "pro"),
        ("pageview", "/docs", ""),
        ("pageview", "/pricing", ""),
    ]  # fmt: skip


def test_hash_mode(jetrack: LiveServer, pages: PageServer, browsing: OpenBrowsing) -> None:
    session = browsing(jetrack)
    page = session.open(
        pages.add_page(
            "/app", tracker_page(jetrack, "hashMode: true", then="plausible.enableAutoPageviews()")
        )
    )
    session.traffic.wait_for(page, 1, "pageview")
    page.evaluate("location.hash = '#/settings'")
    # A fragment change fires popstate and hashchange, and 0.3.9 listens to both: two
    # pageviews for one route change. That is the package's doing; Jetrack counts what came.
    pageviews = session.traffic.wait_for(page, 3, "pageview")
    page.wait_for_timeout(300)
    assert [(p["u"], p["h"]) for p in session.traffic.events("pageview")] == [
        (pages.origin + "/app", 1),
        (pages.origin + "/app#/settings", 1),
        (pages.origin + "/app#/settings", 1),
    ]
    assert len(pageviews) == 3
    wait_for_stats(
        jetrack,
        [(["/app"], [1]), (["/app#/settings"], [2])],
        metrics=["pageviews"],
        dimensions=["event:page"],
        order_by=[["event:page", "asc"]],
    )
    session.traffic.assert_all_accepted(jetrack)


def test_manual_pageview_with_overrides(
    jetrack: LiveServer, pages: PageServer, browsing: OpenBrowsing
) -> None:
    session = browsing(jetrack)
    page = session.open(pages.add_page("/shell", tracker_page(jetrack)))
    result = call_and_wait(
        page,
        "plausible.trackPageview({url: 'https://example.com/manual?utm_source=newsletter', "
        "referrer: null, deviceWidth: 390}, {callback: done})",
    )
    assert result is None
    [pageview] = session.traffic.wait_for(page, 1, "pageview")
    assert pageview["r"] is None
    wait_for_stats(
        jetrack,
        [(["example.com", "/manual", "newsletter", "Mobile"], [1])],
        metrics=["pageviews"],
        dimensions=["event:hostname", "event:page", "visit:utm_source", "visit:screen"],
    )
    session.traffic.assert_all_accepted(jetrack)


def test_outbound_link_tracking(
    jetrack: LiveServer, pages: PageServer, browsing: OpenBrowsing
) -> None:
    session = browsing(jetrack)
    outbound = f"{pages.other_origin}/landing"
    url = pages.add_page(
        "/links",
        tracker_page(
            jetrack,
            then="plausible.enableAutoPageviews(); plausible.enableAutoOutboundTracking()",
            body=f'<a id="out" href="{outbound}">out</a>',
        ),
    )
    page = session.open(url)
    session.traffic.wait_for(page, 1, "pageview")
    page.click("#out")
    page.wait_for_url(outbound)  # the package follows the link itself after 150 ms
    [click] = session.traffic.wait_for(page, 1, "Outbound Link: Click")
    assert click["p"] == f'{{"url":"{outbound}"}}'
    wait_for_stats(
        jetrack,
        [([outbound], [1])],
        metrics=["events"],
        dimensions=["event:props:url"],
        filters=[["is", "event:goal", ["Outbound Link: Click"]]],
    )
    session.traffic.assert_all_accepted(jetrack)
