"""From Chromium through the real Jetrack server to the Stats API."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest

from tests.conftest import LiveServer

from .collector import Collector
from .conftest import HIDE, TALL, NewContext, page_html, track_and_wait

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def query(server: LiveServer, **body: Any) -> dict[str, Any]:
    response = httpx.post(
        f"{server.url}/api/v2/query",
        json={"site_id": "example.com", "date_range": "day", **body},
        headers={"Authorization": f"Bearer {server.api_key}"},
        timeout=10,
    )
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


def rows(answer: dict[str, Any]) -> list[tuple[list[Any], list[Any]]]:
    return [(row["dimensions"], row["metrics"]) for row in answer["results"]]


def wait_for_stats(server: LiveServer, expected: Any, timeout: float = 15, **body: Any) -> None:
    """The write buffer flushes about once a second; poll until the numbers arrive."""
    deadline = time.monotonic() + timeout
    while True:
        found = rows(query(server, **body))
        if found == expected:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"{body}: expected {expected}, got {found}")
        time.sleep(0.25)


def test_browser_events_are_visible_through_the_stats_api(
    live_server: LiveServer, collector: Collector, new_context: NewContext
) -> None:
    # The test page and the script come from the collector; events go to Jetrack.
    html = page_html(
        collector,
        domain="example.com",
        attrs=f'data-local data-api="{live_server.url}/api/event"',
        body=TALL,
    )
    page = new_context().new_page()
    page.goto(collector.add_page("/pricing", html), referer="https://news.example/")
    page.evaluate("history.pushState({}, '', '/docs')")
    status = track_and_wait(
        page, "Signup", "{props: {plan: 'pro'}, revenue: {amount: 29, currency: 'EUR'}}"
    )
    assert status == {"status": 202}
    page.evaluate(HIDE, True)  # engagement for /docs
    assert collector.received == []  # nothing went to the stand-in

    wait_for_stats(
        live_server,
        [(["/docs"], [1]), (["/pricing"], [1])],
        metrics=["pageviews"],
        dimensions=["event:page"],
        order_by=[["event:page", "asc"]],
    )
    wait_for_stats(
        live_server,
        [(["pro"], [1])],
        metrics=["events"],
        dimensions=["event:props:plan"],
        filters=[["is", "event:name", ["Signup"]]],
    )
    # Engagement: /docs was seen to (0 + 720) / ~4016 px of its height when hidden.
    wait_for_stats(
        live_server,
        [(["/docs"], [18])],
        metrics=["scroll_depth"],
        dimensions=["event:page"],
        filters=[["is", "event:page", ["/docs"]]],
    )
    wait_for_stats(
        live_server,
        [(["news.example"], [1])],
        metrics=["visitors"],
        dimensions=["visit:source"],
    )
