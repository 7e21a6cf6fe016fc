"""An instance without SMTP: sign-up finishes at once, and every mail goes to the log in full."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select, update
from starlette.testclient import TestClient

from jetrack.app import create_app
from jetrack.config import Settings
from jetrack.store.models import User
from jetrack.store.stores import Stores
from tests.conftest import make_settings
from tests.web.conftest import PASSWORD, log_in, sign_up


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path / "data")  # no JETRACK_SMTP_HOST


@pytest.fixture
def client(settings: Settings, stores: Stores) -> Iterator[TestClient]:
    assert settings.smtp_host is None
    with TestClient(create_app(settings, stores), follow_redirects=False) as test_client:
        yield test_client


def test_signup_without_smtp_signs_in_and_says_why(client: TestClient, stores: Stores) -> None:
    response = sign_up(client, "ada@example.com")
    assert response.status_code == 303, response.text
    assert response.headers["location"] == "/sites?notice=signed-up-without-mail"
    page = client.get(response.headers["location"])
    assert page.status_code == 200
    assert "Your account is ready" in page.text and "no SMTP server" in page.text
    with stores.control.session() as session:
        assert session.scalars(select(User)).one().email_verified_at is not None
    client.post("/logout", data={"csrf_token": _csrf(client)})
    fresh = TestClient(client.app, follow_redirects=False)
    answer = log_in(fresh, "ada@example.com", PASSWORD)
    assert answer.status_code == 303, answer.text


def test_login_confirms_an_account_left_unconfirmed_when_smtp_went_away(
    client: TestClient, stores: Stores
) -> None:
    sign_up(client, "ada@example.com")
    with stores.control.session() as session:
        session.execute(update(User).values(email_verified_at=None))
        session.commit()
    fresh = TestClient(client.app, follow_redirects=False)
    assert log_in(fresh, "ada@example.com").status_code == 303


def test_reset_without_smtp_prints_the_link(
    client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    sign_up(client, "ada@example.com")
    fresh = TestClient(client.app, follow_redirects=False)
    with caplog.at_level(logging.INFO, logger="jetrack.mail"):
        answer = fresh.post("/forgot-password", data={"email": "ada@example.com"})
    assert answer.status_code == 200
    assert "This server sends no mail" in answer.text
    assert "Reset your Jetrack password" in caplog.text
    match = re.search(r"https?://\S+(/reset-password\?token=\S+)", caplog.text)
    assert match, caplog.text
    assert fresh.get(match.group(1)).status_code == 200
    assert "ada@example.com" not in caplog.text


def _csrf(client: TestClient) -> str:
    return str(client.get("/api/account/me").json()["csrf_token"])


def test_account_mails_are_in_the_users_language(
    client: TestClient, stores: Stores, caplog: pytest.LogCaptureFixture
) -> None:
    """A reset mail in the account's saved language, whatever the browser asking for it
    says; without a saved one, in the language of the page that sent it."""
    sign_up(client, "ada@example.com")
    fresh = TestClient(client.app, follow_redirects=False)
    with stores.control.session() as session:
        session.execute(update(User).where(User.email == "ada@example.com").values(locale="de"))
    with caplog.at_level(logging.INFO, logger="jetrack.mail"):
        fresh.post("/forgot-password", data={"email": "ada@example.com"},
                   headers={"Accept-Language": "en"})  # fmt: skip
    assert "Setzen Sie Ihr Jetrack-Passwort zurück" in caplog.text  # the subject
    assert "Der Link funktioniert einmal und läuft in einer Stunde ab." in caplog.text
    assert "The link works once" not in caplog.text
    caplog.clear()
    with stores.control.session() as session:
        session.execute(update(User).where(User.email == "ada@example.com").values(locale=None))
    with caplog.at_level(logging.INFO, logger="jetrack.mail"):
        fresh.post("/forgot-password", data={"email": "ada@example.com"},
                   headers={"Accept-Language": "fr-FR, en;q=0.5"})  # fmt: skip
    assert "Réinitialisez votre mot de passe Jetrack" in caplog.text
    assert "pour choisir un nouveau mot de passe" in caplog.text
