"""The app's outermost layer (`IngestFastPath`): event requests are answered past the
middleware and the router; a failure is one 500 that names nothing of the request."""

from __future__ import annotations

import logging

import pytest
from starlette.testclient import TestClient

from jetrack.app import create_app
from jetrack.config import Settings
from jetrack.ingest.pipeline import Incoming, Pipeline
from jetrack.store.stores import Stores
from tests.conftest import app_state
from tests.ingest.conftest import CHROME, VISITOR, stored

EVENT = {"name": "pageview", "url": "https://example.com/", "domain": "example.com"}


def _client(settings: Settings, stores: Stores) -> TestClient:
    return TestClient(create_app(settings, stores), client=VISITOR, headers={"User-Agent": CHROME})


def test_events_are_answered_before_the_middleware(settings: Settings, site_stores: Stores) -> None:
    with _client(settings, site_stores) as client:
        response = client.post("/api/event", json=EVENT)
        assert response.status_code == 202 and response.text == "ok"
        assert response.headers["access-control-allow-origin"] == "*"
        # The security headers middleware never saw it; the rest of the app goes through it.
        assert "content-security-policy" not in response.headers
        health = client.get("/api/health")
        assert health.status_code == 200 and "content-security-policy" in health.headers
    assert len(stored(site_stores)) == 1


def failing_step(pipeline: Pipeline, event: Incoming) -> None:
    """A pipeline step that fails as a bug would, with the client's address in its text."""
    raise RuntimeError("203.0.113.7 must not be logged")


def test_a_failure_answers_500_once_and_logs_no_detail(
    settings: Settings, site_stores: Stores, caplog: pytest.LogCaptureFixture
) -> None:
    with _client(settings, site_stores) as client, caplog.at_level(logging.ERROR):
        pipeline = app_state(client).ingest.pipeline
        steps = pipeline.steps
        pipeline.steps = [*steps, failing_step]
        failed = client.post("/api/event", json=EVENT)
        assert (failed.status_code, failed.json()) == (500, {"error": "internal error"})
        pipeline.steps = steps
        assert client.post("/api/event", json=EVENT).status_code == 202
    assert "internal error on an event request: RuntimeError" in caplog.text
    assert "203.0.113" not in caplog.text
    assert len(stored(site_stores)) == 1
