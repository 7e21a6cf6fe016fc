"""The resource policy: every route has an entry, bodies are capped while they stream in and
only after authentication, anonymous routes have per-client budgets, /metrics its token."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from starlette.applications import Starlette
from starlette.routing import Mount, Route
from starlette.testclient import TestClient

from jetrack.accounts.api_keys import create_api_key
from jetrack.accounts.login_sessions import start_session
from jetrack.accounts.users import create_user
from jetrack.app import create_app
from jetrack.config import Settings
from jetrack.ingest.wire import MAX_BODY_BYTES
from jetrack.sites import shared_links
from jetrack.sites.sites import add_site
from jetrack.store.stores import Stores
from jetrack.web.policy import POLICIES, policy_for
from tests.conftest import make_settings
from tests.web.asgi_driver import CHUNK, stream

CHUNKS = 160  # 10 MB: far above every cap but the ingest endpoints'


def _route_keys(app: Starlette) -> set[str]:
    keys = set()
    for route in app.routes:
        if isinstance(route, Mount):
            keys.add(f"GET {route.path}")
        elif isinstance(route, Route):
            methods = route.methods or {"POST"}  # the ingest endpoints take any method
            keys |= {f"{m} {route.path}" for m in methods if m not in ("HEAD", "OPTIONS")}
        else:
            raise AssertionError(f"a route of an unknown kind: {route!r}")
    return keys


def test_every_route_has_a_policy_and_every_policy_a_route(tmp_path: Path) -> None:
    keys = _route_keys(create_app(make_settings(tmp_path / "data")))
    assert sorted(keys - POLICIES.keys()) == []
    assert sorted(POLICIES.keys() - keys) == []


def test_head_follows_get_and_ingest_rows_say_what_ingest_enforces() -> None:
    assert policy_for("HEAD", "/sites/{domain}") is POLICIES["GET /sites/{domain}"]
    for path in ("/api/event", "/api/events"):
        policy = POLICIES[f"POST {path}"]
        assert policy.body_cap == MAX_BODY_BYTES
        assert policy.budget is not None and policy.budget.per == "ingest"
        assert policy.self_enforced


def test_anonymous_routes_that_read_a_body_have_a_client_budget() -> None:
    for key, policy in POLICIES.items():
        if key.startswith("POST") and policy.auth == "none":
            assert policy.budget is not None, f"{key} has no rate budget"
            assert policy.budget.per in ("client", "ingest", "account"), key


class World:
    def __init__(self, stores: Stores) -> None:
        with stores.control.session() as session:
            owner = create_user(session, "owner@example.com", password="correct horse battery")
            site = add_site(session, owner, "example.com")
            _, self.api_key = create_api_key(session, owner, "policy")
            row, self.session_token = start_session(session, owner)
            self.csrf = row.csrf_token
            self.slug = shared_links.create_shared_link(session, site, "public").slug


@pytest.fixture
def app_world(settings: Settings, stores: Stores) -> Iterator[tuple[Starlette, World]]:
    world = World(stores)
    app = create_app(settings, stores)
    with TestClient(app):  # runs the lifespan: stores, ingest service, jobs
        yield app, world


def _run(app: Starlette, path: str, headers: dict[str, str]) -> tuple[int, int]:
    outcome = asyncio.run(stream(app, "POST", path, headers, CHUNKS))
    return outcome.status, outcome.chunks_read


def _signed_in(world: World) -> dict[str, str]:
    return {
        "cookie": f"jt_session={world.session_token}",
        "x-csrf-token": world.csrf,
        "content-type": "application/json",
    }


AUTHENTICATED_FIRST = [
    "/api/v2/query",
    "/api/v2/funnel",
    "/api/dashboard/example.com/query",
    "/api/dashboard/example.com/funnel",
    "/api/dashboard/example.com/export",
    "/account/name",
]


@pytest.mark.parametrize("path", AUTHENTICATED_FIRST)
def test_an_unauthenticated_big_body_is_refused_before_it_is_read(
    app_world: tuple[Starlette, World], path: str
) -> None:
    app, _ = app_world
    status, chunks = _run(app, path, {"content-type": "application/json"})
    assert status in (401, 303), status  # 303: a page sends the browser to /login
    assert chunks == 0


def test_a_wrong_api_key_is_refused_before_the_body_is_read(
    app_world: tuple[Starlette, World],
) -> None:
    app, _ = app_world
    status, chunks = _run(app, "/api/v2/query", {"authorization": "Bearer nope"})
    assert (status, chunks) == (401, 0)


def test_an_authenticated_big_body_gets_413_at_the_cap(
    app_world: tuple[Starlette, World],
) -> None:
    app, world = app_world
    cap_chunks = POLICIES["POST /api/v2/query"].body_cap // CHUNK
    status, chunks = _run(app, "/api/v2/query", {"authorization": f"Bearer {world.api_key}"})
    assert status == 413
    assert chunks == cap_chunks + 1  # the chunk that crossed the cap, no more
    for path in ("/api/dashboard/example.com/query", "/api/dashboard/example.com/export"):
        status, chunks = _run(app, path, _signed_in(world))
        assert (status, chunks) == (413, cap_chunks + 1), path


def test_an_anonymous_body_stops_at_its_cap(app_world: tuple[Starlette, World]) -> None:
    app, world = app_world
    status, chunks = _run(app, f"/api/share/{world.slug}/query", {})
    assert status == 413
    assert chunks == POLICIES["POST /api/share/{slug}/query"].body_cap // CHUNK + 1
    status, chunks = _run(app, "/contact", {"content-type": "application/x-www-form-urlencoded"})
    assert status == 413
    assert chunks == 1


def test_a_declared_length_above_the_cap_is_answered_without_reading(
    app_world: tuple[Starlette, World],
) -> None:
    app, world = app_world
    headers = {"authorization": f"Bearer {world.api_key}", "content-length": str(10**9)}
    outcome = asyncio.run(stream(app, "POST", "/api/v2/query", headers, CHUNKS))
    assert (outcome.status, outcome.chunks_read) == (413, 0)
    assert b"65536 bytes" in outcome.body


def test_a_small_query_still_works(app_world: tuple[Starlette, World]) -> None:
    app, world = app_world
    with TestClient(app) as client:
        response = client.post(
            "/api/v2/query",
            json={"site_id": "example.com", "metrics": ["visitors"], "date_range": "7d"},
            headers={"Authorization": f"Bearer {world.api_key}"},
        )
    assert response.status_code == 200, response.text


def test_the_shared_link_query_has_a_per_client_budget(
    app_world: tuple[Starlette, World], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The route is counted per client and answers 429 once its budget is spent. Its real
    limit (600 per 10 minutes) is counted in test_policy_middleware.py on ClientBudgets
    alone; here the same route with a budget of 3, so that the 4th query is refused after
    3 answered ones without spending 600 requests."""
    app, world = app_world
    key = "POST /api/share/{slug}/query"
    real = POLICIES[key].budget
    assert real is not None and real.per == "client" and real.limit > 50
    budget = replace(real, limit=3)
    monkeypatch.setitem(POLICIES, key, replace(POLICIES[key], budget=budget))
    body = {"metrics": ["visitors"], "date_range": "7d"}
    # The windows are aligned on the clock: start clear of one's end.
    into = time.time() % budget.window_seconds
    if into > budget.window_seconds - 5:
        time.sleep(budget.window_seconds - into + 0.5)
    url = f"/api/share/{world.slug}/query"
    with TestClient(app) as client:
        # Every request counts, answered or refused by the handler.
        assert client.post(url, json={"metrics": 7}).status_code == 400
        assert [client.post(url, json=body).status_code for _ in range(2)] == [200, 200]
        refused = client.post(url, json=body)
        assert refused.status_code == 429
        assert int(refused.headers["retry-after"]) > 0
        other = TestClient(app, client=("192.0.2.7", 1234))
        assert other.post(url, json=body).status_code == 200


def test_metrics_needs_its_token_when_one_is_set(settings: Settings, stores: Stores) -> None:
    with_token = make_settings(settings.data_dir, metrics_token="s3cret-token")
    with TestClient(create_app(with_token, stores)) as client:
        assert client.get("/metrics").status_code == 401
        wrong = client.get("/metrics", headers={"Authorization": "Bearer nope"})
        assert wrong.status_code == 401
        right = client.get("/metrics", headers={"Authorization": "Bearer s3cret-token"})
        assert right.status_code == 200
        assert "jetrack_events_total" in right.text


def test_metrics_is_off_without_a_token(settings: Settings, stores: Stores) -> None:
    # An empty token (`JETRACK_METRICS_TOKEN=` in a compose file) is no token.
    without = make_settings(settings.data_dir, metrics_token="")
    with TestClient(create_app(without, stores)) as client:
        answer = client.get("/metrics", headers={"Authorization": "Bearer anything"})
        assert answer.status_code == 404
        assert "jetrack_" not in answer.text
