"""TOTP two-factor with recovery codes; API keys in the UI; shared links."""

from __future__ import annotations

import re
import time

import pyotp
import pytest
from sqlalchemy import select
from starlette.testclient import TestClient

from jetrack.accounts.api_keys import authenticate_api_key
from jetrack.store.models import ApiKey, TotpCredential
from jetrack.store.stores import Stores
from tests.web.conftest import PASSWORD, Inbox, csrf_of, log_in, sign_up_verified


def _enable_2fa(client: TestClient) -> tuple[str, list[str]]:
    client.post("/account/2fa/setup", data={"csrf_token": csrf_of(client)})
    page = client.get("/account/2fa").text
    secret = re.search(r'id="totp-secret">([A-Z2-7]+)<', page)
    assert secret is not None
    wrong = client.post(
        "/account/2fa/enable", data={"code": "000000", "csrf_token": csrf_of(client)}
    )
    assert wrong.status_code == 400 and "not right" in wrong.text
    done = client.post(
        "/account/2fa/enable",
        data={"code": pyotp.TOTP(secret.group(1)).now(), "csrf_token": csrf_of(client)},
    )
    assert done.status_code == 200
    codes = re.findall(r"<li>([a-z2-9]{4}-[a-z2-9]{4}-[a-z2-9]{4}-[a-z2-9]{4})</li>", done.text)
    assert len(codes) == 10
    return secret.group(1), codes


@pytest.mark.slow
def test_login_with_totp_and_recovery_code(
    client: TestClient, inbox: Inbox, stores: Stores
) -> None:
    sign_up_verified(client, inbox, "ada@example.com")
    secret, codes = _enable_2fa(client)
    client.post("/logout", data={"csrf_token": csrf_of(client)})
    step1 = log_in(client, "ada@example.com")
    assert step1.status_code == 303 and step1.headers["location"].startswith("/login/2fa")
    pending = client.cookies["jt_session"]
    assert client.get("/api/account/me").status_code == 401  # the password alone grants nothing
    assert client.get("/sites").status_code == 303
    page = client.get("/login/2fa")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert token is not None
    bad = client.post("/login/2fa", data={"code": "123456", "csrf_token": token.group(1)})
    assert bad.status_code == 400
    # A code already used to turn 2FA on cannot be replayed: log in with the next step's
    # code, which the server takes for clock skew (instead of waiting up to 30 s for it).
    with stores.control.session() as session:
        last_step = session.scalar(select(TotpCredential.last_used_step)) or 0
    fresh = pyotp.TOTP(secret).at(max(last_step + 1, int(time.time() // 30)) * 30)
    ok = client.post("/login/2fa", data={"code": fresh, "csrf_token": token.group(1)})
    assert ok.status_code == 303
    assert client.cookies["jt_session"] != pending  # a new token after the second factor
    assert client.get("/api/account/me").status_code == 200
    # A recovery code works once.
    client.post("/logout", data={"csrf_token": csrf_of(client)})
    log_in(client, "ada@example.com")
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login/2fa").text)
    assert token is not None
    assert (
        client.post(
            "/login/2fa", data={"code": codes[0].upper(), "csrf_token": token.group(1)}
        ).status_code
        == 303
    )
    client.post("/logout", data={"csrf_token": csrf_of(client)})
    log_in(client, "ada@example.com")
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login/2fa").text)
    assert token is not None
    assert (
        client.post("/login/2fa", data={"code": codes[0], "csrf_token": token.group(1)}).status_code
        == 400
    )


def test_disable_2fa_needs_the_password(client: TestClient, inbox: Inbox) -> None:
    sign_up_verified(client, inbox, "ada@example.com")
    _, codes = _enable_2fa(client)
    assert (
        client.post(
            "/account/2fa/disable", data={"password": "nope", "csrf_token": csrf_of(client)}
        ).status_code
        == 400
    )
    assert (
        client.post(
            "/account/2fa/disable",
            data={"password": PASSWORD, "code": codes[0], "csrf_token": csrf_of(client)},
        ).status_code
        == 303
    )
    client.post("/logout", data={"csrf_token": csrf_of(client)})
    assert log_in(client, "ada@example.com").headers["location"] == "/sites"


def test_api_keys_shown_once_stored_hashed_revocable(
    client: TestClient, inbox: Inbox, stores: Stores
) -> None:
    sign_up_verified(client, inbox, "ada@example.com")
    assert (
        client.post(
            "/account/api-keys", data={"name": " ", "csrf_token": csrf_of(client)}
        ).status_code
        == 400
    )
    created = client.post(
        "/account/api-keys", data={"name": "nightly-export", "csrf_token": csrf_of(client)}
    )
    key = re.search(r'id="new-api-key">(jt_[^<]+)<', created.text)
    assert key is not None
    listing = client.get("/account/api-keys").text
    assert "nightly-export" in listing and key.group(1) not in listing
    with stores.control.session() as session:
        row = session.scalars(select(ApiKey)).one()
        assert row.key_hash != key.group(1) and key.group(1) not in row.key_hash
        assert authenticate_api_key(session, key.group(1)) is not None
    # Another account cannot revoke it.
    bob = TestClient(client.app, follow_redirects=False)
    sign_up_verified(bob, inbox, "bob@example.com", "Bob")
    bob.post(f"/account/api-keys/{row.id}/revoke", data={"csrf_token": csrf_of(bob)})
    with stores.control.session() as session:
        assert authenticate_api_key(session, key.group(1)) is not None
    client.post(f"/account/api-keys/{row.id}/revoke", data={"csrf_token": csrf_of(client)})
    with stores.control.session() as session:
        assert authenticate_api_key(session, key.group(1)) is None
    assert "nightly-export" not in client.get("/account/api-keys").text


def test_shared_links_with_password_and_revocation(
    client: TestClient, inbox: Inbox, stores: Stores
) -> None:
    from jetrack.sites.shared_links import resolve_shared_link

    sign_up_verified(client, inbox, "ada@example.com")
    client.post(
        "/sites/new",
        data={"domain": "example.com", "timezone": "UTC", "csrf_token": csrf_of(client)},
    )
    short = client.post(
        "/sites/example.com/shared-links",
        data={"name": "x", "password": "short", "csrf_token": csrf_of(client)},
    )
    assert short.status_code == 400 and "at least 10 characters" in short.text
    client.post(
        "/sites/example.com/shared-links",
        data={"name": "Investors", "password": "a long password", "csrf_token": csrf_of(client)},
    )
    page = client.get("/sites/example.com/shared-links").text
    slug = re.search(r'data-link="([^"]+)"', page)
    assert slug is not None and "embed=true" in page
    visitor = TestClient(client.app, follow_redirects=False)
    assert visitor.get(f"/share/{slug.group(1)}/password").status_code == 200
    assert (
        visitor.post(
            f"/share/{slug.group(1)}/password", data={"password": "wrong one!"}
        ).status_code
        == 400
    )
    opened = visitor.post(f"/share/{slug.group(1)}/password", data={"password": "a long password"})
    assert opened.status_code == 303 and opened.headers["location"] == f"/share/{slug.group(1)}"
    cookie_value = next(v for k, v in visitor.cookies.items() if k.startswith("jt_share_"))
    assert "a long password" not in cookie_value
    with stores.control.session() as session:
        assert resolve_shared_link(session, slug.group(1), cookie_value) is not None
        assert (
            resolve_shared_link(
                session,
                slug.group(1),
                cookie_value[:-1] + ("1" if cookie_value.endswith("0") else "0"),
            )
            is None
        )
        assert resolve_shared_link(session, slug.group(1), None) is None
    link_id = re.search(r"/shared-links/(\d+)/revoke", page)
    assert link_id is not None
    client.post(
        f"/sites/example.com/shared-links/{link_id.group(1)}/revoke",
        data={"csrf_token": csrf_of(client)},
    )
    with stores.control.session() as session:
        assert resolve_shared_link(session, slug.group(1), cookie_value) is None
    assert visitor.get(f"/share/{slug.group(1)}/password").status_code == 404
