"""Password and code re-checks of a signed-in account: throttled, and an email change
tells the old address and ends the other sessions; turning 2FA off needs a code."""

from __future__ import annotations

import pyotp
import pytest
from sqlalchemy import select
from starlette.testclient import TestClient

from jetrack.accounts.throttle import second_factor_throttle
from jetrack.store.models import TotpCredential
from jetrack.store.stores import Stores
from tests.accounts.test_throttles import Clock
from tests.accounts.test_two_factor_and_keys import _enable_2fa
from tests.conftest import app_state
from tests.web.conftest import PASSWORD, Inbox, csrf_of, log_in, sign_up_verified


@pytest.mark.parametrize(
    ("path", "field"),
    [
        ("/account/email", {"email": "new@example.com"}),
        ("/account/2fa/disable", {"code": "000000"}),
        ("/account/2fa/recovery-codes", {}),
        ("/account/delete", {"confirm": "delete"}),
    ],
)
def test_wrong_passwords_while_signed_in_are_throttled(
    client: TestClient, inbox: Inbox, path: str, field: dict[str, str]
) -> None:
    sign_up_verified(client, inbox, "ada@example.com")
    if path.startswith("/account/2fa"):
        _enable_2fa(client)  # the forms are shown, with their errors, when 2FA is on
    clock = Clock()
    app_state(client).reauth_throttle = second_factor_throttle(clock)
    statuses = []
    for _ in range(8):
        data = {"password": "not my password", "csrf_token": csrf_of(client), **field}
        answer = client.post(path, data=data)
        statuses.append(answer.status_code)
        clock.now += 0.01
    assert statuses[:5] == [400] * 5 and set(statuses[5:]) == {429}
    assert "Too many attempts" in answer.text and answer.headers["retry-after"] == "1"


def test_an_email_change_tells_the_old_address_and_ends_other_sessions(
    client: TestClient, inbox: Inbox
) -> None:
    sign_up_verified(client, inbox, "ada@example.com")
    laptop = TestClient(client.app, follow_redirects=False)
    assert log_in(laptop, "ada@example.com").status_code == 303
    asked = client.post(
        "/account/email",
        data={"email": "ada@new.example", "password": PASSWORD, "csrf_token": csrf_of(client)},
    )
    assert asked.status_code == 303
    changed = client.get(inbox.link("ada@new.example", "/account/confirm-email"))
    assert changed.status_code == 303
    notice = inbox.last_to("ada@example.com")
    assert notice["Subject"] == "The email address of your Jetrack account was changed"
    assert "ada@new.example" in inbox.text(notice) and "http" not in inbox.text(notice)
    assert client.get("/api/account/me").json()["email"] == "ada@new.example"  # this one stays
    assert laptop.get("/api/account/me").status_code == 401  # the others end


def test_turning_2fa_off_needs_a_second_factor(
    client: TestClient, inbox: Inbox, stores: Stores
) -> None:
    sign_up_verified(client, inbox, "ada@example.com")
    secret, codes = _enable_2fa(client)
    no_code = client.post(
        "/account/2fa/disable", data={"password": PASSWORD, "csrf_token": csrf_of(client)}
    )
    assert no_code.status_code == 400 and "code is not right" in no_code.text
    with stores.control.session() as session:
        assert session.scalar(select(TotpCredential.enabled_at)) is not None
    done = client.post(
        "/account/2fa/disable",
        data={"password": PASSWORD, "code": codes[0], "csrf_token": csrf_of(client)},
    )
    assert done.status_code == 303
    assert secret and pyotp.TOTP(secret).now()
