"""Issue #16 "The first hour", the dashboard's part, in Chromium against the demo server: the
way back to Sites/Account/Log out, the C shortcut's date fields, the map's code-less shapes
and touch caption, whole realtime bars, readable Details names on a phone.
Screenshots (`make shots`) go to test-artifacts/dashboard/."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date, timedelta

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.web.dashboard_world import DEMO, PHONE, SHOP, DemoServer, OpenPage, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_the_header_leads_back_to_sites_account_and_log_out(
    open_page: OpenPage, demo_server: DemoServer
) -> None:
    page = open_page(f"/sites/{DEMO}", token=demo_server.seeded.logout_token)
    expect(page.locator('[data-testid="brand"]')).to_have_attribute("href", "/sites")
    nav = page.locator('[data-testid="account-nav"]')
    expect(nav.locator('a[href="/sites"]')).to_have_text("Sites")
    expect(nav.locator('a[href="/account"]')).to_have_text("Account")
    page.click('[data-testid="logout"]')
    page.wait_for_url("**/login?notice=logged-out")
    # The session is over: the dashboard asks to log in again.
    page.goto(f"{demo_server.url}/sites/{DEMO}")
    assert "/login" in page.url

    shared = open_page(f"/share/{demo_server.seeded.slug}", logged_in=False)
    expect(shared.locator('[data-testid="site-name"]')).to_have_text(DEMO)
    expect(shared.locator('[data-testid="account-nav"]')).to_have_count(0)
    expect(shared.locator('[data-testid="logout"]')).to_have_count(0)
    assert shared.get_attribute('[data-testid="brand"]', "href") is None


def test_the_c_shortcut_opens_dated_custom_range_fields(open_page: OpenPage) -> None:
    page = open_page(f"/sites/{DEMO}")
    expect(page.locator('[data-testid="period-select"]')).to_be_visible()
    page.locator("body").press("c")
    expect(page.locator('[data-testid="period-select"]')).to_have_value("custom")
    today = date.today()  # the demo site's timezone is UTC
    first = page.locator('[data-testid="custom-from"]')
    expect(first).to_have_value((today - timedelta(days=29)).isoformat())
    expect(page.locator('[data-testid="custom-to"]')).to_have_value(today.isoformat())
    expect(first).to_be_focused()
    first.fill((today - timedelta(days=6)).isoformat())
    expect(page.locator('[data-testid="period-label"]')).not_to_have_text("")
    assert (today - timedelta(days=6)).isoformat() in page.url


def test_the_map_paints_no_visitor_on_shapes_without_a_country_code(open_page: OpenPage) -> None:
    # The shop's visitors have no known country (no geo data when they were seeded).
    page = open_page(f"/sites/{SHOP}?period=7d")
    page.click('[data-testid="tab-locations-map"]')
    codeless = page.locator('[data-testid="world-map"] path[data-country=""]')
    expect(codeless).to_have_count(3)  # Somaliland, Kosovo, Northern Cyprus
    expect(page.locator('[data-testid="world-map"] path.jd-has')).to_have_count(0)
    titles = codeless.evaluate_all("ps => ps.map(p => p.textContent).sort()")
    assert titles == ["Kosovo", "N. Cyprus", "Somaliland"]


@pytest.fixture
def touch_phone(chromium: Browser, demo_server: DemoServer) -> Iterator[Page]:
    context = chromium.new_context(viewport=PHONE, has_touch=True, is_mobile=True)  # type: ignore[arg-type]
    context.add_cookies(
        [{"name": "jt_session", "value": demo_server.seeded.owner_token, "url": demo_server.url}]
    )
    page = context.new_page()
    page.goto(f"{demo_server.url}/sites/{DEMO}")
    yield page
    context.close()


def test_the_phone_map_is_large_and_says_tap(touch_phone: Page) -> None:
    page = touch_phone
    page.click('[data-testid="tab-locations-map"]')
    svg = page.locator('[data-testid="world-map"] svg')
    expect(svg).to_be_visible()
    box = svg.bounding_box()
    assert box is not None and box["width"] >= 600 and box["height"] >= 300, box
    expect(page.locator(".jd-map-caption")).to_contain_text("Tap a country")
    screenshot(page, "phone-map-touch")


def test_phone_details_keep_the_names_readable(open_page: OpenPage) -> None:
    page = open_page(f"/sites/{DEMO}", viewport=PHONE)
    page.click('[data-testid="tab-locations-cities"]')
    page.click('[data-testid="details-locations"]')
    expect(page.locator('[data-testid="details-row"]').first).to_be_visible()
    widths = page.locator('[data-testid="details-row"] td:first-child').evaluate_all(
        "cells => cells.map(c => c.getBoundingClientRect().width)"
    )
    assert min(widths) >= 150, widths  # was ~20 px: one letter per line
    screenshot(page, "phone-details")


def test_realtime_bars_are_whole_and_have_no_dots(open_page: OpenPage) -> None:
    page = open_page(f"/sites/{DEMO}?period=realtime")
    chart = page.locator('[data-testid="chart"]')
    expect(chart).to_have_attribute("data-dots", "false")
    expect(chart).to_have_attribute("data-x-min", re.compile(r"^\d"))
    values = {
        name: float(chart.get_attribute(f"data-{name}") or "nan")
        for name in ("x-min", "x-max", "first-x", "last-x")
    }
    # Half a minute either side: the first and last bars are drawn whole.
    assert values["x-min"] == values["first-x"] - 30, values
    assert values["x-max"] == values["last-x"] + 30, values


HEADER_ROWS = """() => {
  const items = [...document.querySelectorAll('.jd-header-row > *')].filter(
    (e) => e.getBoundingClientRect().height > 0 && getComputedStyle(e).position !== 'absolute')
  const tops = []
  for (const e of items) {
    const top = e.getBoundingClientRect().top
    if (!tops.some((t) => Math.abs(t - top) < 12)) tops.push(top)
  }
  const right = Math.max(...items.map((e) => e.getBoundingClientRect().right))
  return { rows: tops.length, right, scroll: document.documentElement.scrollWidth }
}"""


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_the_phone_header_takes_two_rows_and_folds_the_rest_into_a_menu(
    chromium: Browser, demo_server: DemoServer, scheme: str
) -> None:
    context = chromium.new_context(viewport=PHONE, color_scheme=scheme)  # type: ignore[arg-type]
    context.add_cookies(
        [{"name": "jt_session", "value": demo_server.seeded.owner_token, "url": demo_server.url}]
    )
    page = context.new_page()
    page.goto(f"{demo_server.url}/sites/{DEMO}")
    expect(page.locator('[data-testid="current-visitors"]')).not_to_have_attribute("data-value", "")
    layout = page.evaluate(HEADER_ROWS)
    assert layout["rows"] <= 2, layout  # was 5: brand, site, visitors, buttons, links
    assert layout["right"] <= PHONE["width"] and layout["scroll"] <= PHONE["width"], layout
    nav = page.locator('[data-testid="account-nav"]')
    expect(nav).to_be_hidden()
    menu = page.locator('[data-testid="menu-button"]')
    expect(menu).to_have_attribute("aria-expanded", "false")
    menu.click()
    expect(menu).to_have_attribute("aria-expanded", "true")
    for testid in ("export-button", "settings-link", "theme-toggle", "logout"):
        box = page.locator(f'[data-testid="{testid}"]').bounding_box()
        assert box and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], (testid, box)
    expect(nav.locator('a[href="/account"]')).to_be_visible()
    screenshot(page, f"phone-header-menu-{scheme}")
    page.keyboard.press("Escape")
    expect(nav).to_be_hidden()
    expect(menu).to_be_focused()
    menu.click()
    page.locator('[data-testid="period-select"]').click(position={"x": 5, "y": 5})
    expect(nav).to_be_hidden()  # a click elsewhere closes it too
    context.close()


def test_the_desktop_header_shows_its_actions_without_a_menu(open_page: OpenPage) -> None:
    page = open_page(f"/sites/{DEMO}", viewport={"width": 1440, "height": 900})
    expect(page.locator('[data-testid="menu-button"]')).to_be_hidden()
    expect(page.locator('[data-testid="account-nav"]')).to_be_visible()
    expect(page.locator('[data-testid="export-button"]')).to_be_visible()
    assert page.evaluate(HEADER_ROWS)["rows"] <= 2
