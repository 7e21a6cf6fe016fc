"""Fixtures of the HTTP tests: the app on real stores mailing to the loopback SMTP inbox
(`settings`, `client`, and the account helpers), the multi-tenant `world` with API keys
of each scope per person (`keys`), and the fixtures of other packages that HTTP tests use
too (the ingest site, the privacy stores, the dashboard's demo server and Chromium, the
tracker build), re-exported here.

`settings` here mails to the `smtp` fixture's inbox; tests/conftest.py's does not mail.
The packages whose tests need these fixtures re-export them in their own conftest.py."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from jetrack.accounts.api_keys import SITES_SCOPE, STATS_SCOPE, create_api_key
from jetrack.app import create_app
from jetrack.config import Settings
from jetrack.store.models import User
from jetrack.store.stores import Stores

# The SMTP inbox lives in tests/conftest.py (notify, privacy and sites use it too); these names
# stay importable from here for the modules that import them.
from tests.conftest import Inbox as Inbox
from tests.conftest import inbox as inbox
from tests.conftest import make_settings
from tests.conftest import smtp as smtp
from tests.ingest.conftest import ingest_client as ingest_client
from tests.ingest.conftest import site_stores as site_stores
from tests.privacy.conftest import open_with as open_with
from tests.tracker.conftest import tracker_build as tracker_build
from tests.web.dashboard_world import chromium as chromium
from tests.web.dashboard_world import dashboard_built as dashboard_built
from tests.web.dashboard_world import demo_data as demo_data
from tests.web.dashboard_world import demo_server as demo_server
from tests.web.dashboard_world import open_page as open_page
from tests.web.world import Keys, World, build_world

PASSWORD = "correct horse battery"


@pytest.fixture
def settings(tmp_path: Path, smtp: tuple[Inbox, int]) -> Settings:
    return make_settings(tmp_path / "data", smtp_host="127.0.0.1", smtp_port=smtp[1])


@pytest.fixture
def client(settings: Settings, stores: Stores) -> Iterator[TestClient]:
    with TestClient(create_app(settings, stores), follow_redirects=False) as test_client:
        yield test_client


@pytest.fixture
def world(stores: Stores) -> World:
    return build_world(stores)


@pytest.fixture
def keys(stores: Stores, world: World) -> Keys:
    found = Keys({}, {})
    with stores.control.session() as session:
        for role, user_id in world.users.items():
            user = session.get(User, user_id)
            assert user is not None
            found.sites[role] = create_api_key(session, user, "provision", SITES_SCOPE)[1]
            found.stats[role] = create_api_key(session, user, "stats", STATS_SCOPE)[1]
    return found


def csrf_of(client: TestClient) -> str:
    """The session's CSRF token, as the dashboard reads it."""
    response = client.get("/api/account/me")
    assert response.status_code == 200, response.text
    return str(response.json()["csrf_token"])


def sign_up(client: TestClient, email: str, name: str = "Ada", password: str = PASSWORD) -> Any:
    data = {"name": name, "email": email, "password": password, "age": "1"}
    return client.post("/signup", data=data)


def sign_up_verified(client: TestClient, inbox: Inbox, email: str, name: str = "Ada") -> None:
    """Sign up and follow the mailed link; the client is then signed in."""
    response = sign_up(client, email, name)
    assert response.status_code == 200, response.text
    verified = client.get(inbox.link(email, "/verify-email"))
    assert verified.status_code == 303, verified.text


def log_in(client: TestClient, email: str, password: str = PASSWORD) -> Any:
    return client.post("/login", data={"email": email, "password": password})
