"""CSRF: every state-changing route refuses a signed-in request without the session's
token, and any request from another origin; nothing changes when it does."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from starlette.routing import Route
from starlette.testclient import TestClient

from jetrack.app import create_app
from jetrack.config import Settings
from jetrack.store.stores import Stores
from tests.billing.conftest import unreachable_billing
from tests.web import world as w

# POST routes that need no session (the Origin check alone protects them).
SIGNED_OUT_FORMS = {
    "/signup",
    "/login",
    "/login/2fa",
    "/forgot-password",
    "/reset-password",
    "/theme",
    "/share/{slug}/password",
}


@pytest.fixture
def walk(settings: Settings, stores: Stores) -> Iterator[tuple[TestClient, w.World]]:
    world = w.build_world(stores)
    with TestClient(create_app(settings, stores), follow_redirects=False) as client:
        yield client, world


def _post_routes(settings: Settings) -> list[str]:
    app = create_app(settings)
    return sorted(
        {
            route.path
            for route in app.routes
            if isinstance(route, Route) and "POST" in (route.methods or ())
        }
    )


def _concrete(path: str, world: w.World) -> str:
    values = {
        "domain": world.domain,
        "team_id": str(world.team_id),
        "slug": "nope",
        "token": "nope",
    }
    return re.sub(r"\{(\w+)\}", lambda m: values.get(m.group(1), "1"), path)


def test_every_post_refuses_a_missing_or_wrong_token(
    walk: tuple[TestClient, w.World], stores: Stores, settings: Settings
) -> None:
    client, world = walk
    client.cookies.set("jt_session", world.cookies["owner"])
    checked = 0
    for path in _post_routes(settings):
        if path.startswith(("/api/event", "/api/v1/", "/api/v2/")):
            continue  # API-key or public ingestion endpoints: no session cookie is used
        if path.startswith("/billing/"):
            continue  # 404 with billing off: walked with billing on below
        before = w.snapshot(stores)
        for token in (None, "wrong-token"):
            data = {"csrf_token": token} if token else {}
            if path.startswith("/api/"):
                response = client.post(
                    _concrete(path, world), json={}, headers={"X-CSRF-Token": token or ""}
                )
            else:
                response = client.post(_concrete(path, world), data=data)
            assert response.status_code == 403, (
                f"{path} with token {token!r}: {response.status_code}"
            )
        assert w.snapshot(stores) == before, path
        checked += 1
    assert checked >= 30


def test_cross_origin_posts_are_refused(
    walk: tuple[TestClient, w.World], stores: Stores, settings: Settings
) -> None:
    client, world = walk
    for path in sorted(SIGNED_OUT_FORMS):
        client.cookies.clear()
        response = client.post(
            _concrete(path, world),
            data={"email": "a@b.example"},
            headers={"Origin": "https://evil.example"},
        )
        assert response.status_code == 403, path
        response = client.post(
            _concrete(path, world), data={}, headers={"Sec-Fetch-Site": "cross-site"}
        )
        assert response.status_code == 403, path
    client.cookies.set("jt_session", world.cookies["owner"])
    before = w.snapshot(stores)
    response = client.post(
        f"/sites/{world.domain}/delete",
        data={"confirm": world.domain, "csrf_token": world.csrf["owner"]},
        headers={"Origin": "https://evil.example"},
    )
    assert response.status_code == 403
    assert w.snapshot(stores) == before
    same_origin = client.post(
        f"/sites/{world.domain}/delete",
        data={"confirm": world.domain, "csrf_token": world.csrf["owner"]},
        headers={"Origin": "http://127.0.0.1:8000"},  # JETRACK_BASE_URL's origin
    )
    assert same_origin.status_code == 303


def test_the_token_is_on_every_page_and_in_the_api(walk: tuple[TestClient, w.World]) -> None:
    client, world = walk
    client.cookies.set("jt_session", world.cookies["owner"])
    page = client.get(f"/sites/{world.domain}/settings")
    assert f'<meta name="csrf-token" content="{world.csrf["owner"]}">' in page.text
    assert client.get("/api/account/me").json()["csrf_token"] == world.csrf["owner"]
    assert "jt_csrf" not in page.headers.get("set-cookie", "")


def test_billing_posts_refuse_a_missing_or_wrong_token(settings: Settings, stores: Stores) -> None:
    """With billing on. Stripe's webhook has no session: its signature is its proof
    (tests/billing/test_billing_pages.py); Stripe's address here is a closed port."""
    billed = unreachable_billing(settings)
    world = w.build_world(stores)
    paths = [path for path in _post_routes(billed) if path.startswith("/billing/teams/")]
    assert len(paths) == 4
    with TestClient(create_app(billed, stores), follow_redirects=False) as client:
        client.cookies.set("jt_session", world.cookies["owner"])
        before = w.snapshot(stores)
        for path in paths:
            for data in ({}, {"csrf_token": "wrong-token"}):
                form = {"plan": "growth", "interval": "month", "at_period_end": "1", **data}
                response = client.post(_concrete(path, world), data=form)
                assert response.status_code == 403, f"{path} {data}: {response.status_code}"
        assert w.snapshot(stores) == before
