"""The dashboard in Debian's Chromium against a real server with the demo data: the numbers
on screen are the Stats API's, filters, ranges and comparisons work.
Screenshots (`make shots`) go to test-artifacts/dashboard/.

The dashboard's browser tests are three modules (this one, test_dashboard_views_browser.py
and test_dashboard_goals_browser.py), so that pytest-xdist runs them on several workers;
each module has one seeded server and one Chromium (tests/web/dashboard_world.py)."""

from __future__ import annotations

import json
import time
from typing import Any
from urllib.parse import unquote

import httpx
import pytest
from playwright.sync_api import expect

from tests.tracker.conftest import DESKTOP_UA
from tests.web.dashboard_checks import (
    last_days,
    last_months,
    numbers_equal,
    panel_equals,
    top_stats_equal,
)
from tests.web.dashboard_world import DEMO, DemoServer, OpenPage, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_numbers_on_screen_equal_the_stats_api(
    open_page: OpenPage, demo_server: DemoServer
) -> None:
    page = open_page(f"/sites/{DEMO}")
    top_stats_equal(
        page,
        demo_server,
        {"date_range": last_days(30), "include": {"comparisons": {"mode": "previous_period"}}},
    )
    panel_equals(page, demo_server, "pages", "event:page", {"date_range": last_days(30)})
    panel_equals(page, demo_server, "sources", "visit:channel", {"date_range": last_days(30)})
    page.click('[data-testid="tab-sources-sources"]')
    panel_equals(page, demo_server, "sources", "visit:source", {"date_range": last_days(30)})
    page.click('[data-testid="tab-locations-countries"]')
    panel_equals(page, demo_server, "locations", "visit:country", {"date_range": last_days(30)})
    page.click('[data-testid="tab-devices-os"]')
    panel_equals(page, demo_server, "devices", "visit:os", {"date_range": last_days(30)})
    panel_equals(page, demo_server, "languages", "visit:language", {"date_range": last_days(30)})

    series = demo_server.api(
        {"metrics": ["visitors"], "date_range": last_days(30), "dimensions": ["time:day"]}
    )
    total = sum(r["metrics"][0] for r in series["results"])
    numbers_equal(page, {"chart": total}, "data-total")
    expect(page.locator('[data-testid="chart"]')).to_have_attribute("data-has-comparison", "true")
    expect(page.locator('[data-testid="current-visitors"]')).not_to_have_attribute("data-value", "")

    # Details: the full list, paginated, with the API's row count.
    page.click('[data-testid="tab-locations-cities"]')
    page.click('[data-testid="details-locations"]')
    cities = demo_server.api(
        {
            "metrics": ["visitors"],
            "date_range": last_days(30),
            "dimensions": ["visit:city_name"],
            "include": {"total_rows": True},
            "pagination": {"limit": 1},
        }
    )["meta"]["total_rows"]
    assert cities > 25
    expect(page.locator('[data-testid="details-page"]')).to_contain_text(
        f"Page 1 of {-(-cities // 25)} · {cities:,} rows"
    )
    expect(page.locator('[data-testid="details-row"]')).to_have_count(25)
    page.click('[data-testid="details-next"]')
    expect(page.locator('[data-testid="details-row"]')).to_have_count(min(25, cities - 25))
    page.keyboard.press("Escape")
    expect(page.locator('[data-testid="details-dialog"]')).to_have_count(0)
    screenshot(page, "desktop-light")


def test_clicking_a_source_filters_every_panel(
    open_page: OpenPage, demo_server: DemoServer
) -> None:
    page = open_page(f"/sites/{DEMO}")
    page.click('[data-testid="tab-sources-sources"]')
    page.click('[data-testid="panel-sources"] [data-testid="row"][data-key="Google"]')
    expect(page.locator('[data-testid="filter-chip"]')).to_contain_text("Source is Google")
    assert "f=is,visit:source,Google" in unquote(page.url)

    source_google: list[Any] = ["is", "visit:source", ["Google"]]
    google: dict[str, Any] = {"date_range": last_days(30), "filters": [source_google]}
    top_stats_equal(
        page, demo_server, {**google, "include": {"comparisons": {"mode": "previous_period"}}}
    )
    panel_equals(page, demo_server, "sources", "visit:source", google)
    panel_equals(page, demo_server, "pages", "event:page", google)
    panel_equals(page, demo_server, "languages", "visit:language", google)
    page.click('[data-testid="tab-locations-countries"]')
    panel_equals(page, demo_server, "locations", "visit:country", google)
    # A browser filter turns the browsers list into that browser's versions.
    page.click('[data-testid="panel-devices"] [data-testid="row"][data-key="Chrome"]')
    both = {**google, "filters": [source_google, ["is", "visit:browser", ["Chrome"]]]}
    panel_equals(page, demo_server, "devices", "visit:browser_version", both)
    expect(page.locator('[data-testid="filter-chip"]')).to_have_count(2)

    # The back button undoes one filter at a time; forward redoes it.
    page.go_back()
    expect(page.locator('[data-testid="filter-chip"]')).to_have_count(1)
    page.go_back()
    expect(page.locator('[data-testid="filter-chip"]')).to_have_count(0)
    top_stats_equal(page, demo_server, {"date_range": last_days(30)})
    page.go_forward()
    expect(page.locator('[data-testid="filter-chip"]')).to_have_count(1)
    top_stats_equal(page, demo_server, google)
    page.click('[data-testid="filter-remove"]')
    expect(page.locator('[data-testid="filter-chip"]')).to_have_count(0)
    assert "visit:source" not in unquote(page.url)


def test_changing_range_and_comparison(open_page: OpenPage, demo_server: DemoServer) -> None:
    page = open_page(f"/sites/{DEMO}")
    top_stats_equal(page, demo_server, {"date_range": last_days(30)})

    page.select_option('[data-testid="period-select"]', "7d")
    assert "period=7d" in page.url
    previous = {"comparisons": {"mode": "previous_period"}}
    top_stats_equal(page, demo_server, {"date_range": last_days(7), "include": previous})

    page.keyboard.press("m")  # month to date
    assert "period=month" in page.url
    top_stats_equal(page, demo_server, {"date_range": "month", "include": previous})

    page.select_option('[data-testid="period-select"]', "91d")
    page.select_option('[data-testid="compare-select"]', "year_over_year")
    assert "compare=year_over_year" in page.url
    yoy = {"comparisons": {"mode": "year_over_year"}}
    top_stats_equal(page, demo_server, {"date_range": last_days(91), "include": yoy})

    page.select_option('[data-testid="compare-select"]', "off")
    expect(page.locator('[data-testid^="change-"]')).to_have_count(0)
    expect(page.locator('[data-testid="chart"]')).to_have_attribute("data-has-comparison", "false")

    page.select_option('[data-testid="period-select"]', "custom")
    page.fill('[data-testid="custom-from"]', "2020-01-01")
    page.fill('[data-testid="custom-to"]', "2100-12-31")
    assert "from=2020-01-01" in page.url and "to=2100-12-31" in page.url
    top_stats_equal(page, demo_server, {"date_range": ["2020-01-01", "2100-12-31"]})

    # A shared URL opens in the same state; the interval follows the URL too.
    page.goto(f"{demo_server.url}/sites/{DEMO}?period=12mo&compare=off&interval=week")
    top_stats_equal(page, demo_server, {"date_range": last_months(12)})
    expect(page.locator('[data-testid="interval-select"]')).to_have_value("week")

    # Realtime: a visit now (the demo data's own last visits may be older than the view's
    # 5 minutes by the time this test runs), stored before the view opens.
    visit = httpx.post(
        demo_server.url + "/api/event",
        content=json.dumps({"n": "pageview", "u": f"https://{DEMO}/live", "d": DEMO}),
        headers={"Content-Type": "text/plain", "User-Agent": DESKTOP_UA},
        timeout=30,
    )
    assert visit.status_code == 202, visit.text
    current = demo_server.url + f"/api/v1/stats/realtime/visitors?site_id={DEMO}"
    key = {"Authorization": f"Bearer {demo_server.seeded.api_key}"}
    deadline = time.monotonic() + 30
    while httpx.get(current, headers=key, timeout=30).json() == 0:
        assert time.monotonic() < deadline, "the visit was not stored within 30 s"
        time.sleep(0.2)
    page.keyboard.press("r")  # realtime
    card = page.locator('[data-testid="stat-current-visitors"]')
    expect(card).not_to_have_attribute("data-value", "")
    assert float(card.get_attribute("data-value") or 0) > 0


def test_top_pages_details_show_bounce_rates(open_page: OpenPage, demo_server: DemoServer) -> None:
    # Pages -> Details asks bounce_rate by event:page, which the engine used to refuse
    # ("bounce_rate is a visit metric ..."): the dialog showed an error and no rows.
    page = open_page(f"/sites/{DEMO}")
    page.click('[data-testid="details-pages"]')
    dialog = page.locator('[data-testid="details-dialog"]')
    expect(dialog.locator('[data-testid="details-row"]').first).to_be_visible()
    expect(dialog.locator('[data-testid="error"]')).to_have_count(0)
    top = demo_server.api(
        {
            "metrics": ["visitors", "pageviews", "bounce_rate"],
            "date_range": last_days(30),
            "dimensions": ["event:page"],
            "order_by": [["visitors", "desc"]],
            "pagination": {"limit": 1},
        }
    )["results"][0]
    assert any(value > 0 for value in top["metrics"][2:])  # the page has entries
    first = dialog.locator('[data-testid="details-row"]').first
    expect(first).to_contain_text(top["dimensions"][0])
    # The bounce rate column (after visitors and pageviews) holds the API's number.
    expect(first.locator("td").nth(3)).to_have_attribute("title", str(top["metrics"][2]))
