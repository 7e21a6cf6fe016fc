"""One TOTP step and one recovery code open one session, even when several waiting
log-ins send the same code at the same moment (threads, each its own client), on SQLite
and on PostgreSQL."""

from __future__ import annotations

import re
import threading
from pathlib import Path

import pyotp
import pytest
from sqlalchemy import select
from starlette.testclient import TestClient

from jetrack.accounts import two_factor
from jetrack.config import Settings
from jetrack.store.models import RecoveryCode, User, utcnow
from jetrack.store.stores import Stores
from tests.conftest import make_settings
from tests.web.conftest import Inbox, log_in, sign_up_verified

LOGINS = 4


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def settings(request: pytest.FixtureRequest, tmp_path: Path, smtp: tuple[Inbox, int]) -> Settings:
    extra = {}
    if request.param == "postgres":
        extra["database_url"] = request.getfixturevalue("postgres_url")
    return make_settings(tmp_path / "data", smtp_host="127.0.0.1", smtp_port=smtp[1], **extra)


def _turn_on_2fa(stores: Stores, email: str) -> tuple[str, list[str]]:
    with stores.control.session() as session:
        user = session.scalars(select(User).where(User.email == email)).one()
        credential = two_factor.begin_setup(session, user)
        credential.enabled_at = utcnow()
        return credential.secret, two_factor.new_recovery_codes(session, user)


def _waiting_logins(client: TestClient) -> list[tuple[TestClient, str]]:
    """Several browsers past the password step, each with its form's CSRF token."""
    waiting = []
    for n in range(LOGINS):
        browser = TestClient(client.app, follow_redirects=False, client=(f"192.0.2.{n}", 4000))
        assert log_in(browser, "ada@example.com").status_code == 303
        token = re.search(r'name="csrf_token" value="([^"]+)"', browser.get("/login/2fa").text)
        assert token is not None
        waiting.append((browser, token.group(1)))
    return waiting


def _send_at_once(waiting: list[tuple[TestClient, str]], code: str) -> list[int]:
    barrier = threading.Barrier(len(waiting))
    statuses: list[int] = [0] * len(waiting)

    def send(index: int) -> None:
        browser, token = waiting[index]
        barrier.wait()
        statuses[index] = browser.post(
            "/login/2fa", data={"code": code, "csrf_token": token}
        ).status_code

    threads = [threading.Thread(target=send, args=(n,)) for n in range(len(waiting))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return statuses


def _signed_in(waiting: list[tuple[TestClient, str]]) -> int:
    return sum(browser.get("/api/account/me").status_code == 200 for browser, _ in waiting)


def test_one_totp_code_sent_by_four_logins_opens_one_session(
    client: TestClient, inbox: Inbox, stores: Stores
) -> None:
    sign_up_verified(client, inbox, "ada@example.com")
    secret, _ = _turn_on_2fa(stores, "ada@example.com")
    waiting = _waiting_logins(client)
    statuses = _send_at_once(waiting, pyotp.TOTP(secret).now())
    assert sorted(statuses) == [303] + [400] * (LOGINS - 1)
    assert _signed_in(waiting) == 1


def test_one_recovery_code_sent_by_four_logins_opens_one_session(
    client: TestClient, inbox: Inbox, stores: Stores
) -> None:
    sign_up_verified(client, inbox, "ada@example.com")
    _, codes = _turn_on_2fa(stores, "ada@example.com")
    waiting = _waiting_logins(client)
    statuses = _send_at_once(waiting, codes[3])
    assert sorted(statuses) == [303] + [400] * (LOGINS - 1)
    assert _signed_in(waiting) == 1
    with stores.control.session() as session:
        used = session.scalars(select(RecoveryCode).where(RecoveryCode.used_at.is_not(None)))
        assert len(list(used)) == 1
