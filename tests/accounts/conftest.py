"""Account fixtures: the app on the real control store, and a real SMTP server on loopback."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from starlette.testclient import TestClient

from jetrack.app import create_app
from jetrack.config import Settings
from jetrack.store.stores import Stores
from tests.conftest import free_port, make_settings

PASSWORD = "correct horse battery"


@dataclass
class Inbox:
    """Mails the loopback SMTP server received, in order."""

    messages: list[EmailMessage] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(message, EmailMessage)
        with self.lock:
            self.messages.append(message)
        return "250 Message accepted for delivery"

    def to(self, address: str) -> list[EmailMessage]:
        with self.lock:
            return [m for m in self.messages if m["To"] == address]

    def last_to(self, address: str) -> EmailMessage:
        found = self.to(address)
        assert found, f"no mail to {address}; got {[m['To'] for m in self.messages]}"
        return found[-1]

    @staticmethod
    def text(message: EmailMessage) -> str:
        part = message.get_body(preferencelist=("plain",))
        assert part is not None
        return str(part.get_content())

    @staticmethod
    def html(message: EmailMessage) -> str:
        part = message.get_body(preferencelist=("html",))
        assert part is not None
        return str(part.get_content())

    def link(self, address: str, path: str) -> str:
        """The first link in the last mail to `address` whose path starts with `path`."""
        text = self.text(self.last_to(address))
        match = re.search(r"https?://[^\s/]+(" + re.escape(path) + r"[^\s]*)", text)
        assert match, f"no {path} link in: {text}"
        return match.group(1)


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()


@pytest.fixture
def inbox(smtp: tuple[Inbox, int]) -> Inbox:
    return smtp[0]


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
