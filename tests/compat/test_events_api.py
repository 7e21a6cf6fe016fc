"""Server-side senders: requests in the exact shape of Plausible's Events API documentation."""

from __future__ import annotations

import json
from decimal import Decimal

import httpx

from tests.conftest import LiveServer
from tests.tracker.conftest import DESKTOP_UA

from .conftest import SITE, stored_events, wait_for_stats


def test_documented_events_api_requests_are_accepted(jetrack: LiveServer) -> None:
    headers = {
        "User-Agent": DESKTOP_UA,
        "X-Forwarded-For": "127.0.0.1",
        "Content-Type": "application/json",
    }
    pageview = {
        "name": "pageview",
        "url": f"https://{SITE}/docs/install?utm_campaign=launch",
        "domain": SITE,
        "referrer": "https://duckduckgo.com/",
        "props": {"author": "jane", "words": 1200, "draft": False},
    }
    purchase = {
        "name": "Signup",
        "url": f"https://{SITE}/checkout",
        "domain": SITE,
        "revenue": {"currency": "USD", "amount": 1322.22},
        "props": {"plan": "pro"},
    }
    with httpx.Client(headers=headers, timeout=10) as client:
        for body in (pageview, purchase):
            # Sent as curl does with --data: the JSON text, not re-encoded by the client.
            response = client.post(f"{jetrack.url}/api/event", content=json.dumps(body))
            assert response.status_code == 202, response.text
            assert response.text == "ok"
            assert "x-jetrack-dropped" not in response.headers

    wait_for_stats(
        jetrack,
        [(["/checkout"], [0, 1]), (["/docs/install"], [1, 1])],
        metrics=["pageviews", "events"],
        dimensions=["event:page"],
        order_by=[["event:page", "asc"]],
    )
    wait_for_stats(
        jetrack,
        [(["DuckDuckGo", "launch"], [1])],
        metrics=["visitors"],
        dimensions=["visit:source", "visit:utm_campaign"],
    )
    wait_for_stats(jetrack, [(["Signup"], [1])], metrics=["events"], dimensions=["event:goal"])
    rows = {row["name"]: row for row in stored_events(jetrack)}
    assert rows["pageview"]["props"] == {"author": "jane", "words": "1200", "draft": "false"}
    assert rows["Signup"]["revenue_amount"] == Decimal("1322.220")
    assert rows["Signup"]["revenue_currency"] == "USD"
