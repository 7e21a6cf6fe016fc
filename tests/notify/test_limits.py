"""Account mails are limited per recipient, per asking account and per client, the same
for addresses with and without an account; names in mails are quoted and defanged."""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient

from jetrack.notify.limits import (
    MAILS_PER_ACCOUNT,
    MAILS_PER_CLIENT,
    MAILS_PER_RECIPIENT,
    MailLimiter,
    mail_keys,
)
from jetrack.notify.messages import defanged
from tests.conftest import app_state
from tests.web.conftest import PASSWORD, Inbox, csrf_of, sign_up, sign_up_verified
from tests.web.test_invitations import _team_id


def _from(client: TestClient, n: int) -> TestClient:
    return TestClient(client.app, follow_redirects=False, client=(f"192.0.2.{n}", 4000))


@pytest.mark.parametrize("path", ["/forgot-password", "/signup"])
def test_mails_to_one_address_stop_and_tell_nothing_about_accounts(
    client: TestClient, inbox: Inbox, path: str
) -> None:
    sign_up_verified(client, inbox, "ada@example.com")
    app_state(client).mail_limiter = MailLimiter()  # count anew
    answers: dict[str, list[tuple[int, str]]] = {}
    for address in ("ada@example.com", "nobody@example.com"):
        before = len(inbox.to(address))
        answers[address] = []
        for n in range(MAILS_PER_RECIPIENT + 2):  # every ask from another client
            data = {"email": address, "name": "M", "password": PASSWORD, "age": "1"}
            answer = _from(client, n).post(path, data=data)
            retry = answer.headers.get("retry-after", "")
            answers[address].append((answer.status_code, "Too many mails" if retry else ""))
        reached = address == "ada@example.com" or path == "/signup"  # no reset without account
        assert len(inbox.to(address)) - before == (MAILS_PER_RECIPIENT if reached else 0)
    assert answers["ada@example.com"] == answers["nobody@example.com"]
    assert answers["ada@example.com"][-1] == (429, "Too many mails")


def test_one_client_cannot_send_invitations_by_the_dozen(client: TestClient, inbox: Inbox) -> None:
    client = _from(client, 9)
    sign_up_verified(client, inbox, "ada@example.com")
    team = _team_id(client)
    statuses = []
    for n in range(MAILS_PER_CLIENT + 3):
        answer = client.post(
            f"/teams/{team}/invitations",
            data={"email": f"p{n}@example.com", "role": "viewer", "csrf_token": csrf_of(client)},
        )
        statuses.append(answer.status_code)
    # The sign-up confirmation came from this client too.
    assert statuses.count(303) == MAILS_PER_CLIENT - 1
    assert statuses[-1] == 429 and "Too many mails" in answer.text
    assert int(answer.headers["retry-after"]) > 0
    assert sum(len(inbox.to(f"p{n}@example.com")) for n in range(len(statuses))) == (
        MAILS_PER_CLIENT - 1
    )


def test_names_in_mails_are_quoted_and_carry_no_links(client: TestClient, inbox: Inbox) -> None:
    # A stranger signs up with someone else's address and a name that is an advert.
    assert sign_up(client, "victim@example.com", "Win at https://evil.example/x").status_code == 200
    text = inbox.text(inbox.last_to("victim@example.com"))
    assert "evil.example" not in text and "https://evil" not in text
    client.cookies.clear()
    sign_up_verified(client, inbox, "ada@example.com", "Ada see www.evil.example")
    team = _team_id(client)
    renamed = client.post(
        f"/teams/{team}/settings",
        data={"name": "Prize at evil.example/claim", "csrf_token": csrf_of(client)},
    )
    assert renamed.status_code == 303
    client.post(
        f"/teams/{team}/invitations",
        data={"email": "bob@example.com", "role": "viewer", "csrf_token": csrf_of(client)},
    )
    mail = inbox.last_to("bob@example.com")
    for body in (inbox.text(mail), inbox.html(mail)):
        assert "evil.example" not in body and "www.evil" not in body
    text = inbox.text(mail)
    assert (
        '"Ada see www[.]evil[.]example" invited you to the team "Prize at evil[.]example/claim"'
        in text
    )


@pytest.mark.parametrize(
    ("given", "mailed"),
    [
        ("Acme Inc.", "Acme Inc."),
        ("http://x.y", "hxxp[:]//x[.]y"),
        ("see WWW.example.org", "see WWW[.]example[.]org"),
        ("x.y/z", "x[.]y/z"),
        ("evil\u3002example", "evil[.]example"),
        ("two\nlines", "two lines"),
    ],
)
def test_defanged(given: str, mailed: str) -> None:
    assert defanged(given) == mailed


class Clock:
    def __init__(self) -> None:
        self.now = 5000.0

    def __call__(self) -> float:
        return self.now


def test_the_longest_wait_of_any_key_is_the_answer() -> None:
    clock = Clock()
    limiter = MailLimiter(clock=clock)
    keys = mail_keys(recipient=" Ada@Example.com", account=7, client="192.0.2.1")
    for _ in range(MAILS_PER_RECIPIENT):
        assert limiter.retry_after(keys) == 0
        limiter.sent(keys)
        clock.now += 60
    assert limiter.retry_after(mail_keys(recipient="ada@example.com")) == 3600 - 300
    assert limiter.retry_after(mail_keys(account=7)) == 0  # 5 of MAILS_PER_ACCOUNT
    assert MAILS_PER_ACCOUNT > MAILS_PER_RECIPIENT
    assert limiter.retry_after(keys) == 3300  # the recipient's limit holds the mail
    clock.now += 3300
    assert limiter.retry_after(keys) == 0  # the first mail left the hour
