"""Web helpers for privacy tests: an app on real stores and signed-in sessions."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from starlette.testclient import TestClient

from jetrack.accounts.instance_keys import instance_key
from jetrack.accounts.login_sessions import start_session
from jetrack.app import create_app
from jetrack.store.models import User
from jetrack.store.stores import Stores
from jetrack.support.form_guard import sign_start
from jetrack.web.public_pages import FORM_KEY


@contextmanager
def app_client(stores: Stores) -> Iterator[TestClient]:
    with TestClient(create_app(stores.settings, stores), follow_redirects=False) as client:
        yield client


@dataclass(frozen=True)
class Login:
    cookie: str
    csrf: str

    def use(self, client: TestClient) -> dict[str, str]:
        """Sign the client in as this session; returns the CSRF header for JSON calls."""
        client.cookies.clear()
        client.cookies.set("jt_session", self.cookie)
        return {"X-CSRF-Token": self.csrf}

    def form(self, **fields: Any) -> dict[str, Any]:
        return {"csrf_token": self.csrf, **fields}


def login(stores: Stores, user_id: int) -> Login:
    with stores.control.session() as session:
        user = session.get(User, user_id)
        assert user is not None
        row, token = start_session(session, user)
        return Login(token, row.csrf_token)


def aged_start(stores: Stores, seconds: float = 30) -> str:
    """A form start stamp signed with the instance's key, `seconds` in the past."""
    with stores.control.session() as session:
        key = instance_key(session, FORM_KEY)
    return sign_start(key, time.time() - seconds)
