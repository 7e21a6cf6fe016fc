"""A funnel from end to end in Chromium: an owner adds two goals and a funnel in the site
settings, three visitors browse a real page with the tracker (in order, halfway, out of
order), and the dashboard's Funnels panel shows what the Stats API counts. Screenshots at
1440x900 and 390x844, light and dark, go to test-artifacts/funnels/."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from jetrack.accounts.api_keys import create_api_key
from jetrack.accounts.login_sessions import start_session
from jetrack.accounts.users import create_user
from jetrack.sites.sites import add_site
from jetrack.store.stores import Stores
from tests.conftest import LiveServer
from tests.support import shots
from tests.support.shots import shot

from .collector import Collector
from .conftest import HIDE_AUTOMATION, page_html, track_and_wait

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ARTIFACTS = shots.ARTIFACTS / "funnels"
VIEWPORTS = {"desktop": {"width": 1440, "height": 900}, "phone": {"width": 390, "height": 844}}
UA = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/{}.0.0.0 Safari/537.36"
)


@dataclass
class Owner:
    token: str = ""
    key: str = ""

    def __call__(self, stores: Stores) -> None:
        with stores.control.session() as session:
            user = create_user(session, "ada@example.com", password="correct horse battery")
            add_site(session, user, "example.com")
            _, self.key = create_api_key(session, user, "funnels")
            _, self.token = start_session(session, user)


def signed_in(browser: Browser, server: LiveServer, owner: Owner, **options: Any) -> BrowserContext:
    context = browser.new_context(**options)
    context.add_cookies([{"name": "jt_session", "value": owner.token, "url": server.url}])
    return context


def funnel_answer(server: LiveServer, owner: Owner, funnel_id: int) -> dict[str, Any]:
    response = httpx.post(
        f"{server.url}/api/v2/funnel",
        json={"site_id": "example.com", "funnel_id": funnel_id, "date_range": "day"},
        headers={"Authorization": f"Bearer {owner.key}"},
        timeout=10,
    )
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


def test_a_funnel_made_in_settings_counts_tracked_visits(
    live_server_factory: Any, collector: Collector, browser: Browser
) -> None:
    owner = Owner()
    server: LiveServer = live_server_factory(owner)
    context = signed_in(browser, server, owner, viewport=VIEWPORTS["desktop"])
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))

    # Settings: the funnel needs goals first, then takes two of them in order.
    page.goto(f"{server.url}/sites/example.com/settings")
    expect(page.locator("#funnel-needs-goals")).to_be_visible()
    page.check("input[name=goal_type][value=page]")
    page.fill("input[name=page_path]", "/pricing")
    page.click("button:has-text('Add goal')")
    page.check("input[name=goal_type][value=event]")
    page.fill("input[name=event_name]", "Signup")
    page.click("button:has-text('Add goal')")
    page.fill("input[name=funnel_name]", "Pricing to signup")
    page.select_option('select[data-step="1"]', label="Visit /pricing")
    page.select_option('select[data-step="2"]', label="Signup")
    page.click("button:has-text('Add funnel')")
    page.wait_for_url(re.compile(r".*notice=funnel-added#funnels$"))
    row = page.locator("tr[data-funnel]")
    expect(row).to_contain_text("Visit /pricing → Signup")
    funnel_id = int(row.get_attribute("data-funnel") or 0)

    # Three visitors (three browsers) on a page with the tracker, events to Jetrack.
    attrs = f'data-local data-api="{server.url}/api/event"'
    pricing = collector.add_page(
        "/pricing", page_html(collector, domain="example.com", attrs=attrs)
    )
    home = collector.add_page("/", page_html(collector, domain="example.com", attrs=attrs))
    visitors = []
    for number in range(3):
        visitor = browser.new_context(user_agent=UA.format(124 + number))
        visitor.add_init_script(HIDE_AUTOMATION)
        visitors.append(visitor.new_page())
    completes, halfway, backwards = visitors
    completes.goto(pricing)
    assert track_and_wait(completes, "Signup") == {"status": 202}
    halfway.goto(pricing)
    backwards.goto(home)
    assert track_and_wait(backwards, "Signup") == {"status": 202}
    backwards.wait_for_timeout(1100)  # a later second: the order is known
    backwards.goto(pricing)
    backwards.wait_for_timeout(300)

    # The write buffer flushes about once a second.
    deadline = time.monotonic() + 20
    while True:
        answer = funnel_answer(server, owner, funnel_id)
        counts = [step["visitors"] for step in answer["steps"]]
        if counts == [3, 1] or time.monotonic() > deadline:
            break
        time.sleep(0.25)
    assert counts == [3, 1], answer
    assert answer["conversion_rate"] == 33.33 and answer["all_visitors"] == 3

    # The dashboard shows the same numbers.
    page.goto(f"{server.url}/sites/example.com?period=day")
    panel = page.locator('[data-testid="panel-funnels"]')
    panel.scroll_into_view_if_needed()
    steps = panel.locator('[data-testid="funnel-step"]')
    expect(steps).to_have_count(2)
    expect(steps.nth(0)).to_have_attribute("data-visitors", "3")
    expect(steps.nth(1)).to_have_attribute("data-visitors", "1")
    expect(steps.nth(1)).to_have_attribute("data-dropoff", "2")
    expect(panel.locator('[data-testid="funnel-conversion"]')).to_have_text("33.3%")
    expect(panel.locator('[data-testid="funnel-select"]')).to_have_value(str(funnel_id))
    expect(steps.nth(1)).to_contain_text("2 dropped off (66.7%)")
    assert errors == []
    for visitor_page in visitors:
        visitor_page.context.close()
    context.close()

    for label, viewport in VIEWPORTS.items():
        for scheme in ("light", "dark"):
            themed = signed_in(browser, server, owner, viewport=viewport, color_scheme=scheme)
            view = themed.new_page()
            view.goto(f"{server.url}/sites/example.com?period=day")
            funnel = view.locator('[data-testid="panel-funnels"] [data-testid="funnel-step"]')
            expect(funnel).to_have_count(2)
            assert_fits(view)
            shot(
                view.locator('[data-testid="panel-funnels"]'),
                ARTIFACTS / f"panel-{label}-{scheme}.png",
            )
            shot(view, ARTIFACTS / f"dashboard-{label}-{scheme}.png")
            if shots.wanted():
                view.goto(f"{server.url}/sites/example.com/settings#funnels")
                shot(view.locator("#funnels"), ARTIFACTS / f"settings-{label}-{scheme}.png")
            themed.close()


def assert_fits(page: Page) -> None:
    """Nothing in the panel is wider than the screen (a phone must not scroll sideways)."""
    overflow = page.evaluate(
        """() => [...document.querySelectorAll('[data-testid="panel-funnels"] *')]
            .filter(el => el.getBoundingClientRect().right > document.documentElement.clientWidth + 1)
            .map(el => el.className)"""
    )
    assert overflow == []
