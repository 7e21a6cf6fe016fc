"""The dashboard in Debian's Chromium against a real server with the demo data: the numbers
on screen are the Stats API's, filters and ranges work, the theme sticks, sharing is read-only.
Screenshots go to test-artifacts/dashboard/."""

from __future__ import annotations

import time
from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import unquote

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.web.dashboard_world import (
    DEMO,
    EMPTY,
    PHONE,
    SHOP,
    SHOP_GOALS,
    DemoServer,
    OpenPage,
    screenshot,
)

pytestmark = [pytest.mark.browser, pytest.mark.slow]

TOP = ["visitors", "visits", "pageviews", "views_per_visit", "bounce_rate", "visit_duration"]


def last_days(days: int) -> list[str]:
    """The dashboard's "Last N days": today included (the demo sites' days are UTC). The
    Stats API's "Nd" is Plausible's, the N days before today, so the dashboard spells its
    days out and so do these comparisons."""
    today = datetime.now(UTC).date()
    return [(today - timedelta(days=days - 1)).isoformat(), today.isoformat()]


def last_months(months: int) -> list[str]:
    """The dashboard's "Last 12 months": this month and the 11 before, to its end."""
    today = datetime.now(UTC).date()
    index = today.year * 12 + today.month - months
    first = date(index // 12, index % 12 + 1, 1)
    after = date(today.year + today.month // 12, today.month % 12 + 1, 1)
    return [first.isoformat(), (after - timedelta(days=1)).isoformat()]


def wait_for(check: Any, what: str, timeout: float = 15) -> None:
    """Poll `check()` (returns a falsy value or a mismatch text) until it passes."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        last = check()
        if last is True or last is None:
            return
        time.sleep(0.1)
    raise AssertionError(f"{what}: {last}")


def numbers_equal(page: Page, expected: dict[str, Any], attribute: str = "data-value") -> None:
    def check() -> str | None:
        for testid, value in expected.items():
            shown = page.get_attribute(f'[data-testid="{testid}"]', attribute, timeout=15000)
            if shown in (None, "") or abs(float(shown) - float(value)) > 1e-9:
                return f"{testid} shows {shown!r}, the Stats API says {value!r}"
        return None

    wait_for(check, "numbers on screen")


def top_stats_equal(page: Page, server: DemoServer, query: dict[str, Any]) -> dict[str, Any]:
    # With a page filter there are no views per visit (the engine refuses them, as
    # Plausible's does): that card is not shown.
    by_page = any(f[1] == "event:page" for f in query.get("filters", []))
    metrics = [m for m in TOP if not (by_page and m == "views_per_visit")]
    answer = server.api({"metrics": metrics, **query})
    row = answer["results"][0]
    numbers_equal(page, {f"stat-{m}": row["metrics"][i] for i, m in enumerate(metrics)})
    if "comparison" in row:
        numbers_equal(
            page,
            {f"stat-{m}": row["comparison"]["change"][i] for i, m in enumerate(metrics)},
            "data-change",
        )
    if by_page:
        expect(page.locator('[data-testid="stat-views_per_visit"]')).to_have_count(0)
    return answer


def panel_rows(page: Page, panel: str) -> tuple[dict[str, float], set[str]]:
    """The panel's rows and their dimensions, read in one go (the list may be re-rendering)."""
    found: list[list[str]] = page.locator(
        f'[data-testid="panel-{panel}"] [data-testid="row"]'
    ).evaluate_all("rows => rows.map(r => [r.dataset.key, r.dataset.value, r.dataset.dimension])")
    return {key: float(value) for key, value, _ in found}, {dim for _, _, dim in found}


def panel_equals(
    page: Page, server: DemoServer, panel: str, dimension: str, query: dict[str, Any]
) -> None:
    answer = server.api(
        {
            "metrics": ["visitors"],
            "dimensions": [dimension],
            "order_by": [["visitors", "desc"]],
            "pagination": {"limit": 9, "offset": 0},
            **query,
        }
    )
    expected = {r["dimensions"][0]: float(r["metrics"][0]) for r in answer["results"]}
    assert expected, f"the Stats API has no {dimension} rows for {query}"

    def check() -> str | None:
        shown, dims = panel_rows(page, panel)
        if shown != expected or dims != {dimension}:
            return f"{panel} shows {shown}, the Stats API says {expected}"
        return None

    wait_for(check, f"panel {panel}")


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

    page.keyboard.press("r")  # realtime
    card = page.locator('[data-testid="stat-current-visitors"]')
    expect(card).not_to_have_attribute("data-value", "")
    assert float(card.get_attribute("data-value") or 0) > 0


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


def conversion_rows(page: Page, panel: str) -> dict[str, tuple[float, float, float]]:
    found: list[list[str]] = page.locator(
        f'[data-testid="panel-{panel}"] [data-testid="row"]'
    ).evaluate_all(
        "rows => rows.map(r => [r.dataset.key, r.dataset.visitors, r.dataset.events,"
        " r.getAttribute('data-conversion_rate')])"
    )
    return {key: (float(v), float(e), float(cr)) for key, v, e, cr in found}


def rows_equal(page: Page, panel: str, expected: dict[str, tuple[float, float, float]]) -> None:
    def check() -> str | None:
        shown = conversion_rows(page, panel)
        return None if shown == expected else f"{panel} shows {shown}, expected {expected}"

    wait_for(check, f"panel {panel}")


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
    listed = httpx.get(f"{demo_server.url}/api/v2/funnels?site_id={DEMO}", headers=headers)
    (funnel,) = listed.json()["funnels"]

    def api(query: dict[str, Any]) -> list[str]:
        body = {"site_id": DEMO, "funnel_id": funnel["id"], "date_range": last_days(30), **query}
        answer = httpx.post(f"{demo_server.url}/api/v2/funnel", json=body, headers=headers)
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
    expect(page.locator('[data-testid="stat-average_revenue"]')).to_contain_text(average["short"])
    screenshot(page, "goal-purchase-revenue")
    # A goal without a currency: no revenue cards.
    page.click('[data-testid="filter-remove"]')
    page.click('[data-testid="panel-goals"] [data-testid="row"][data-key="Signup"]')
    expect(page.locator('[data-testid="stat-conversion_rate"]')).to_be_visible()
    expect(page.locator('[data-testid="stat-total_revenue"]')).to_have_count(0)
