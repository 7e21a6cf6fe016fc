"""What the dashboard's browser tests (tests/web/test_dashboard*_browser.py) compare: the
numbers on screen against the Stats API's answers, read from the pages' data attributes."""

from __future__ import annotations

import time
from datetime import UTC, date, datetime, timedelta
from typing import Any

from playwright.sync_api import Page, expect

from tests.web.dashboard_world import DemoServer

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
