"""The dashboard's views in Debian's Chromium: the theme sticks on desktop and phone, the
shared view is read-only, a site without data shows its snippet, a site with only imported
history shows its channels and goal conversions and says which panels leave it out (the
numbers on screen are the Stats API's). Screenshots (`make shots`) go to test-artifacts/dashboard/."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.web.dashboard_checks import last_days, numbers_equal, top_stats_equal
from tests.web.dashboard_world import (
    DEMO,
    EMPTY,
    IMPORTED,
    PHONE,
    DemoServer,
    OpenPage,
    screenshot,
)

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.mark.parametrize("device", ["desktop", "phone"])
def test_theme_persists_across_reloads(
    open_page: OpenPage, demo_server: DemoServer, device: str
) -> None:
    viewport = PHONE if device == "phone" else {"width": 1280, "height": 900}
    page = open_page(f"/sites/{DEMO}", viewport=viewport)
    toggle = page.locator('[data-testid="theme-toggle"]')
    expect(page.locator("html")).to_have_attribute("data-theme", "system")
    for theme in ("light", "dark"):
        while toggle.get_attribute("data-theme-value") != theme:
            if device == "phone" and not toggle.is_visible():
                page.click('[data-testid="menu-button"]')  # a phone's header folds it away
            toggle.click()
        page.reload()
        expect(page.locator("html")).to_have_attribute("data-theme", theme)
        expect(toggle).to_have_attribute("data-theme-value", theme)
        cookies = {c["name"]: c["value"] for c in page.context.cookies()}
        assert cookies["jt_theme"] == theme
        top_stats_equal(page, demo_server, {"date_range": last_days(30)})
        page.locator('[data-testid="world-map"]').wait_for()
        page.wait_for_timeout(300)  # let the chart and map settle before the picture
        screenshot(page, f"{device}-{theme}")
    # Loaded, the dashboard runs no endless animation (a tab left open would draw frames
    # all day): the live dot beats a few times after each refresh, and not at all when
    # the reader asks for reduced motion.
    page.wait_for_function(ENDLESS_ANIMATIONS_GONE, timeout=15_000)
    dot = page.locator('[data-testid="current-visitors"] .jd-pulse')
    assert dot.evaluate("e => getComputedStyle(e).animationIterationCount") == "3"
    page.emulate_media(reduced_motion="reduce")
    assert dot.evaluate("e => getComputedStyle(e).animationName") == "none"


ENDLESS_ANIMATIONS_GONE = (
    "() => document.getAnimations().every(a => a.effect.getTiming().iterations !== Infinity)"
)


def test_the_shared_view_exposes_no_settings(open_page: OpenPage, demo_server: DemoServer) -> None:
    page = open_page(f"/share/{demo_server.seeded.slug}", logged_in=False)
    top_stats_equal(page, demo_server, {"date_range": last_days(30)})
    expect(page.locator('[data-testid="site-name"]')).to_have_text(DEMO)
    expect(page.locator('[data-testid="settings-link"]')).to_have_count(0)
    expect(page.locator('[data-testid="site-switcher"]')).to_have_count(0)
    expect(page.locator('a[href*="settings"], a[href^="/sites"]')).to_have_count(0)
    page.click('[data-testid="panel-pages"] [data-testid="row"][data-key="/pricing"]')
    top_stats_equal(
        page,
        demo_server,
        {"date_range": last_days(30), "filters": [["is", "event:page", ["/pricing"]]]},
    )
    screenshot(page, "shared-desktop")
    phone = open_page(f"/share/{demo_server.seeded.slug}", logged_in=False, viewport=PHONE)
    top_stats_equal(phone, demo_server, {"date_range": last_days(30)})
    screenshot(phone, "shared-phone")


def test_a_site_without_data_shows_its_snippet(
    open_page: OpenPage, demo_server: DemoServer
) -> None:
    page = open_page(f"/sites/{DEMO}")
    top_stats_equal(page, demo_server, {"date_range": last_days(30)})
    page.select_option('[data-testid="site-switcher"]', EMPTY)
    page.wait_for_url(f"**/sites/{EMPTY}")
    # The whole-history check is one more query after the top stats: a loaded machine
    # answers it slowly.
    expect(page.locator('[data-testid="empty-state"]')).to_be_visible(timeout=30_000)
    expect(page.locator('[data-testid="snippet"]')).to_contain_text(f'data-domain="{EMPTY}"')
    screenshot(page, "empty-site")


def test_a_site_with_only_imported_history(open_page: OpenPage, demo_server: DemoServer) -> None:
    page = open_page(f"/sites/{IMPORTED}")
    answer = demo_server.api({"site_id": IMPORTED, "date_range": last_days(30),
                              "include": {"imports": True}, "metrics": ["visitors"],
                              "dimensions": ["visit:channel"]})  # fmt: skip
    expected = {row["dimensions"][0]: row["metrics"][0] for row in answer["results"]}
    assert set(expected) == {"Organic Search", "Organic Social", "Direct"}, answer
    # The Sources panel opens on Channels: the imported channels, and no note.
    sources = page.locator('[data-testid="panel-sources"]')
    rows = sources.locator('[data-testid="row"]')
    expect(rows).to_have_count(3)
    shown = {row.get_attribute("data-key"): int(row.get_attribute("data-value") or 0)
             for row in rows.all()}  # fmt: skip
    assert shown == expected
    # Panels whose query imports cannot answer say so; the others do not.
    languages = page.locator('[data-testid="panel-languages"] [data-testid="imports-note"]')
    expect(languages).to_have_text("Imported data is not included here")
    devices = page.locator('[data-testid="panel-devices"] [data-testid="imports-note"]')
    page.click('[data-testid="tab-devices-screens"]')
    expect(devices).to_be_visible()
    page.click('[data-testid="tab-devices-devices"]')
    expect(devices).to_have_count(0)
    expect(sources.locator('[data-testid="imports-note"]')).to_have_count(0)
    # Goal conversions: the imported custom events and pages of its goals, as the API counts.
    goals_answer = demo_server.api({"site_id": IMPORTED, "date_range": last_days(30),
                                    "include": {"imports": True}, "metrics": ["visitors"],
                                    "dimensions": ["event:goal"]})  # fmt: skip
    converted = {row["dimensions"][0]: row["metrics"][0] for row in goals_answer["results"]}
    assert set(converted) == {"Signup", "Visit /pricing"} and all(converted.values()), goals_answer
    goals = page.locator('[data-testid="panel-goals"]')
    goal_rows = goals.locator('[data-testid="row"]')
    expect(goal_rows).to_have_count(2)
    assert {row.get_attribute("data-key"): int(row.get_attribute("data-value") or 0)
            for row in goal_rows.all()} == converted  # fmt: skip
    expect(goals.locator('[data-testid="imports-note"]')).to_have_count(0)
    screenshot(page, "imported-site")
    # Filtered by that goal, the top stats are its conversions, imported ones included.
    goals.locator('[data-testid="row"][data-key="Signup"]').click()
    signup = demo_server.api({"site_id": IMPORTED, "date_range": last_days(30),
                              "include": {"imports": True},
                              "metrics": ["visitors", "events", "conversion_rate"],
                              "filters": [["is", "event:goal", ["Signup"]]]})  # fmt: skip
    assert signup["meta"]["imports_included"] is True
    metrics = signup["results"][0]["metrics"]
    assert metrics[0] == converted["Signup"] and metrics[2] > 0
    numbers_equal(page, {"stat-visitors": metrics[0], "stat-events": metrics[1],
                         "stat-conversion_rate": metrics[2]})  # fmt: skip
