"""What the tracker must not do: track ignored visits, or leave cookies and storage behind."""

from __future__ import annotations

import re
from collections import Counter
from typing import Any
from urllib.parse import urlsplit

import pytest

from .collector import Collector
from .conftest import HIDE, TALL, Visit, assert_nothing_sent, track_and_wait

pytestmark = pytest.mark.browser


def paths(events: list[dict[str, Any]]) -> Counter[str]:
    return Counter(urlsplit(str(event["u"])).path for event in events)


# -- what is not tracked ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("attrs", "path", "tracked"),
    [
        ('data-exclude="/admin/**, /private"', "/admin/users/7", False),
        ('data-exclude="/admin/**, /private"', "/private", False),
        ('data-exclude="/admin/**, /private"', "/private/x", True),
        ('data-exclude="/admin/**, /private"', "/blog/post", True),
        ('data-exclude="/blog/*/edit"', "/blog/post/edit", False),
        ('data-exclude="/blog/*/edit"', "/blog/post/more/edit", True),
        ('data-include="/blog/*"', "/blog/post", True),
        ('data-include="/blog/*"', "/blog/post/comments", False),
        ('data-include="/blog/**"', "/blog/post/comments", True),
        ('data-include="/blog/**"', "/about", False),
        ('data-include="/blog/**" data-exclude="/blog/drafts/**"', "/blog/drafts/x", False),
        ('data-include="/a.b"', "/axb", False),
    ],
)
def test_include_and_exclude_patterns(
    collector: Collector, visit: Visit, attrs: str, path: str, tracked: bool
) -> None:
    page = visit(path, script="script.exclusions.js", attrs=f"data-local {attrs}")
    if tracked:
        collector.wait_for(1, "pageview")
    else:
        assert_nothing_sent(collector, page)


def test_exclusions_apply_to_spa_routes(collector: Collector, visit: Visit) -> None:
    page = visit(
        "/app", script="script.exclusions.js", attrs='data-local data-exclude="/app/secret"'
    )
    collector.wait_for(1, "pageview")
    page.evaluate("history.pushState({}, '', '/app/secret')")
    page.evaluate("history.pushState({}, '', '/app/open')")
    collector.wait_for(2, "pageview")
    page.wait_for_timeout(200)
    assert paths(collector.events("pageview")) == {"/app": 1, "/app/open": 1}


# Records console.warn calls from the start, before the tracker loads.
WARNS = "window.warns = []; console.warn = (...args) => { window.warns.push(args.join(' ')) }"


def test_loopback_hosts_are_ignored_without_data_local(collector: Collector, visit: Visit) -> None:
    page = visit(attrs="", init_script=WARNS)
    assert_nothing_sent(collector, page)
    # The console says why, and which attribute counts local pages.
    assert set(page.evaluate("window.warns")) == {"localhost ignored: set data-local"}


def test_data_local_counts_loopback_without_a_warning(collector: Collector, visit: Visit) -> None:
    page = visit(attrs="data-local", init_script=WARNS)
    collector.wait_for(1, "pageview")
    assert page.evaluate("window.warns") == []


def test_data_local_false_keeps_loopback_ignored(collector: Collector, visit: Visit) -> None:
    page = visit(attrs='data-local="false"')
    assert_nothing_sent(collector, page)


def test_automated_browsers_are_ignored(collector: Collector, visit: Visit) -> None:
    page = visit(hide_automation=False)
    assert page.evaluate("navigator.webdriver") is True
    assert_nothing_sent(collector, page)


# Init scripts also run in about:blank, where localStorage is off limits.
OPT_OUT = "try { localStorage.jetrack_ignore = 'true' } catch (e) {}"


def test_visitor_opt_out_flag(collector: Collector, visit: Visit) -> None:
    page = visit(init_script=OPT_OUT)
    assert_nothing_sent(collector, page)


DNT = "Object.defineProperty(Navigator.prototype, 'doNotTrack', {get: () => '1'})"
GPC = "Object.defineProperty(Navigator.prototype, 'globalPrivacyControl', {get: () => true})"


@pytest.mark.parametrize(
    ("signal", "attrs", "tracked"),
    [
        (DNT, "data-local data-respect-dnt", False),
        (GPC, "data-local data-respect-dnt", False),
        (DNT, "data-local", True),
        (GPC, "data-local", True),
        ("", "data-local data-respect-dnt", True),
    ],
    ids=["dnt-respected", "gpc-respected", "dnt-not-enabled", "gpc-not-enabled", "no-signal"],
)
def test_do_not_track_and_gpc_when_the_site_enables_them(
    collector: Collector, visit: Visit, signal: str, attrs: str, tracked: bool
) -> None:
    page = visit(attrs=attrs, init_script=signal)
    if tracked:
        collector.wait_for(1, "pageview")
    else:
        assert_nothing_sent(collector, page)


# -- privacy: storage and cookies -------------------------------------------------------


STORAGE = "[localStorage.length, sessionStorage.length, document.cookie]"


@pytest.mark.parametrize(
    "script", ["script.js", "script.cookie.js", "script.hash.outbound-links.tagged-events.js"]
)
def test_default_mode_leaves_no_cookie_and_no_storage(
    collector: Collector, visit: Visit, script: str
) -> None:
    page = visit("/app", script=script, body=TALL)
    collector.wait_for(1, "pageview")
    page.evaluate("history.pushState({}, '', '/app/two')")
    track_and_wait(page, "Signup", "{props: {plan: 'pro'}}")
    page.evaluate("window.scrollTo(0, 2000)")
    page.evaluate(HIDE, True)
    collector.wait_for(1, "engagement")
    assert page.evaluate(STORAGE) == [0, 0, ""]
    assert page.context.cookies() == []
    assert all("c" not in event for event in collector.events())


def test_cookie_mode_sets_exactly_one_first_party_cookie(
    collector: Collector, visit: Visit
) -> None:
    page = visit("/app", script="script.cookie.js", attrs='data-local data-cookie="1"')
    [first] = collector.wait_for(1, "pageview")
    [cookie] = page.context.cookies()
    assert cookie["name"] == "jt_id"
    assert re.fullmatch(r"[0-9a-f]{32}", cookie["value"])
    assert cookie["domain"] == "127.0.0.1"  # host-only: the site's own first-party cookie
    assert cookie["sameSite"] == "Lax"
    assert first["c"] == cookie["value"]
    page.reload()
    collector.wait_for(2, "pageview")
    assert {event["c"] for event in collector.events()} == {cookie["value"]}
    assert len(page.context.cookies()) == 1
    assert page.evaluate("[localStorage.length, sessionStorage.length]") == [0, 0]


def test_cookie_mode_sets_no_cookie_for_ignored_visits(collector: Collector, visit: Visit) -> None:
    page = visit(
        script="script.cookie.js",
        attrs='data-local data-cookie="1"',
        init_script=OPT_OUT,
    )
    assert_nothing_sent(collector, page)
    assert page.context.cookies() == []
