"""The first hour in Chromium, end to end, on a fresh data dir and a server without SMTP:
sign up (ready at once), add a site for `localhost`, tick a box of the snippet builder and
copy the snippet (copy button, no wrapping mid-tag, local testing explained), check the
installation (an answer in place, a blocked script named), put the snippet on pages served
from a second loopback server (the console says why nothing counts without `data-local`),
visit them with a referrer and UTM tags, send a custom event, a revenue event and an
outbound click; add goals and a funnel in the settings; see the visitor live and in every
panel; open every panel tab and every Details list at 1440x900 and 390x844, light and
dark, with no failed request and no console error; open the period menu, comparison,
filters, segment menu and Notes dialog once; share a link. Screenshots of every screen go
to test-artifacts/first-hour/ as <step>-<width>-<theme>.png."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Literal

import pytest
from playwright.sync_api import Browser, Locator, Page, Response, ViewportSize, expect

from tests.conftest import LiveServer
from tests.support import shots
from tests.support.shots import shot
from tests.tracker.conftest import DESKTOP_UA, HIDE_AUTOMATION
from tests.web.conftest import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ARTIFACTS = shots.ARTIFACTS / "first-hour"
VIEWPORTS: dict[str, ViewportSize] = {
    "desktop": {"width": 1440, "height": 900},
    "phone": {"width": 390, "height": 844},
}
THEMES: tuple[Literal["light"], Literal["dark"]] = ("light", "dark")
FRAMES = "new Promise(done => requestAnimationFrame(() => requestAnimationFrame(done)))"
DOMAIN = "localhost"  # where everyone tries the snippet first
DASHBOARD = f"/sites/{DOMAIN}"
UTM = "utm_source=newsletter&utm_medium=email&utm_campaign=launch&utm_content=hero&utm_term=stats"

# Every tab of every list panel and the dimension it lists (the test fails when the
# dashboard has a tab that is not here). The map draws countries and has no Details.
TABS: dict[str, dict[str, str]] = {
    "sources": {
        "channels": "visit:channel",
        "sources": "visit:source",
        "referrers": "visit:referrer",
        "utm_medium": "visit:utm_medium",
        "utm_source": "visit:utm_source",
        "utm_campaign": "visit:utm_campaign",
        "utm_content": "visit:utm_content",
        "utm_term": "visit:utm_term",
    },
    "pages": {"top": "event:page", "entry": "visit:entry_page", "exit": "visit:exit_page"},
    "locations": {
        "map": "",
        "countries": "visit:country",
        "regions": "visit:region",
        "cities": "visit:city_name",
    },
    "devices": {
        "browsers": "visit:browser",
        "os": "visit:os",
        "devices": "visit:device",
        "screens": "visit:screen",
    },
    "languages": {"languages": "visit:language"},
}
GROUPED = {"utm_medium", "utm_source", "utm_campaign", "utm_content", "utm_term"}


# -- the site's own pages, on a second loopback server ----------------------------------


@dataclass
class SitePages:
    """A tiny web site on loopback (http.server in a thread): path -> HTML."""

    pages: dict[str, str] = field(default_factory=dict)
    server: ThreadingHTTPServer | None = None

    @property
    def port(self) -> int:
        assert self.server is not None
        return int(self.server.server_address[1])

    def url(self, path: str, host: str = DOMAIN) -> str:
        return f"http://{host}:{self.port}{path}"


@pytest.fixture
def site_pages() -> Iterator[SitePages]:
    site = SitePages()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            html = site.pages.get(self.path.split("?", 1)[0])
            body = (html or "<!doctype html><title>Not found</title>").encode()
            self.send_response(200 if html is not None else 404)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    site.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=site.server.serve_forever, daemon=True)
    thread.start()
    yield site
    site.server.shutdown()
    site.server.server_close()


def page_html(title: str, snippet: str, body: str) -> str:
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f'<link rel="icon" href="data:,"><title>{title}</title>{snippet}</head>'
        f"<body><h1>{title}</h1>{body}</body></html>"
    )


# -- watching the dashboard -------------------------------------------------------------


@dataclass
class Watch:
    """What went wrong in a page: answers of 400 and up from Jetrack, console errors."""

    base: str
    failed: list[str] = field(default_factory=list)
    console: list[str] = field(default_factory=list)

    def attach(self, page: Page) -> Page:
        page.on("response", self._response)
        page.on("console", lambda m: self.console.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: self.console.append(str(e)))
        return page

    def _response(self, response: Response) -> None:
        if response.status >= 400 and response.url.startswith(self.base):
            request = response.request
            self.failed.append(
                f"{response.status} {request.method} {response.url} {request.post_data}"
                f" -> {response.text()[:300]}"
            )

    def assert_clean(self, where: str) -> None:
        assert not self.failed, f"{where}: failed requests {self.failed}"
        assert not self.console, f"{where}: console errors {self.console}"


def themed_shots(
    page: Page, step: str, width: str, full_page: bool = True, of: Locator | None = None
) -> None:
    """The screen (or the element `of`) in the light and the dark theme: the dashboard and
    the pages follow the system's scheme as it changes, so one visit shows both. Only
    when the pictures are wanted (TEST_SHOTS; tests/support/shots.py)."""
    if not shots.wanted():
        return
    for theme in THEMES:
        page.emulate_media(color_scheme=theme)
        page.evaluate(FRAMES)  # the chart redraws in the theme's colours
        name = ARTIFACTS / f"{step}-{width}-{theme}.png"
        shot(page if of is None else of, name, full_page=full_page)
    page.emulate_media(color_scheme=THEMES[0])


def settled(page: Page) -> None:
    """Every list, chart and funnel of the dashboard has its answer (no skeleton, no
    dimmed list), so a picture shows numbers rather than placeholders."""
    expect(page.locator(".jd-skeleton-block")).to_have_count(0, timeout=20_000)
    expect(page.locator(".jd-loading")).to_have_count(0, timeout=20_000)
    expect(page.locator(".jd-spinner")).to_have_count(0, timeout=20_000)


def wait_for_value(
    page: Page, selector: str, attribute: str, value: str, timeout: int = 20_000
) -> None:
    expect(page.locator(selector).first).to_have_attribute(attribute, value, timeout=timeout)


# -- the walk ---------------------------------------------------------------------------


def sign_up_and_add_the_site(page: Page, base: str) -> None:
    page.goto(base + "/signup")
    page.fill("input[name=name]", "Ada")
    page.fill("input[name=email]", "ada@example.com")
    page.fill("input[name=password]", PASSWORD)
    page.check("input[name=age]")
    page.click('form[action="/signup"] button[type=submit]')
    page.wait_for_url(re.compile(r".*/sites\?notice=signed-up-without-mail"))
    expect(page.locator("text=Your account is ready and you are logged in")).to_be_visible()
    page.goto(base + "/sites/new")
    page.fill("input[name=domain]", DOMAIN)
    page.click('form[action="/sites/new"] button[type=submit]')
    page.wait_for_url(re.compile(rf".*/sites/{DOMAIN}/settings.*"))
    expect(page.locator("#local-testing")).to_contain_text("data-local")


def copy_the_snippet(page: Page) -> str:
    """Tick "Outbound links" in the builder, copy the snippet with its button."""
    snippet = page.locator("#snippet")
    page.check('input[data-extension="outbound-links"]')
    expect(snippet).to_contain_text("/js/script.outbound-links.js")
    # One line that scrolls, not wrapped inside its tag.
    line = page.evaluate(
        "parseFloat(getComputedStyle(document.getElementById('snippet')).lineHeight)"
    )
    box = snippet.bounding_box()
    assert box is not None and box["height"] < 3 * line, box
    page.click("button[data-copy=snippet]")
    copied = str(page.evaluate("navigator.clipboard.readText()"))
    assert copied == snippet.inner_text().strip()
    assert f'data-domain="{DOMAIN}"' in copied, copied
    return copied


def check_installation_before_any_event(page: Page, watch: Watch) -> None:
    # An answer in place, no reload.
    page.evaluate("window.stayed = true")
    page.click("#check-installation")
    expect(page.locator("#installation-status")).to_contain_text("No event has arrived yet")
    expect(page.locator("#installation-status")).to_contain_text("Still looking")
    for width in ("desktop", "phone"):
        page.set_viewport_size(VIEWPORTS[width])
        themed_shots(page, "settings-still-looking", width, of=page.locator("#installation"))
    page.set_viewport_size(VIEWPORTS["desktop"])
    assert page.evaluate("window.stayed") is True
    # A blocker in this browser is named rather than taken for a missing snippet.
    page.route("**/js/*.js", lambda route: route.abort())
    page.click("#check-installation")
    expect(page.locator("#installation-status")).to_contain_text("did not load the Jetrack script")
    page.unroute("**/js/*.js")
    assert watch.console == ["Failed to load resource: net::ERR_FAILED"]  # the blocked one
    watch.console.clear()


def add_goals_and_a_funnel(page: Page, base: str) -> None:
    """A custom event goal, a revenue goal and a page goal, then a funnel of two of them,
    all through the settings page's forms."""
    goals = [
        {"goal_type": "event", "event_name": "Signup"},
        {"goal_type": "event", "event_name": "Purchase", "currency": "EUR"},
        {"goal_type": "page", "page_path": "/pricing"},
        {"goal_type": "event", "event_name": "Outbound Link: Click"},
    ]
    for goal in goals:
        page.goto(f"{base}/sites/{DOMAIN}/settings#goals")
        form = page.locator('form[action$="/goals#goals"]')
        form.locator(f'input[name=goal_type][value="{goal["goal_type"]}"]').check()
        for name, value in goal.items():
            if name == "currency":
                form.locator("select[name=currency]").select_option(value)
            elif name != "goal_type":
                form.locator(f"input[name={name}]").fill(value)
        form.locator("button[type=submit]").click()
        page.wait_for_url(re.compile(r".*notice=goal-added.*"))
    expect(page.locator("#goals tr[data-goal]")).to_have_count(len(goals))
    form = page.locator('form[action$="/funnels#funnels"]')
    form.locator("input[name=funnel_name]").fill("Pricing to signup")
    form.locator('select[data-step="1"]').select_option(label="Visit /pricing")
    form.locator('select[data-step="2"]').select_option(label="Signup")
    form.locator("button[type=submit]").click()
    page.wait_for_url(re.compile(r".*notice=funnel-added.*"))
    expect(page.locator("#funnels tr[data-funnel] .jt-funnel-path")).to_have_text(
        "Visit /pricing → Signup"
    )


def visit_the_site(browser: Browser, site: SitePages, snippet: str) -> None:
    """A visitor in an ordinary browser: without data-local the console says why nothing
    counts; with it, two pages, a signup, a purchase and an outbound click."""
    local = snippet.replace("<script defer ", "<script defer data-local ", 1)
    assert local != snippet
    away = site.url("/away", host="127.0.0.1")  # another host: an outbound link
    site.pages.update(
        {
            "/plain": page_html("Plain", snippet, ""),
            "/": page_html("Home", local, '<a id="pricing" href="/pricing">Pricing</a>'),
            "/pricing": page_html("Pricing", local, f'<a id="away" href="{away}">Elsewhere</a>'),
            "/away": page_html("Elsewhere", "", ""),
        }
    )
    context = browser.new_context(user_agent=DESKTOP_UA, viewport=VIEWPORTS["desktop"])
    context.add_init_script(HIDE_AUTOMATION)
    page = context.new_page()
    warnings: list[str] = []
    errors: list[str] = []
    page.on("console", lambda m: warnings.append(m.text) if m.type == "warning" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(site.url("/plain"))
    ignored = page.evaluate("new Promise(done => jetrack('Probe', {callback: done}))")
    assert ignored is None  # ignored: the callback runs without an answer
    assert "localhost ignored: set data-local" in warnings, warnings

    page.goto(site.url(f"/?{UTM}"), referer="https://news.example/launch")
    page.click("#pricing")
    page.wait_for_url("**/pricing")
    for call in (
        "jetrack('Signup', {props: {plan: 'pro'}, callback: done})",
        "jetrack('Purchase', {revenue: {amount: 29.9, currency: 'EUR'}, callback: done})",
    ):
        assert page.evaluate(f"new Promise(done => {call})") == {"status": 202}
    with page.expect_request(
        lambda r: r.url.endswith("/api/event") and "Outbound" in (r.post_data or "")
    ):
        page.click("#away")
    page.wait_for_url(away)
    context.close()
    assert not errors, errors


def open_once_stored(page: Page, base: str) -> None:
    """The dashboard once the visit's events are all stored: a second or so after they
    were acknowledged, longer on a busy machine; the dashboard asks once (it refreshes
    itself only in realtime), so it is opened again until its two pageviews and four
    goals are there."""
    deadline = time.monotonic() + 30
    while True:
        page.goto(base + DASHBOARD)
        goals = page.locator('[data-testid="panel-goals"] [data-testid="row"]')
        try:
            wait_for_value(page, '[data-testid="stat-pageviews"]', "data-value", "2", 3_000)
            expect(goals).to_have_count(4, timeout=3_000)
            return
        except AssertionError:
            if time.monotonic() > deadline:
                raise


def see_the_visitor(page: Page, base: str) -> None:
    """The dashboard: live, top stats, the panels; goals, properties and the funnel."""
    open_once_stored(page, base)
    wait_for_value(page, '[data-testid="current-visitors"]', "data-value", "1")
    expect(page.locator('[data-testid="current-visitors"]')).to_contain_text("1 current visitor")
    wait_for_value(page, '[data-testid="stat-visitors"]', "data-value", "1")
    wait_for_value(page, '[data-testid="stat-pageviews"]', "data-value", "2")

    def keys(panel: str) -> list[str]:
        rows = page.locator(f'[data-testid="panel-{panel}"] [data-testid="row"]')
        expect(rows.first).to_be_visible(timeout=20_000)
        return sorted(rows.evaluate_all("rows => rows.map(r => r.dataset.key)"))

    assert keys("pages") == ["/", "/pricing"]
    page.click('[data-testid="tab-sources-sources"]')
    expect(page.locator('[data-testid="panel-sources"] [data-testid="row"]')).to_have_attribute(
        "data-key", "newsletter"
    )
    assert keys("devices") == ["Chrome"]
    assert keys("goals") == ["Outbound Link: Click", "Purchase", "Signup", "Visit /pricing"]
    purchase = page.locator('[data-testid="panel-goals"] [data-testid="row"][data-key="Purchase"]')
    expect(purchase).to_have_attribute("data-total_revenue", "29.9")
    signup = page.locator('[data-testid="panel-goals"] [data-testid="row"][data-key="Signup"]')
    expect(signup).to_have_attribute("data-events", "1")
    expect(page.locator('[data-testid="prop-select"]')).to_have_value("plan")
    assert keys("props") == ["pro"]
    steps = page.locator('[data-testid="panel-funnels"] [data-testid="funnel-step"]')
    expect(steps).to_have_count(2, timeout=20_000)
    assert steps.evaluate_all("s => s.map(x => x.dataset.visitors)") == ["1", "1"]

    # Realtime: the visitor of the last minutes.
    page.click('[data-testid="current-visitors"]')
    page.wait_for_url(re.compile(r".*period=realtime.*"))
    wait_for_value(page, '[data-testid="stat-current-visitors"]', "data-value", "1")
    settled(page)
    themed_shots(page, "realtime", "desktop")
    page.goto(base + DASHBOARD)


def every_panel_and_details(page: Page, width: str, watch: Watch) -> None:
    """Each tab of each list panel, and its Details list where it has rows; the goals and
    properties lists too. A list shows rows or says it is empty; a Details list shows
    rows or "Nothing matches", never an error."""
    for panel, tabs in TABS.items():
        card = page.locator(f'[data-testid="panel-{panel}"]')
        if len(tabs) > 1:
            shown = card.locator('[data-testid^="tab-"]').evaluate_all(
                "els => els.map(e => e.tagName === 'SELECT'"
                " ? [...e.options].filter(o => o.value).map(o => o.value)"
                " : [e.dataset.testid.split('-').slice(2).join('-')]).flat()"
            )
            assert sorted(shown) == sorted(tabs), f"{panel} has tabs {shown}"
        for tab, dimension in tabs.items():
            if tab in GROUPED:
                card.locator(f'[data-testid="tab-{panel}-group"]').select_option(tab)
            elif len(tabs) > 1:
                card.locator(f'[data-testid="tab-{panel}-{tab}"]').click()
            if not dimension:  # the map
                expect(card.locator('[data-testid="world-map"] svg')).to_be_visible()
                themed_shots(page, f"panel-{panel}-{tab}", width, of=card)
                continue
            open_details(page, card, f"{panel}-{tab}", dimension, width)
    for panel in ("goals", "props"):
        card = page.locator(f'[data-testid="panel-{panel}"]')
        open_details(page, card, panel, "", width)
    watch.assert_clean(f"panels at {width}")


def open_details(page: Page, card: Locator, name: str, dimension: str, width: str) -> None:
    rows = card.locator(
        f'ol.jd-rows:not(.jd-loading) [data-testid="row"][data-dimension="{dimension}"]'
        if dimension
        else 'ol.jd-rows:not(.jd-loading) [data-testid="row"]'
    )
    empty = card.locator(".jd-no-rows")
    expect(rows.first.or_(empty)).to_be_visible(timeout=20_000)
    expect(card.locator('[data-testid="error"]')).to_have_count(0)
    if empty.count():
        themed_shots(page, f"panel-{name}", width, of=card)
        return
    card.locator("button.jd-details").click()
    dialog = page.locator('[data-testid="details-dialog"]')
    expect(dialog.locator(".jd-table-wrap:not(.jd-loading)")).to_be_visible(timeout=20_000)
    expect(dialog.locator('[data-testid="details-row"]').first).to_be_visible()
    expect(dialog.locator('[data-testid="error"]')).to_have_count(0)
    shown = dialog.locator('[data-testid="details-row"]').count()
    expect(dialog.locator('[data-testid="details-page"]')).to_contain_text(
        re.compile(rf"· {shown} rows?$" if shown < 25 else r"· [\d,]+ rows$")
    )
    themed_shots(page, f"details-{name}", width, of=dialog)
    page.keyboard.press("Escape")
    expect(dialog).to_have_count(0)


def menus_and_dialogs(page: Page, watch: Watch) -> None:
    """The period menu, comparison, a filter, the segment menu and its dialog, the Notes
    dialog: each opened once, each answering without an error."""
    page.select_option('[data-testid="period-select"]', "7d")
    page.wait_for_url(re.compile(r".*period=7d.*"))
    wait_for_value(page, '[data-testid="stat-visitors"]', "data-value", "1")
    page.select_option('[data-testid="compare-select"]', "year_over_year")
    page.wait_for_url(re.compile(r".*compare=year_over_year.*"))
    settled(page)
    page.select_option('[data-testid="period-select"]', "custom")
    expect(page.locator('[data-testid="custom-from"]')).to_be_visible()
    page.select_option('[data-testid="period-select"]', "30d")
    page.select_option('[data-testid="compare-select"]', "previous_period")
    # A filter from a row, saved as a segment through the segment menu's dialog.
    page.click('[data-testid="panel-pages"] [data-testid="row"][data-key="/pricing"]')
    expect(page.locator('[data-testid="filter-chip"]')).to_contain_text("/pricing")
    wait_for_value(page, '[data-testid="stat-visitors"]', "data-value", "1")
    settled(page)
    page.click('[data-testid="segment-menu-button"]')
    expect(page.locator('[data-testid="segment-menu"]')).to_be_visible()
    themed_shots(page, "segment-menu", "desktop", full_page=False)
    page.click('[data-testid="segment-save-open"]')
    dialog = page.locator('[data-testid="segment-dialog"]')
    expect(dialog).to_be_visible()
    page.fill('[data-testid="segment-name"]', "Pricing visitors")
    themed_shots(page, "segment-dialog", "desktop", full_page=False)
    page.click('[data-testid="segment-save"]')
    expect(dialog).to_have_count(0)
    expect(page.locator('[data-testid="segment-chip"]')).to_contain_text("Pricing visitors")
    # Opened afresh, the segment filters by page: the top stats wait for its filters and
    # leave out views per visit (the engine refuses it there), the funnel applies it too.
    page.reload()
    wait_for_value(page, '[data-testid="stat-pageviews"]', "data-value", "1")
    expect(page.locator('[data-testid="stat-views_per_visit"]')).to_have_count(0)
    settled(page)
    themed_shots(page, "filtered", "desktop")
    page.click('[data-testid="segment-remove"]')
    expect(page.locator('[data-testid="segment-chip"]')).to_have_count(0)
    # Notes: one added, drawn on the graph.
    page.click('[data-testid="notes-button"]')
    notes = page.locator('[data-testid="notes-dialog"]')
    expect(notes).to_be_visible()
    page.fill('[data-testid="note-text"]', "Snippet installed")
    page.click('[data-testid="note-add"]')
    expect(notes.locator('[data-testid="note"]')).to_have_count(1)
    themed_shots(page, "notes-dialog", "desktop", full_page=False)
    page.keyboard.press("Escape")
    expect(notes).to_have_count(0)
    expect(page.locator('[data-testid="notes-button"]')).to_contain_text("Notes (1)")
    watch.assert_clean("menus and dialogs")


def share_a_link(page: Page, base: str) -> None:
    page.goto(f"{base}/sites/{DOMAIN}/shared-links")
    page.fill("input[name=name]", "Investors")
    page.click('form[action$="/shared-links"] button[type=submit]')
    link = page.locator("a.jt-share-url").first
    href = link.get_attribute("href")
    assert href and href.startswith(base + "/share/")
    page.locator("tr[data-link] button.jt-copy").first.click()
    assert page.evaluate("navigator.clipboard.readText()") == href
    assert page.request.get(base + "/favicon.ico").status == 200


def test_the_first_hour_in_chromium(
    live_server_factory: Callable[..., LiveServer], chromium: Browser, site_pages: SitePages
) -> None:
    server = live_server_factory()  # a fresh data dir, no JETRACK_SMTP_HOST
    base = server.url
    context = chromium.new_context(viewport=VIEWPORTS["desktop"], color_scheme="light")
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=base)
    watch = Watch(base)
    page = watch.attach(context.new_page())

    sign_up_and_add_the_site(page, base)
    snippet = copy_the_snippet(page)
    check_installation_before_any_event(page, watch)
    add_goals_and_a_funnel(page, base)
    visit_the_site(chromium, site_pages, snippet)
    # The check now names what it saw: events from the site's own host. They are stored a
    # second or so after the visit: until then it says "none" and asks again by itself.
    page.goto(f"{base}/sites/{DOMAIN}/settings")
    page.click("#check-installation")
    expect(page.locator("#installation-status")).to_contain_text("Installed:", timeout=30_000)
    themed_shots(page, "settings-installed", "desktop")

    see_the_visitor(page, base)
    menus_and_dialogs(page, watch)
    share_a_link(page, base)
    watch.assert_clean("the walk")
    state = context.storage_state()
    context.close()

    for width, viewport in VIEWPORTS.items():
        look = chromium.new_context(
            viewport=viewport,
            color_scheme=THEMES[0],
            storage_state=state,
        )
        watch = Watch(base)
        page = watch.attach(look.new_page())
        for name, path in (
            ("sites", "/sites?notice=signed-up-without-mail"),
            ("settings", f"/sites/{DOMAIN}/settings"),
            ("shared-links", f"/sites/{DOMAIN}/shared-links"),
            ("privacy", "/privacy"),
        ):
            page.goto(base + path)
            themed_shots(page, name, width)
        page.goto(base + DASHBOARD)
        settled(page)
        themed_shots(page, "dashboard", width)
        every_panel_and_details(page, width, watch)
        look.close()
