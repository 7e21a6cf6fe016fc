"""GET /api/health: every backend the instance uses, with its status and latency; mail
only when configured; 503 when one is down; no host, port or secret in the answer."""

from __future__ import annotations

import asyncio

import pytest
from starlette.datastructures import State
from starlette.testclient import TestClient

from jetrack.app import create_app
from jetrack.config import Settings
from jetrack.store.stores import Stores
from jetrack.web.health import _measured, shared_state
from tests.conftest import REDIS_URL, free_port, make_settings


def test_health_reports_each_backend_and_503_when_one_is_down(
    client: TestClient, settings: Settings, stores: Stores
) -> None:
    answer = client.get("/api/health")
    assert answer.status_code == 200
    body = answer.json()
    assert body["status"] == "ok" and body["encrypted_at_rest"] is True
    assert list(body["backends"]) == ["control_store", "event_store", "mail"]
    assert [(b["kind"], b["status"]) for b in body["backends"].values()] == [
        ("sqlite", "ok"),
        ("chdb", "ok"),
        ("smtp", "ok"),
    ]
    assert all(0 <= b["latency_ms"] < 3000 for b in body["backends"].values())

    closed_port = free_port()  # nothing listens there
    unreachable = make_settings(
        settings.data_dir, smtp_host="127.0.0.1", smtp_port=closed_port, smtp_password="pw-x9"
    )
    with TestClient(create_app(unreachable, stores)) as other:
        down = other.get("/api/health")
    assert down.status_code == 503
    assert down.json()["status"] == "unavailable"
    assert down.json()["backends"]["mail"]["status"] == "down"
    assert down.json()["backends"]["event_store"]["status"] == "ok"
    for secret in (str(closed_port), "127.0.0.1", "pw-x9"):
        assert secret not in down.text

    without_mail = make_settings(settings.data_dir)
    with TestClient(create_app(without_mail, stores)) as other:
        plain = other.get("/api/health")
    assert plain.status_code == 200 and "mail" not in plain.json()["backends"]


@pytest.mark.redis
def test_health_probes_the_shared_redis_when_one_is_set(settings: Settings) -> None:
    """The shared mode's Redis is a backend of its own: ok on the local Redis, down on a
    port where nothing listens; not probed without JETRACK_REDIS_URL."""
    assert shared_state(State({"settings": settings})) is None
    results = []
    for url in (REDIS_URL, f"redis://127.0.0.1:{free_port()}/0"):
        found = shared_state(State({"settings": settings.model_copy(update={"redis_url": url})}))
        assert found is not None
        name, kind, check = found
        assert (name, kind) == ("shared_state", "redis")
        results.append(asyncio.run(_measured(check))["status"])
    assert results == ["ok", "down"]
