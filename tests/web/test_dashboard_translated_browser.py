"""The dashboard shows no text without a translation: opened in a pseudo-language whose
every message reads ⟦English⟧ (tests/i18n/pseudo.py), each view (every panel and tab, the
Details lists, the period and comparison menus, segments, notes, funnels, goals,
properties, realtime, the phone's ☰ menu) is searched for visible text outside the
brackets. Data (paths, sources, names of countries, numbers) sits in `translate="no"`
elements, code in code elements: the allow-list is by element, not by string."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn
from playwright.sync_api import Browser, Page

from jetrack.app import create_app
from jetrack.i18n.catalogs import add_language
from jetrack.store.stores import open_stores
from tests.conftest import copy_data_dir, free_port, make_settings, served_in_thread
from tests.i18n.pseudo import PSEUDO, pseudo_translations, unmarked
from tests.web.dashboard_world import DEMO, DESKTOP, PHONE, SHOP, Seeded

pytestmark = [pytest.mark.browser, pytest.mark.slow]

# Visible text nodes and labels outside translate="no" / lang="en" elements.
VISIBLE_TEXTS = """() => {
  const exempt = (el) => !!el.closest('[translate="no"], [lang="en"], script, style, noscript, code, kbd, pre')
  const shown = (el) => {
    const box = el.getBoundingClientRect()
    const style = getComputedStyle(el)
    return box.width > 0 && box.height > 0 && style.visibility !== 'hidden' && style.display !== 'none'
  }
  const found = []
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT)
  while (walker.nextNode()) {
    const node = walker.currentNode
    const el = node.parentElement
    if (!el || !node.textContent.trim() || exempt(el)) continue
    if (shown(el) || el.closest('.jd-visually-hidden')) found.push(node.textContent.trim())
  }
  for (const el of document.body.querySelectorAll('[title], [aria-label], [placeholder]')) {
    if (exempt(el)) continue
    for (const name of ['title', 'aria-label', 'placeholder']) {
      const value = el.getAttribute(name)
      if (value) found.push(value)
    }
  }
  for (const option of document.querySelectorAll('option')) {
    if (!exempt(option)) found.push(option.textContent.trim())
  }
  return found
}"""


@pytest.fixture(scope="module")
def pseudo_server(
    tmp_path_factory: pytest.TempPathFactory, demo_data: tuple[Path, Seeded]
) -> Iterator[tuple[str, str]]:
    """The app in this process (so it knows the pseudo-language) on a copy of the demo data."""
    add_language(pseudo_translations())
    port = free_port()
    template, seeded = demo_data
    data_dir = tmp_path_factory.mktemp("pseudo-dashboard") / "data"
    copy_data_dir(template, data_dir)
    settings = make_settings(data_dir, base_url=f"http://127.0.0.1:{port}")
    stores = open_stores(settings)
    config = uvicorn.Config(
        create_app(settings, stores), host="127.0.0.1", port=port, log_config=None, lifespan="on"
    )
    with served_in_thread(config):
        yield f"http://127.0.0.1:{port}", seeded.owner_token
    stores.close()


def _open(browser: Browser, server: tuple[str, str], path: str, viewport: dict[str, int]) -> Page:
    url, token = server
    context = browser.new_context(
        viewport=viewport,  # type: ignore[arg-type]
        extra_http_headers={"Accept-Language": PSEUDO},
    )
    context.add_cookies([{"name": "jt_session", "value": token, "url": url}])
    page = context.new_page()
    page.goto(url + path)
    page.wait_for_selector('[data-testid="row"]')
    page.wait_for_load_state("networkidle")
    return page


def _left(page: Page, view: str, found: dict[str, list[str]]) -> None:
    page.wait_for_load_state("networkidle")
    texts = page.evaluate(VISIBLE_TEXTS)
    seen = {text for view_texts in found.values() for text in view_texts}
    left = sorted({rest for text in texts if (rest := unmarked(text))} - seen)
    if left:
        found[view] = left


def _walk_panels(page: Page, view: str, found: dict[str, list[str]]) -> None:
    for tab in page.locator('[data-testid^="tab-"]').all():
        if tab.is_visible() and tab.is_enabled():
            tab.click()
            _left(page, f"{view} tab {tab.get_attribute('data-testid')}", found)
    for details in page.locator('[data-testid^="details-"]').all():
        testid = details.get_attribute("data-testid") or ""
        if testid in ("details-dialog", "details-row", "details-search", "details-next"):
            continue
        if details.is_visible():
            details.click()
            page.wait_for_selector('[data-testid="details-dialog"]')
            _left(page, f"{view} {testid}", found)
            page.keyboard.press("Escape")


def test_every_view_of_the_dashboard_is_translated(
    chromium: Browser, pseudo_server: tuple[str, str]
) -> None:
    found: dict[str, list[str]] = {}
    page = _open(chromium, pseudo_server, f"/sites/{DEMO}", DESKTOP)
    assert page.evaluate("document.documentElement.lang") == PSEUDO
    _left(page, "overview", found)
    _walk_panels(page, "overview", found)
    page.select_option('[data-testid="compare-select"]', "year_over_year")
    _left(page, "compared with a year earlier", found)
    page.select_option('[data-testid="period-select"]', "custom")
    _left(page, "custom range", found)
    page.select_option('[data-testid="period-select"]', "realtime")
    _left(page, "realtime", found)
    page.select_option('[data-testid="period-select"]', "30d")
    page.locator('[data-testid="panel-sources"] [data-testid="row"]').first.click()
    _left(page, "filtered", found)
    page.click('[data-testid="segment-menu-button"]')
    _left(page, "segment menu", found)
    page.click('[data-testid="segment-save-open"]')
    page.wait_for_selector('[data-testid="segment-dialog"]')
    _left(page, "segment dialog", found)
    page.keyboard.press("Escape")
    page.click('[data-testid="notes-button"]')
    page.wait_for_selector('[data-testid="notes-dialog"]')
    _left(page, "notes dialog", found)
    page.keyboard.press("Escape")

    shop = _open(chromium, pseudo_server, f"/sites/{SHOP}?period=7d", DESKTOP)
    _left(shop, "goals", found)
    _walk_panels(shop, "goals", found)
    shop.locator('[data-testid="panel-goals"] [data-testid="row"]').first.click()
    _left(shop, "a goal's conversions", found)

    phone = _open(chromium, pseudo_server, f"/sites/{DEMO}", PHONE)
    phone.click('[data-testid="menu-button"]')
    _left(phone, "phone menu", found)
    assert found == {}, "\n".join(f"{view}: {texts}" for view, texts in found.items())


def test_the_dashboard_speaks_german_with_german_numbers(
    chromium: Browser, pseudo_server: tuple[str, str]
) -> None:
    url, token = pseudo_server
    context = chromium.new_context(
        viewport=DESKTOP,  # type: ignore[arg-type]
        extra_http_headers={"Accept-Language": "de"},
    )
    context.add_cookies([{"name": "jt_session", "value": token, "url": url}])
    page = context.new_page()
    page.goto(f"{url}/sites/{DEMO}")
    page.wait_for_selector('[data-testid="row"]')
    assert page.evaluate("document.documentElement.lang") == "de"
    assert page.locator('[data-testid="stat-visitors"] .jd-stat-label').inner_text().lower() == (
        "eindeutige besucher"
    )
    assert page.locator('[data-testid="period-select"] option[value="30d"]').inner_text() == (
        "Letzte 30 Tage (T)"
    )
    page.select_option('[data-testid="period-select"]', "all")  # 90 days: over a thousand
    page.wait_for_load_state("networkidle")
    stat = page.locator('[data-testid="stat-visitors"]')
    page.wait_for_function(
        "n => n.dataset.value && !n.querySelector('.jd-skeleton')", arg=stat.element_handle()
    )
    visitors = int(stat.get_attribute("data-value") or 0)
    shown = stat.locator(".jd-stat-value").inner_text()
    assert visitors >= 1000 and shown == f"{visitors:,}".replace(",", "."), shown  # not 1,465
    page.select_option('[data-testid="period-select"]', "custom")
    label = page.locator('[data-testid="period-label"]').inner_text()
    german_months = (
        "Jan.",
        "Feb.",
        "März",
        "Apr.",
        "Mai",
        "Juni",
        "Juli",
        "Aug.",
        "Sept.",
        "Okt.",
        "Nov.",
        "Dez.",
    )
    assert any(month in label for month in german_months), label
    context.close()
