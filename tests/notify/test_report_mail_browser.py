"""The report mail's HTML part in Chromium, at desktop and phone widths, in a light and a
dark colour scheme: nothing wider than the screen, every figure and bar shown, and the
colours the mail sets kept (no dark text left on a dark background).
Screenshots (`make shots`) go to test-artifacts/reports/."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from jetrack.notify.reports import Entry, Figure, Report, report_message
from tests.conftest import CHROMIUM, CHROMIUM_ARGS, make_settings
from tests.support import shots
from tests.support.shots import shot

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ARTIFACTS = shots.ARTIFACTS / "reports"
VIEWPORTS = {"desktop": {"width": 1440, "height": 900}, "phone": {"width": 390, "height": 844}}


def month_report() -> Report:
    first = date(2026, 11, 1)
    days = [Entry((first + timedelta(days=k)).isoformat(), 180 + (k * 37) % 140) for k in range(30)]
    return Report(
        domain="shop.example",
        period="month",
        first=first,
        last=date(2026, 11, 30),
        timezone="Europe/Berlin",
        figures=[
            Figure("visitors", 6214, 12.0),
            Figure("visits", 8120, 9.0),
            Figure("pageviews", 23419, -4.0),
            Figure("bounce_rate", 41, 3.0),
            Figure("visit_duration", 187, None),
        ],
        days=days,
        sources=[Entry("Google", 2810), Entry("Direct / None", 1720), Entry("news.ycombinator.com", 640),
                 Entry("DuckDuckGo", 311), Entry("Mastodon", 120)],
        pages=[Entry("/", 3900), Entry("/pricing", 1200),
               Entry("/blog/a-rather-long-post-title-that-keeps-going-and-going-on-a-phone", 830),
               Entry("/docs/getting-started", 601), Entry("/about", 240)],
        countries=[Entry("Germany", 2200), Entry("United States", 1700), Entry("France", 600)],
        goals=[Entry("Signup", 312), Entry("Visit /pricing", 1200)],
    )  # fmt: skip


def html_part(tmp_path: Path) -> str:
    settings = make_settings(tmp_path / "data", base_url="https://stats.example")
    message = report_message(
        settings, "ada@example.com", month_report(),
        "https://stats.example/reports/unsubscribe?token=1.abc", "<r@jetrack.invalid>",
    )  # fmt: skip
    part = message.get_body(preferencelist=("html",))
    assert part is not None
    return str(part.get_content())


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("size", list(VIEWPORTS))
def test_the_report_mail_in_chromium(
    playwright_driver: Any, tmp_path: Path, size: str, scheme: str
) -> None:
    browser = playwright_driver.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
    try:
        context = browser.new_context(viewport=VIEWPORTS[size], color_scheme=scheme)
        page = context.new_page()
        page.set_content(html_part(tmp_path))
        shot(page, ARTIFACTS / f"report-{size}-{scheme}.png")
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= VIEWPORTS[size]["width"], f"{width}px wide at {size}"
        text = page.inner_text("body")
        for shown in ("Monthly report for shop.example", "November 2026", "6,214", "+12%",
                      "−4%", "+3 pts", "3m 07s", "new", "Top sources", "news.ycombinator.com",
                      "Top countries", "Goals", "Signup", "Unsubscribe"):  # fmt: skip
            assert shown in text, shown
        bars = page.eval_on_selector_all("td[bgcolor='#3b5bdb']", "cells => cells.length")
        assert bars == 30
        # The card keeps its white background and dark text in either scheme.
        card = page.eval_on_selector(
            "table[bgcolor='#ffffff']",
            "e => [getComputedStyle(e).backgroundColor, getComputedStyle(e.querySelector('h1')).color]",
        )
        assert card == ["rgb(255, 255, 255)", "rgb(29, 31, 35)"]
    finally:
        browser.close()
