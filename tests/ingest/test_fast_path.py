"""The ingestion fast path: events reach their endpoint past middleware; a failure is a 500."""

from __future__ import annotations

import logging

import pytest
from starlette.testclient import TestClient
from starlette.types import Receive, Scope, Send

from jetrack.app import IngestFastPath, create_app
from jetrack.config import Settings
from jetrack.store.stores import Stores
from tests.ingest.conftest import CHROME, VISITOR, stored

EVENT = {"name": "pageview", "url": "https://example.com/", "domain": "example.com"}


def _client(settings: Settings, stores: Stores) -> tuple[TestClient, IngestFastPath]:
    fast = IngestFastPath(create_app(settings, stores))
    return TestClient(fast, client=VISITOR, headers={"User-Agent": CHROME}), fast


def test_events_go_through_the_fast_path(settings: Settings, site_stores: Stores) -> None:
    client, _ = _client(settings, site_stores)
    with client:
        response = client.post("/api/event", json=EVENT)
        assert response.status_code == 202 and response.text == "ok"
        assert response.headers["access-control-allow-origin"] == "*"
        assert client.get("/api/health").status_code == 200  # the rest: the app as usual
    assert len(stored(site_stores)) == 1


async def _fails_before_answering(scope: Scope, receive: Receive, send: Send) -> None:
    raise RuntimeError("203.0.113.7 must not be logged")


async def _fails_after_answering(scope: Scope, receive: Receive, send: Send) -> None:
    await send({"type": "http.response.start", "status": 202, "headers": []})
    await send({"type": "http.response.body", "body": b"ok"})
    raise RuntimeError("late")


@pytest.mark.parametrize(
    ("endpoint", "status"), [(_fails_before_answering, 500), (_fails_after_answering, 202)]
)
def test_a_failing_endpoint_answers_once_and_logs_no_detail(
    settings: Settings,
    site_stores: Stores,
    caplog: pytest.LogCaptureFixture,
    endpoint: object,
    status: int,
) -> None:
    client, fast = _client(settings, site_stores)
    fast.endpoints = {"/api/event": endpoint}  # type: ignore[dict-item]
    with client, caplog.at_level(logging.ERROR):
        assert client.post("/api/event", json=EVENT).status_code == status
    assert "internal error on /api/event: RuntimeError" in caplog.text
    assert "203.0.113" not in caplog.text
