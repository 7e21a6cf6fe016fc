"""Account fixtures: the app on the real control store, mailing to the loopback SMTP inbox."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from jetrack.app import create_app
from jetrack.config import Settings
from jetrack.store.stores import Stores

# The SMTP inbox lives in tests/conftest.py (notify, privacy and sites use it too); these names
# stay importable from here for the modules that import them.
from tests.conftest import Inbox as Inbox
from tests.conftest import inbox as inbox
from tests.conftest import make_settings
from tests.conftest import smtp as smtp

PASSWORD = "correct horse battery"


@pytest.fixture
def settings(tmp_path: Path, smtp: tuple[Inbox, int]) -> Settings:
    return make_settings(tmp_path / "data", smtp_host="127.0.0.1", smtp_port=smtp[1])


@pytest.fixture
def client(settings: Settings, stores: Stores) -> Iterator[TestClient]:
    with TestClient(create_app(settings, stores), follow_redirects=False) as test_client:
        yield test_client


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
