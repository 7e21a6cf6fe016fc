"""No input produces a 500: junk in every field of every form and path of our routes."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from starlette.routing import Route
from starlette.testclient import TestClient

from jetrack.app import create_app
from jetrack.config import Settings
from jetrack.store.stores import Stores
from tests.web import world as w

JUNK = [
    "",
    " ",
    "\x00",
    "a" * 5000,
    "../../etc/passwd",
    "<script>alert(1)</script>",
    "' OR 1=1 --",
    "💥",
    "-1",
    "99999999999999999999",
]
FIELDS = [
    "name",
    "email",
    "password",
    "age",
    "invitation",
    "next",
    "code",
    "token",
    "theme",
    "domain",
    "timezone",
    "team_id",
    "role",
    "confirm",
    "current_password",
    "new_password",
    "blocked_ips",
    "blocked_countries",
    "blocked_paths",
    "allowed_hostnames",
    "paused",
    "cookie_mode",
    "require_2fa",
]
OURS = (
    "jetrack.web.accounts_pages",
    "jetrack.web.account_settings_pages",
    "jetrack.web.sites_pages",
    "jetrack.web.teams_pages",
    "jetrack.web.sharing_pages",
)


@pytest.fixture
def walk(settings: Settings, stores: Stores) -> Iterator[tuple[TestClient, w.World]]:
    world = w.build_world(stores)
    with TestClient(
        create_app(settings, stores), follow_redirects=False, raise_server_exceptions=False
    ) as client:
        yield client, world


def _our_routes() -> list[Route]:
    import importlib

    return [
        route
        for name in OURS
        for route in importlib.import_module(name).routes
        if isinstance(route, Route)
    ]


@pytest.mark.slow
def test_junk_never_breaks_a_route(walk: tuple[TestClient, w.World]) -> None:
    client, world = walk
    for route in _our_routes():
        for junk in JUNK[:6]:
            segment = junk.replace("/", "%2F") if junk.strip("\x00 ") else "x"
            path = re.sub(r"\{(\w+)\}", segment.replace("\\", "\\\\"), route.path)
            for role in ("owner", "anonymous"):
                client.cookies.clear()
                if role == "owner":
                    client.cookies.set("jt_session", world.cookies["owner"])
                if "GET" in (route.methods or ()):
                    response = client.get(
                        path,
                        params={"token": junk, "next": junk, "invitation": junk, "notice": junk},
                    )
                else:
                    data = {field: junk for field in FIELDS}
                    if role == "owner":
                        data["csrf_token"] = world.csrf["owner"]
                    response = client.post(path, data=data)
                assert response.status_code < 500, (
                    f"{role} {route.path} with {junk[:20]!r}: {response.status_code}"
                )


def test_junk_session_cookies_are_ignored(walk: tuple[TestClient, w.World]) -> None:
    client, _ = walk
    for junk in ["", "x" * 5000, "abc", "%00%FF"]:
        client.cookies.clear()
        client.cookies.set("jt_session", junk)
        assert client.get("/api/account/me").status_code == 401
        assert client.get("/sites").status_code == 303
