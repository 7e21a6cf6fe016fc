"""Sign-up, confirmation, log-in, reset, profile changes, sessions and deletion, end to end
through the app with the real control store and a real SMTP server on loopback."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select, update
from starlette.testclient import TestClient

from jetrack.store.models import EmailToken, ErasureRequest, User, UserSession, utcnow
from jetrack.store.stores import Stores
from tests.conftest import app_state
from tests.web.conftest import PASSWORD, Inbox, csrf_of, log_in, sign_up, sign_up_verified


@pytest.mark.slow
def test_first_account_is_admin_and_confirms_from_the_mail(
    client: TestClient, inbox: Inbox, stores: Stores
) -> None:
    response = sign_up(client, "ada@example.com", "Ada")
    assert response.status_code == 200
    assert "Check your inbox" in response.text
    mail = inbox.last_to("ada@example.com")
    assert mail["Subject"] == "Confirm your email address for Jetrack"
    assert "/verify-email?token=" in inbox.html(mail)
    # Not confirmed yet: logging in mails a fresh link instead.
    assert log_in(client, "ada@example.com").status_code == 403
    verified = client.get(inbox.link("ada@example.com", "/verify-email"))
    assert verified.status_code == 303
    assert verified.headers["location"] == "/sites?notice=verified"
    cookie = verified.headers["set-cookie"]
    assert "jt_session=" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie
    assert "Secure" not in cookie  # plain HTTP here; see test_cookie_is_secure_over_tls
    with stores.control.session() as session:
        user = session.scalars(select(User)).one()
        assert user.is_admin and user.email_verified_at and user.age_confirmed_at
        assert user.password_hash and user.password_hash.startswith("$argon2id$")
        # Only the token's hash is stored.
        token = client.cookies["jt_session"]
        assert session.scalar(select(UserSession.token_hash)) not in (None, token)
    assert client.get("/sites").status_code == 200


@pytest.mark.slow
def test_second_account_is_no_admin(client: TestClient, inbox: Inbox, stores: Stores) -> None:
    sign_up_verified(client, inbox, "ada@example.com")
    client.cookies.clear()
    sign_up_verified(client, inbox, "bob@example.com", "Bob")
    with stores.control.session() as session:
        admins = session.scalars(select(User.email).where(User.is_admin)).all()
    assert admins == ["ada@example.com"]


def test_signup_validates_every_field(client: TestClient, inbox: Inbox) -> None:
    response = client.post("/signup", data={"name": "", "email": "nope", "password": "short"})
    assert response.status_code == 400
    for message in (
        "please enter your name",
        "must be an email address",
        "at least 10 characters",
        "13 or older",
    ):
        assert message in response.text
    assert inbox.messages == []


@pytest.mark.slow
def test_signup_does_not_reveal_existing_accounts(client: TestClient, inbox: Inbox) -> None:
    sign_up_verified(client, inbox, "ada@example.com")
    client.cookies.clear()
    fresh = sign_up(client, "new@example.com")
    again = sign_up(client, "ada@example.com")
    assert fresh.status_code == again.status_code == 200
    assert fresh.text == again.text  # identical pages, byte for byte
    assert inbox.last_to("ada@example.com")["Subject"].startswith("Someone tried to sign up")


def test_invite_only_signup(client: TestClient, inbox: Inbox, stores: Stores) -> None:
    sign_up_verified(client, inbox, "ada@example.com")
    client.cookies.clear()
    app_settings = app_state(client).settings
    app_state(client).settings = app_settings.model_copy(update={"signup_mode": "invite_only"})
    response = sign_up(client, "bob@example.com")
    assert response.status_code == 400
    assert "by invitation only" in response.text
    assert inbox.to("bob@example.com") == []


@pytest.mark.slow
def test_login_logout_and_wrong_passwords(client: TestClient, inbox: Inbox) -> None:
    sign_up_verified(client, inbox, "ada@example.com")
    client.cookies.clear()
    wrong = log_in(client, "ada@example.com", "not the password")
    unknown = log_in(client, "nobody@example.com", "not the password")
    assert wrong.status_code == unknown.status_code == 400
    assert "The email or password is not right." in wrong.text
    assert wrong.text.replace("ada@", "X@") == unknown.text.replace("nobody@", "X@")
    ok = log_in(client, "ADA@example.com ")
    assert ok.status_code == 303 and ok.headers["location"] == "/sites"
    token = csrf_of(client)
    out = client.post("/logout", data={"csrf_token": token})
    assert out.status_code == 303
    assert client.get("/sites").status_code == 303  # back to /login
    assert client.get("/api/sites").status_code == 401


@pytest.mark.slow
def test_password_reset_flow(client: TestClient, inbox: Inbox) -> None:
    sign_up_verified(client, inbox, "ada@example.com")
    other = TestClient(client.app, follow_redirects=False)
    assert log_in(other, "ada@example.com").status_code == 303
    client.cookies.clear()
    known = client.post("/forgot-password", data={"email": "ada@example.com"})
    unknown = client.post("/forgot-password", data={"email": "nobody@example.com"})
    assert known.status_code == unknown.status_code == 200 and known.text == unknown.text
    assert inbox.to("nobody@example.com") == []
    path = inbox.link("ada@example.com", "/reset-password")
    assert client.get(path).status_code == 200
    token = path.split("token=")[1]
    short = client.post("/reset-password", data={"token": token, "password": "short"})
    assert short.status_code == 400 and "at least 10 characters" in short.text
    done = client.post("/reset-password", data={"token": token, "password": "a brand new secret"})
    assert done.status_code == 303
    # Used once; the other browser's session ended.
    reused = client.post("/reset-password", data={"token": token, "password": "another new secret"})
    assert reused.status_code == 400 and "already used" in reused.text
    assert client.get(path).status_code == 400
    assert other.get("/api/account/me").status_code == 401
    assert log_in(client, "ada@example.com", "a brand new secret").status_code == 303


def test_expired_and_mangled_tokens_are_refused_clearly(
    client: TestClient, inbox: Inbox, stores: Stores
) -> None:
    sign_up(client, "ada@example.com")
    path = inbox.link("ada@example.com", "/verify-email")
    with stores.control.session() as session:
        session.execute(update(EmailToken).values(expires_at=utcnow() - timedelta(hours=1)))
    expired = client.get(path)
    assert expired.status_code == 400 and "expired" in expired.text
    mangled = client.get("/verify-email?token=" + "x" * 43)
    assert mangled.status_code == 400 and "not valid" in mangled.text
    assert client.get("/verify-email").status_code == 400
    assert client.get("/reset-password?token=" + "y" * 500).status_code == 400


@pytest.mark.slow
def test_change_name_email_and_password(client: TestClient, inbox: Inbox, stores: Stores) -> None:
    sign_up_verified(client, inbox, "ada@example.com")
    other = TestClient(client.app, follow_redirects=False)
    assert log_in(other, "ada@example.com").status_code == 303
    token = csrf_of(client)
    assert (
        client.post("/account/name", data={"name": "Ada L.", "csrf_token": token}).status_code
        == 303
    )
    bad = client.post("/account/name", data={"name": "  ", "csrf_token": token})
    assert bad.status_code == 400 and "please enter your name" in bad.text
    wrong = client.post(
        "/account/email", data={"email": "ada@new.example", "password": "nope", "csrf_token": token}
    )
    assert wrong.status_code == 400 and "not your current password" in wrong.text
    sent = client.post(
        "/account/email",
        data={"email": "ada@new.example", "password": PASSWORD, "csrf_token": token},
    )
    assert sent.status_code == 303
    assert client.get(inbox.link("ada@new.example", "/account/confirm-email")).status_code == 303
    with stores.control.session() as session:
        assert session.scalars(select(User.email)).one() == "ada@new.example"
        assert session.scalars(select(User.name)).one() == "Ada L."
    changed = client.post(
        "/account/password",
        data={"current_password": PASSWORD, "new_password": "the next secret", "csrf_token": token},
    )
    assert changed.status_code == 303
    assert other.get("/api/account/me").status_code == 401  # other sessions ended
    assert client.get("/api/account/me").status_code == 200  # this one stays


def test_list_and_revoke_sessions(client: TestClient, inbox: Inbox) -> None:
    sign_up_verified(client, inbox, "ada@example.com")
    other = TestClient(
        client.app,
        follow_redirects=False,
        headers={"User-Agent": "Mozilla/5.0 (X11; Linux x86_64) Firefox/130.0"},
    )
    assert log_in(other, "ada@example.com").status_code == 303
    page = client.get("/account/sessions")
    assert (
        page.status_code == 200 and "Firefox on Linux" in page.text and "this browser" in page.text
    )
    other_me = other.get("/api/account/me").json()
    assert other_me["email"] == "ada@example.com"
    rows = re.findall(r"<tr>(.*?)</tr>", page.text, re.S)
    firefox = next(row for row in rows if "Firefox on Linux" in row)
    session_id = re.search(r"/account/sessions/(\d+)/revoke", firefox)
    assert session_id is not None
    revoked = client.post(
        f"/account/sessions/{session_id.group(1)}/revoke", data={"csrf_token": csrf_of(client)}
    )
    assert revoked.status_code == 303
    assert other.get("/api/account/me").status_code == 401
    assert client.get("/api/account/me").status_code == 200


def test_cannot_revoke_another_accounts_session(
    client: TestClient, inbox: Inbox, stores: Stores
) -> None:
    sign_up_verified(client, inbox, "ada@example.com")
    bob = TestClient(client.app, follow_redirects=False)
    sign_up_verified(bob, inbox, "bob@example.com", "Bob")
    with stores.control.session() as session:
        bob_id = session.scalar(select(User.id).where(User.email == "bob@example.com"))
        bob_session = session.scalar(select(UserSession.id).where(UserSession.user_id == bob_id))
    client.post(f"/account/sessions/{bob_session}/revoke", data={"csrf_token": csrf_of(client)})
    assert bob.get("/api/account/me").status_code == 200


def test_delete_account_locks_and_records_erasure(
    client: TestClient, inbox: Inbox, stores: Stores
) -> None:
    sign_up_verified(client, inbox, "ada@example.com")
    token = csrf_of(client)
    key_page = client.post("/account/api-keys", data={"name": "script", "csrf_token": token})
    assert key_page.status_code == 200
    refused = client.post(
        "/account/delete", data={"password": "wrong", "confirm": "no", "csrf_token": token}
    )
    assert refused.status_code == 400
    assert "type the word" in refused.text and "not your current password" in refused.text
    done = client.post(
        "/account/delete", data={"password": PASSWORD, "confirm": "delete", "csrf_token": token}
    )
    assert done.status_code == 200 and "Account deleted" in done.text
    assert client.get("/api/account/me").status_code == 401
    with stores.control.session() as session:
        user = session.scalars(select(User)).one()
        assert user.locked_at is not None
        request = session.scalars(select(ErasureRequest)).one()
        assert request.user_id == user.id and request.completed_at is None
        assert session.scalars(select(UserSession)).all() == []
    client.cookies.clear()
    assert log_in(client, "ada@example.com").status_code == 400


def test_theme_cookie_and_cookie_page(client: TestClient) -> None:
    response = client.post("/theme", data={"theme": "dark", "next": "/cookies"})
    assert response.status_code == 303 and response.headers["location"] == "/cookies"
    assert "jt_theme=dark" in response.headers["set-cookie"]
    page = client.get("/cookies")
    assert 'data-theme="dark"' in page.text
    assert "jt_session" in page.text and "jt_theme" in page.text
    ignored = client.post("/theme", data={"theme": "<script>", "next": "https://evil.example/"})
    assert ignored.headers["location"] == "/" and "set-cookie" not in ignored.headers


def test_cookie_is_secure_over_tls(settings: object, stores: Stores, inbox: Inbox) -> None:
    from jetrack.app import create_app

    tls_settings = stores.settings.model_copy(update={"base_url": "https://jetrack.example"})
    with TestClient(
        create_app(tls_settings, stores), base_url="https://jetrack.example", follow_redirects=False
    ) as tls:
        sign_up(tls, "ada@example.com")
        verified = tls.get(inbox.link("ada@example.com", "/verify-email"))
        assert "Secure" in verified.headers["set-cookie"]


def test_no_mail_server_logs_the_text_without_the_address(caplog: object, stores: Stores) -> None:
    import asyncio
    import logging

    from jetrack.notify.mail import send_mail

    quiet = stores.settings.model_copy(update={"smtp_host": None})
    assert isinstance(caplog, __import__("pytest").LogCaptureFixture)
    with caplog.at_level(logging.DEBUG, logger="jetrack.mail"):
        sent = asyncio.run(
            send_mail(
                quiet, "secret-person@example.com", "Subject line", "body text", "<p>body</p>"
            )
        )
    assert sent is False
    assert "mail not sent" in caplog.text
    # The operator's only way to the links in it; the recipient's address stays out.
    assert "mail | body text" in caplog.text and "Subject line" in caplog.text
    assert "secret-person" not in caplog.text and "<p>" not in caplog.text


def test_the_chosen_language_wins_over_the_browsers(
    client: TestClient, inbox: Inbox, stores: Stores
) -> None:
    sign_up_verified(client, inbox, "ada@example.com")
    token = csrf_of(client)
    french = {"Accept-Language": "fr-FR,fr;q=0.9"}
    page = client.get("/account", headers=french)
    assert '<html lang="fr"' in page.text and "<h1>Compte</h1>" in page.text
    bad = client.post("/account/language", data={"language": "xx", "csrf_token": token})
    assert bad.status_code == 400 and "must be empty or one of: en, de, fr, es, pt" in bad.text
    saved = client.post("/account/language", data={"language": "de", "csrf_token": token})
    assert saved.status_code == 303
    page = client.get("/account?notice=saved", headers=french)
    assert '<html lang="de"' in page.text and "Gespeichert." in page.text
    assert '<option value="de" lang="de" translate="no" selected>Deutsch</option>' in page.text
    with stores.control.session() as session:
        user = session.scalar(select(User).where(User.email == "ada@example.com"))
        assert user is not None and user.locale == "de"
    client.post("/account/language", data={"language": "", "csrf_token": token})
    assert '<html lang="fr"' in client.get("/account", headers=french).text
    assert '<html lang="en"' in client.get("/account").text
