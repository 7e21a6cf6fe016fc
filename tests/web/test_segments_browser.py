"""Segments and notes in Chromium against a demo server: save the filters as a segment, find
it again after a reload, apply it and see the numbers the Stats API gives for the segment;
add a note and see it on the graph, on the owner's dashboard and on a shared link.
Screenshots (1440x900 and 390x844, light and dark) (`make shots`) go to test-artifacts/dashboard/."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import Page, expect

from tests.web.dashboard_checks import last_days, top_stats_equal
from tests.web.dashboard_world import DEMO, PHONE, DemoServer, OpenPage, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.slow]

WIDE = {"width": 1440, "height": 900}
GERMANY = [["is", "visit:country", ["DE"]]]


def _visitors(page: Page) -> float:
    shown = page.get_attribute('[data-testid="stat-visitors"]', "data-value", timeout=15000)
    return float(shown or "nan")


def _segment_in_url(page: Page) -> int:
    return int(parse_qs(urlsplit(page.url).query)["segment"][0])


def _pictures(page: Page, name: str) -> None:
    for theme in ("light", "dark"):
        page.context.add_cookies([{"name": "jt_theme", "value": theme, "url": page.url}])
        page.reload()
        expect(page.locator("html")).to_have_attribute("data-theme", theme)
        page.locator('[data-testid="note-marker"]').first.wait_for()
        page.wait_for_timeout(300)  # the chart settles
        screenshot(page, f"{name}-{theme}")
        page.click('[data-testid="segment-menu-button"]')
        screenshot(page, f"{name}-menu-{theme}")
        page.keyboard.press("Escape")
        # Closed by the key (the menu once stayed open when the key came right after the
        # click, and the next click on its button closed it instead).
        expect(page.locator('[data-testid="segment-menu"]')).to_have_count(0)


def test_save_reload_and_apply_a_segment_then_note_the_graph(
    open_page: OpenPage, demo_server: DemoServer
) -> None:
    page = open_page(f"/sites/{DEMO}?f=is,visit:country,DE", viewport=WIDE)
    germans = top_stats_equal(page, demo_server, {"date_range": last_days(30), "filters": GERMANY})
    page.click('[data-testid="segment-menu-button"]')
    page.click('[data-testid="segment-save-open"]')
    expect(page.locator('[data-testid="segment-filters"]')).to_contain_text("Country is Germany")
    page.fill('[data-testid="segment-name"]', "Germans")
    page.click('[data-testid="segment-save"]')
    chip = page.locator('[data-testid="segment-chip"]')
    expect(chip).to_contain_text("Germans")
    expect(page.locator('[data-testid="filter-chip"]')).to_have_count(0)
    segment_id = _segment_in_url(page)

    page.reload()
    expect(chip).to_contain_text("Germans")
    by_segment: dict[str, Any] = {
        "date_range": last_days(30),
        "filters": [["is", "segment", [segment_id]]],
    }
    assert top_stats_equal(page, demo_server, by_segment)["results"] == germans["results"]

    page.click('[data-testid="segment-remove"]')
    everyone = top_stats_equal(page, demo_server, {"date_range": last_days(30)})
    all_visitors = everyone["results"][0]["metrics"][0]
    page.click('[data-testid="segment-menu-button"]')
    page.click('[data-testid="segment-apply"][data-name="Germans"]')
    top_stats_equal(page, demo_server, by_segment)
    assert 0 < _visitors(page) < all_visitors  # the numbers changed to the segment's
    assert _segment_in_url(page) == segment_id

    # A note three days ago: one marker on the graph, its text on hover.
    day = (datetime.now(UTC) - timedelta(days=3)).date().isoformat()
    page.click('[data-testid="notes-button"]')
    page.locator('[data-testid="notes-dialog"]').wait_for()
    page.fill('[data-testid="note-date"]', day)
    page.fill('[data-testid="note-text"]', "Launched on <b>Product Hunt</b>")
    page.click('[data-testid="note-add"]')
    expect(page.locator('[data-testid="note"]')).to_have_count(1)
    page.click('[data-testid="notes-dialog"] .jd-dialog-head button')
    marker = page.locator('[data-testid="note-marker"]')
    expect(marker).to_have_count(1)
    expected_x = str(int(datetime.fromisoformat(f"{day}T00:00:00+00:00").timestamp()))
    expect(marker).to_have_attribute("data-x", expected_x)
    marker.hover()
    tip = page.locator('[data-testid="note-tip"]')
    expect(tip).to_be_visible()
    expect(tip).to_contain_text(f"{day} Launched on <b>Product Hunt</b>")  # text, not markup
    _pictures(page, "segments-1440")

    phone = open_page(f"/sites/{DEMO}?segment={segment_id}", viewport=PHONE)
    top_stats_equal(phone, demo_server, by_segment)
    phone.locator('[data-testid="note-marker"]').click()  # a tap pins the note open
    expect(phone.locator('[data-testid="note-tip"]')).to_be_visible()
    _pictures(phone, "segments-390")

    # A shared link shows the note read-only and none of the owner's personal segments.
    shared = open_page(f"/share/{demo_server.seeded.slug}", logged_in=False, viewport=WIDE)
    # The marker comes with the graph, after the shared link's first queries: on a busy
    # machine (the suite on more workers than cores) that takes longer than 5 s.
    expect(shared.locator('[data-testid="note-marker"]')).to_have_count(1, timeout=30_000)
    shared.click('[data-testid="notes-button"]')
    expect(shared.locator('[data-testid="note"]')).to_have_count(1)
    expect(shared.locator('[data-testid="note-add"]')).to_have_count(0)
    expect(shared.locator('[data-testid="note-delete"]')).to_have_count(0)
    expect(shared.locator('[data-testid="segment-menu-button"]')).to_have_count(0)

    # Deleting the segment from its dialog takes it off the view.
    page.click('[data-testid="segment-menu-button"]')
    page.click('[data-testid="segment-edit"]')
    page.click('[data-testid="segment-delete"]')
    page.click('[data-testid="segment-delete"]')  # "Really delete?"
    expect(chip).to_have_count(0)
    top_stats_equal(page, demo_server, {"date_range": last_days(30)})
    # No filter and no segment left: the filter bar, and its menu, are gone.
    expect(page.locator('[data-testid="segment-menu-button"]')).to_have_count(0)
