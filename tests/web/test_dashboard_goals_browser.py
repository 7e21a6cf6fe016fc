"""Goals, funnels and revenue on the dashboard in Debian's Chromium: a goal switches it to
conversions, the funnels panel and the revenue columns show the Stats API's numbers.
Screenshots (`make shots`) go to test-artifacts/dashboard/."""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.web.dashboard_checks import (
    last_days,
    numbers_equal,
    rows_equal,
    wait_for,
)
from tests.web.dashboard_world import (
    DEMO,
    PHONE,
    SHOP,
    SHOP_GOALS,
    DemoServer,
    OpenPage,
    screenshot,
)

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_goals_switch_the_dashboard_to_conversions(open_page: OpenPage) -> None:
    page = open_page(f"/sites/{SHOP}")
    rows_equal(
        page,
        "goals",
        {name: (float(v), float(e), float(cr)) for name, (v, e, cr) in SHOP_GOALS.items()},
    )
    expect(page.locator('[data-testid="top-stats"]')).to_have_attribute("data-mode", "traffic")

    page.click('[data-testid="panel-goals"] [data-testid="row"][data-key="Signup"]')
    assert "f=is,event:goal,Signup" in unquote(page.url)
    expect(page.locator('[data-testid="filter-chip"]')).to_contain_text("Goal is Signup")
    expect(page.locator('[data-testid="top-stats"]')).to_have_attribute("data-mode", "conversions")
    expect(page.locator('[data-testid="stat-visitors"]')).to_contain_text("Unique conversions")
    numbers_equal(page, {"stat-visitors": 3, "stat-events": 4, "stat-conversion_rate": 30})
    expect(page.locator('[data-testid="stat-bounce_rate"]')).to_have_count(0)
    # The Properties panel breaks the goal down by its plan: pro 2 visitors (v1, v5).
    expect(page.locator('[data-testid="prop-select"]')).to_have_value("plan")
    rows_equal(page, "props", {"pro": (2, 2, 20), "free": (1, 2, 10)})
    # The graph's rate is per bucket: all conversions fell on one day, 3 of its 10 visitors.
    page.click('[data-testid="stat-conversion_rate"]')
    assert "metric=conversion_rate" in page.url
    numbers_equal(page, {"chart": 30}, "data-total")
    screenshot(page, "goal-signup")

    # Saved as a segment, the goal filter still switches to conversions (and the graph's
    # per-bucket divisor spells the segment out without its goal).
    page.click('[data-testid="segment-menu-button"]')
    page.click('[data-testid="segment-save-open"]')
    page.fill('[data-testid="segment-name"]', "Signups")
    page.click('[data-testid="segment-save"]')
    expect(page.locator('[data-testid="segment-chip"]')).to_contain_text("Signups")
    expect(page.locator('[data-testid="filter-chip"]')).to_have_count(0)
    page.reload()
    expect(page.locator('[data-testid="top-stats"]')).to_have_attribute("data-mode", "conversions")
    numbers_equal(page, {"stat-visitors": 3, "stat-events": 4, "stat-conversion_rate": 30})
    numbers_equal(page, {"chart": 30}, "data-total")
    screenshot(page, "goal-segment")

    # A goal the tracker sends itself lists its URLs.
    page.click('[data-testid="segment-remove"]')
    expect(page.locator('[data-testid="top-stats"]')).to_have_attribute("data-mode", "traffic")
    page.click('[data-testid="panel-goals"] [data-testid="row"][data-key="Outbound Link: Click"]')
    rows_equal(
        page, "goals", {"https://github.com/x": (2, 2, 20), "https://example.org/": (1, 1, 10)}
    )
    page.click('[data-testid="panel-goals"] [data-testid="row"][data-key="https://example.org/"]')
    expect(page.locator('[data-testid="filter-chip"]')).to_have_count(2)
    # The rate divides by all visitors, as Plausible's: the goal and its property filters
    # leave the divisor (docs/stats-api.md): 1 of the 10 visitors.
    numbers_equal(page, {"stat-visitors": 1, "stat-events": 1, "stat-conversion_rate": 10})

    # Without a goal, a property lists the visitors that sent it and their share.
    phone = open_page(f"/sites/{SHOP}", viewport=PHONE)
    phone.select_option('[data-testid="prop-select"]', "url")

    def share() -> str | None:
        found = phone.locator('[data-testid="panel-props"] [data-testid="row"]').evaluate_all(
            "rows => rows.map(r => [r.dataset.key, r.dataset.visitors, r.dataset.percentage])"
        )
        expected = [["https://github.com/x", "2", "100"], ["https://example.org/", "1", "50"]]
        return None if found == expected else f"props shows {found}"

    wait_for(share, "url shares")
    screenshot(phone, "goals-phone")


def test_the_funnels_panel_shows_the_stats_apis_funnel(
    open_page: OpenPage, demo_server: DemoServer
) -> None:
    headers = {"Authorization": f"Bearer {demo_server.seeded.api_key}"}
    # Waits of their own, not speed checks (httpx's default is 5 s; a loaded machine took
    # longer for a funnel).
    listed = httpx.get(
        f"{demo_server.url}/api/v2/funnels?site_id={DEMO}", headers=headers, timeout=60
    )
    (funnel,) = listed.json()["funnels"]

    def api(query: dict[str, Any]) -> list[str]:
        body = {"site_id": DEMO, "funnel_id": funnel["id"], "date_range": last_days(30), **query}
        answer = httpx.post(
            f"{demo_server.url}/api/v2/funnel", json=body, headers=headers, timeout=60
        )
        assert answer.status_code == 200, answer.text
        return [str(step["visitors"]) for step in answer.json()["steps"]]

    def shown(page: Page, expected: list[str]) -> None:
        steps = page.locator('[data-testid="panel-funnels"] [data-testid="funnel-step"]')

        def check() -> str | None:
            found = steps.evaluate_all("steps => steps.map(s => s.dataset.visitors)")
            return None if found == expected else f"the panel shows {found}, the API {expected}"

        wait_for(check, "funnel steps")

    page = open_page(f"/sites/{DEMO}")
    everyone = api({})
    assert int(everyone[0]) > int(everyone[1]) > 0
    shown(page, everyone)
    # Filters apply: a source filter from the Sources panel narrows the funnel too.
    page.click('[data-testid="tab-sources-sources"]')
    page.click('[data-testid="panel-sources"] [data-testid="row"][data-key="Google"]')
    shown(page, api({"filters": [["is", "visit:source", ["Google"]]]}))
    phone = open_page(f"/sites/{DEMO}", viewport=PHONE)
    shown(phone, everyone)
    phone.locator('[data-testid="panel-funnels"]').scroll_into_view_if_needed()
    screenshot(phone, "funnel-phone")
    # A site with goals and no funnel points to its settings.
    shop = open_page(f"/sites/{SHOP}")
    expect(shop.locator('[data-testid="funnels-setup"]')).to_have_attribute(
        "href", f"/sites/{SHOP}/settings#funnels"
    )


def test_revenue_goals_show_their_revenue(open_page: OpenPage, demo_server: DemoServer) -> None:
    # The demo's Purchase goal is in euros (its events carry 9, 19 or 49 EUR).
    goals = demo_server.api(
        {
            "metrics": ["visitors", "total_revenue", "average_revenue"],
            "date_range": last_days(30),
            "dimensions": ["event:goal"],
        }
    )
    revenue = {r["dimensions"][0]: r["metrics"][1:] for r in goals["results"]}
    total, average = revenue["Purchase"]
    assert total["currency"] == "EUR" and total["value"] > 0
    assert revenue["Signup"] == [None, None]  # not a revenue goal
    page = open_page(f"/sites/{DEMO}")
    purchase = page.locator('[data-testid="panel-goals"] [data-key="Purchase"]')
    shown = purchase.get_attribute("data-total_revenue", timeout=15000)
    assert shown is not None and float(shown) == total["value"]
    expect(purchase).to_contain_text(total["short"])
    expect(page.locator('[data-testid="panel-goals"] .jd-mrow-head')).to_contain_text("Revenue")
    signup = page.locator('[data-testid="panel-goals"] [data-key="Signup"]')
    expect(signup).to_have_attribute("data-total_revenue", "")

    # Filtered by the revenue goal, the top stats add its revenue, as Plausible's do.
    purchase.click()
    stat = page.locator('[data-testid="stat-total_revenue"]')
    expect(stat).to_contain_text(total["short"])
    expect(stat.locator(".jd-stat-value")).to_have_attribute("title", total["long"])
    # Under 1,000 a card shows the money with the currency's minor digits (€65.09), where
    # the API's short form has one decimal (€65.1).
    assert average["value"] < 1000
    expect(page.locator('[data-testid="stat-average_revenue"]')).to_contain_text(average["long"])
    screenshot(page, "goal-purchase-revenue")
    # A goal without a currency: no revenue cards.
    page.click('[data-testid="filter-remove"]')
    page.click('[data-testid="panel-goals"] [data-testid="row"][data-key="Signup"]')
    expect(page.locator('[data-testid="stat-conversion_rate"]')).to_be_visible()
    expect(page.locator('[data-testid="stat-total_revenue"]')).to_have_count(0)
