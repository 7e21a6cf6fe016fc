"""The tracker in Debian's Chromium, sending to a loopback collector.

Test pages are served from http://127.0.0.1:PORT and load the script from
http://localhost:PORT, so every event is a cross-origin request, as on a customer's site.
"""

from __future__ import annotations

import re
from collections import Counter
from typing import Any
from urllib.parse import urlsplit

import pytest

from .collector import Collector
from .conftest import HIDE, TALL, NewContext, Visit, page_html, track_and_wait

pytestmark = pytest.mark.browser


def paths(events: list[dict[str, Any]]) -> Counter[str]:
    return Counter(urlsplit(str(event["u"])).path for event in events)


# -- pageviews --------------------------------------------------------------------------


@pytest.mark.parametrize("load", ["defer", "async", ""])
def test_pageview_has_url_referrer_width_and_domain(
    collector: Collector, visit: Visit, load: str
) -> None:
    page = visit("/pricing", referer="https://news.example/item?id=7", load=load)
    [pageview] = collector.wait_for(1, "pageview")
    assert pageview == {
        "n": "pageview",
        "u": f"{collector.page_origin}/pricing",
        "d": "example.test",
        "r": "https://news.example/item?id=7",
        "w": 1280,
    }
    # A string body is text/plain: a "simple" request, so no CORS preflight was needed.
    assert [(r.method, r.content_type) for r in collector.received] == [
        ("POST", "text/plain;charset=UTF-8")
    ]
    assert page.evaluate("typeof window.jetrack") == "function"


def test_data_domain_and_api_attributes(collector: Collector, visit: Visit) -> None:
    visit(domain="a.test,b.test", attrs=f'data-local data-api="{collector.page_origin}/api/event"')
    [pageview] = collector.wait_for(1, "pageview")
    assert pageview["d"] == "a.test,b.test"


def test_spa_navigation_counts_each_route_once(collector: Collector, visit: Visit) -> None:
    page = visit("/app")
    collector.wait_for(1, "pageview")
    page.evaluate(
        """() => {
            history.pushState({}, '', '/app/one')
            history.pushState({}, '', '/app/one')        // same route again
            history.replaceState({}, '', '/app/one?tab=2') // query change, same route
            history.pushState({}, '', '/app/two')
        }"""
    )
    collector.wait_for(3, "pageview")
    page.go_back()  # popstate back to /app/one
    pageviews = collector.wait_for(4, "pageview")
    page.wait_for_timeout(300)
    assert paths(collector.events("pageview")) == {"/app": 1, "/app/one": 2, "/app/two": 1}
    assert len(pageviews) == 4


def test_hash_routing_counts_hash_changes(collector: Collector, visit: Visit) -> None:
    page = visit("/app", script="script.hash.js")
    collector.wait_for(1, "pageview")
    page.evaluate("location.hash = '#/settings'")
    page.evaluate("location.hash = '#/settings'")  # no change, no pageview
    pageviews = collector.wait_for(2, "pageview")
    page.wait_for_timeout(200)
    assert sorted(str(p["u"]) for p in collector.events("pageview")) == [
        f"{collector.page_origin}/app",
        f"{collector.page_origin}/app#/settings",
    ]
    assert all(p["h"] == 1 for p in pageviews)


def test_without_hash_variant_hash_changes_are_not_pageviews(
    collector: Collector, visit: Visit
) -> None:
    page = visit("/app")
    page.evaluate("location.hash = '#/settings'")
    track_and_wait(page)
    page.wait_for_timeout(200)
    assert len(collector.events("pageview")) == 1
    assert "h" not in collector.events("pageview")[0]


# -- custom events ----------------------------------------------------------------------


def test_custom_event_with_props_revenue_and_callback(collector: Collector, visit: Visit) -> None:
    page = visit("/checkout")
    result = track_and_wait(
        page,
        "Signup",
        "{props: {plan: 'pro', seats: '3'}, revenue: {amount: 29.9, currency: 'EUR'}}",
    )
    assert result == {"status": 202}
    [signup] = collector.wait_for(1, "Signup")
    assert signup["p"] == {"plan": "pro", "seats": "3"}
    assert signup["$"] == {"amount": 29.9, "currency": "EUR"}
    assert signup["u"] == f"{collector.page_origin}/checkout"
    assert "i" not in signup


def test_non_interactive_event(collector: Collector, visit: Visit) -> None:
    page = visit()
    track_and_wait(page, "Video Autoplay", "{interactive: false}")
    [event] = collector.wait_for(1, "Video Autoplay")
    assert event["i"] is False


def test_queue_stub_keeps_calls_made_before_the_script_loads(
    collector: Collector, visit: Visit
) -> None:
    stub = (
        "<script>window.jetrack=window.jetrack||function(){(jetrack.q=jetrack.q||[]).push(arguments)}"
        "</script><script>window.plausible=window.plausible||function(){(plausible.q=plausible.q||[])"
        ".push(arguments)}</script>"
        "<script>jetrack('Early', {props: {step: '1'}}); plausible('From Plausible')</script>"
    )
    page = visit(head=stub, load="async")
    collector.wait_for(1, "Early")
    collector.wait_for(1, "From Plausible")
    assert collector.events("Early")[0]["p"] == {"step": "1"}
    # After loading, both names are the live tracker.
    assert page.evaluate("jetrack === plausible && !jetrack.q")


# -- opt-in extensions ------------------------------------------------------------------


def link_page(collector: Collector, script: str, link: str, attrs: str = "data-local") -> str:
    collector.add_page("/landing", "<!doctype html><p>landed")
    return page_html(collector, script=script, attrs=attrs, body=link)


def test_outbound_link_click(collector: Collector, new_context: NewContext) -> None:
    target = f"{collector.script_origin}/landing?token=secret#top"
    html = link_page(collector, "script.outbound-links.js", f'<a id="out" href="{target}">out</a>')
    page = new_context().new_page()
    page.goto(collector.add_page("/page", html))
    page.click("#out")
    page.wait_for_url(target)
    [click] = collector.wait_for(1, "Outbound Link: Click")
    # The query and fragment can carry personal data and are left out.
    assert click["p"] == {"url": f"{collector.script_origin}/landing"}


def test_internal_links_and_base_script_send_no_link_events(
    collector: Collector, new_context: NewContext
) -> None:
    for script, href in [
        ("script.outbound-links.js", "/landing"),
        ("script.js", f"{collector.script_origin}/landing"),
    ]:
        html = link_page(collector, script, f'<a id="link" href="{href}">link</a>')
        page = new_context().new_page()
        page.goto(collector.add_page("/page", html))
        page.click("#link")
        page.wait_for_url(re.compile(".*/landing"))
        page.wait_for_timeout(300)
        assert collector.events("Outbound Link: Click") == [], script


def test_file_download_click(collector: Collector, new_context: NewContext) -> None:
    html = link_page(
        collector,
        "script.file-downloads.js",
        '<a id="pdf" download href="/files/report.PDF?v=2">report</a>',
    )
    page = new_context().new_page()
    page.goto(collector.add_page("/page", html))
    page.click("#pdf")
    [download] = collector.wait_for(1, "File Download")
    assert download["p"] == {"url": f"{collector.page_origin}/files/report.PDF"}


def test_file_types_attribute_replaces_the_default_list(
    collector: Collector, new_context: NewContext
) -> None:
    html = link_page(
        collector,
        "script.file-downloads.js",
        '<a id="pdf" download href="/files/a.pdf">a</a>'
        '<a id="sketch" download href="/files/b.sketch">b</a>',
        attrs='data-local data-file-types="sketch, fig"',
    )
    page = new_context().new_page()
    page.goto(collector.add_page("/page", html))
    page.click("#pdf")
    page.click("#sketch")
    collector.wait_for(1, "File Download")
    page.wait_for_timeout(300)
    assert [e["p"] for e in collector.events("File Download")] == [
        {"url": f"{collector.page_origin}/files/b.sketch"}
    ]


def test_tagged_elements(collector: Collector, new_context: NewContext) -> None:
    body = (
        '<button id="cta" class="big jetrack-event-name=Start+Trial jetrack-event-plan=pro">'
        "<span id='inner'>Start</span></button>"
        '<form id="form" class="plausible-event-name=Newsletter" action="/landing">'
        '<input name="email" value="someone@example.com"><button id="submit">Go</button></form>'
    )
    html = link_page(collector, "script.tagged-events.js", body)
    page = new_context().new_page()
    page.goto(collector.add_page("/page", html))
    page.click("#inner")  # a click inside the tagged element counts
    [trial] = collector.wait_for(1, "Start Trial")
    assert trial["p"] == {"plan": "pro"}
    page.click("#submit")
    page.wait_for_url(re.compile(".*/landing"))
    [newsletter] = collector.wait_for(1, "Newsletter")
    # The form's values are never read.
    assert newsletter["p"] == {}
    assert "someone" not in str(collector.events())


def test_tagged_elements_with_revenue_classes(
    collector: Collector, new_context: NewContext
) -> None:
    body = (
        '<button id="buy" class="jetrack-event-name=Purchase jetrack-revenue-amount=29.90'
        ' jetrack-revenue-currency=EUR">Buy</button>'
        '<button id="half" class="plausible-event-name=Upgrade'
        ' plausible-revenue-amount=5">Half</button>'
    )
    page = new_context().new_page()
    page.goto(collector.add_page("/page", link_page(collector, "script.tagged-events.js", body)))
    page.click("#buy")
    [purchase] = collector.wait_for(1, "Purchase")
    assert purchase["$"] == {"amount": "29.90", "currency": "EUR"}
    assert purchase["p"] == {}
    # Without a currency the server would refuse the whole event: the revenue is left out.
    page.click("#half")
    [upgrade] = collector.wait_for(1, "Upgrade")
    assert "$" not in upgrade


@pytest.mark.parametrize(
    ("script", "sent"),
    [
        # Without tagged-events the tagged form is a form like any other.
        ("script.form-submissions.js", {"Form: Submission": 2}),
        ("script.tagged-events.form-submissions.js", {"Form: Submission": 1, "Newsletter": 1}),
        ("script.tagged-events.js", {"Newsletter": 1}),
        ("script.js", {}),
    ],
)
def test_form_submissions(
    collector: Collector, new_context: NewContext, script: str, sent: dict[str, int]
) -> None:
    body = (
        '<form id="contact" action="/landing"><input name="email" value="someone@example.com">'
        '<button id="send">Send</button></form>'
        '<form id="tagged" class="jetrack-event-name=Newsletter" action="/landing">'
        '<button id="subscribe">Go</button></form>'
    )
    page = new_context().new_page()
    for views, button in enumerate(("#send", "#subscribe"), start=1):
        page.goto(collector.add_page("/page", link_page(collector, script, body)))
        collector.wait_for(views, "pageview")  # the script is running
        page.click(button)
        page.wait_for_url(re.compile(".*/landing"))
    for name, count in sent.items():
        collector.wait_for(count, name)
    page.wait_for_timeout(300)
    names = Counter(str(e["n"]) for e in collector.events())
    assert names - Counter({"pageview": 2, "engagement": names["engagement"]}) == Counter(sent)
    # A plain form sends no props (nothing of its values, no names).
    assert all("p" not in e or not e["p"] for e in collector.events("Form: Submission"))
    assert "someone" not in str(collector.events())


def test_404_page(collector: Collector, visit: Visit) -> None:
    visit("/missing-page", status=404, script="script.404.js")
    [not_found] = collector.wait_for(1, "404")
    assert not_found["p"] == {"path": "/missing-page"}
    collector.wait_for(1, "pageview")


def test_no_404_event_on_a_found_page(collector: Collector, visit: Visit) -> None:
    page = visit("/found", script="script.404.js")
    track_and_wait(page)
    page.wait_for_timeout(200)
    assert collector.events("404") == []


# -- engagement -------------------------------------------------------------------------


def test_engagement_when_the_page_is_left(collector: Collector, visit: Visit) -> None:
    page = visit("/article", body=TALL)
    collector.wait_for(1, "pageview")
    page.wait_for_timeout(600)
    page.evaluate("window.scrollTo(0, document.body.scrollHeight)")
    page.wait_for_timeout(100)
    page.goto(collector.add_page("/next", "<!doctype html><p>next"))  # pagehide
    [engagement] = collector.wait_for(1, "engagement")
    assert engagement["u"] == f"{collector.page_origin}/article"
    assert engagement["sd"] == 100
    assert 600 <= int(engagement["e"]) < 10_000


def test_engagement_on_visibility_change_counts_only_visible_time(
    collector: Collector, visit: Visit
) -> None:
    page = visit("/article", body=TALL)
    collector.wait_for(1, "pageview")
    page.wait_for_timeout(400)
    page.evaluate("window.scrollTo(0, 1000)")
    page.wait_for_timeout(100)
    page.evaluate(HIDE, True)
    [first] = collector.wait_for(1, "engagement")
    page.wait_for_timeout(800)  # hidden: not engaged time
    page.evaluate(HIDE, False)
    page.wait_for_timeout(300)
    page.evaluate(HIDE, True)
    second = collector.wait_for(2, "engagement")[1]
    assert 400 <= int(first["e"]) < 2000
    # (scrollY 1000 + viewport 720) of a ~4016 px document
    assert 40 <= int(first["sd"]) <= 45
    # The second report carries only the time since the first, not the hidden 800 ms.
    assert 300 <= int(second["e"]) < 700


def test_spa_navigation_reports_engagement_of_the_previous_route(
    collector: Collector, visit: Visit
) -> None:
    page = visit("/app", body=TALL)
    collector.wait_for(1, "pageview")
    page.wait_for_timeout(300)
    page.evaluate("history.pushState({}, '', '/app/next')")
    [engagement] = collector.wait_for(1, "engagement")
    assert engagement["u"] == f"{collector.page_origin}/app"
    assert int(engagement["e"]) >= 300


# -- robustness -------------------------------------------------------------------------


def test_failures_never_reach_the_host_page(collector: Collector, visit: Visit) -> None:
    """Unreachable endpoint, bad arguments: the page sees no error (checked by new_context)."""
    page = visit(attrs='data-local data-api="http://127.0.0.1:9/api/event"')
    assert track_and_wait(page, "Down") is None  # the callback still runs
    page.evaluate(
        """() => {
            const loop = {}; loop.self = loop
            jetrack('Circular', {props: loop})
            jetrack()
            jetrack(null, null)
            history.pushState(null, '', '/after-errors')
        }"""
    )
    assert page.evaluate("location.pathname") == "/after-errors"
