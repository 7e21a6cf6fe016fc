"""Progressive delays instead of lock-outs: per (target, client), per target, per client;
second factors counted apart from passwords. Time is the throttle's own clock, moved by
the test (no test waits on the wall clock)."""

from __future__ import annotations

import re
from dataclasses import dataclass

import pytest
from starlette.testclient import TestClient

from jetrack.accounts.throttle import LoginThrottle, second_factor_throttle
from tests.accounts.test_two_factor_and_keys import _enable_2fa
from tests.conftest import app_state
from tests.web.conftest import PASSWORD, Inbox, csrf_of, log_in, sign_up_verified

ATTACKER, OWNER = ("192.0.2.66", 4000), ("198.51.100.7", 4000)


@dataclass
class Clock:
    now: float = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_pair_slows_down_progressively_and_the_cap_holds() -> None:
    clock = Clock()
    throttle = LoginThrottle(clock=clock)
    waits = []
    for _ in range(12):
        waits.append(throttle.retry_after("ada@example.com", "192.0.2.1"))
        throttle.failed("ada@example.com", "192.0.2.1")
        clock.now += 0.001
    # Five free attempts, then each waits twice as long as the one before.
    assert waits[:5] == [0, 0, 0, 0, 0]
    assert waits[5:] == [1, 2, 4, 8, 16, 32, 64]
    for _ in range(40):
        throttle.failed("ada@example.com", "192.0.2.1")
    assert throttle.retry_after("ada@example.com", "192.0.2.1") == 15 * 60


def test_an_attacker_delays_the_owner_only_briefly() -> None:
    clock = Clock()
    throttle = LoginThrottle(clock=clock)
    for _ in range(1000):
        throttle.failed("ada@example.com", "192.0.2.66")
    assert throttle.retry_after("ada@example.com", "192.0.2.66") == 15 * 60
    assert throttle.retry_after("ada@example.com", "198.51.100.7") == 30  # the target's cap
    clock.now += 31
    assert throttle.retry_after("ada@example.com", "198.51.100.7") == 0
    assert throttle.retry_after("ada@example.com", "192.0.2.66") > 0


def test_a_client_over_its_budget_waits_on_every_target() -> None:
    clock = Clock()
    throttle = LoginThrottle(clock=clock)
    for n in range(50):
        assert throttle.retry_after(f"user{n}@example.com", "192.0.2.1") == 0
        throttle.failed(f"user{n}@example.com", "192.0.2.1")
    assert throttle.retry_after("fresh@example.com", "192.0.2.1") == 1
    assert throttle.retry_after("fresh@example.com", "192.0.2.2") == 0
    clock.now += 2 * 60 * 60  # counters are forgotten after an hour without failures
    assert throttle.retry_after("fresh@example.com", "192.0.2.1") == 0


def test_ten_wrong_passwords_no_longer_lock_the_owner_out(client: TestClient, inbox: Inbox) -> None:
    sign_up_verified(client, inbox, "ada@example.com")
    clock = Clock()
    app_state(client).login_throttle = LoginThrottle(clock=clock)
    attacker = TestClient(client.app, follow_redirects=False, client=ATTACKER)
    owner = TestClient(client.app, follow_redirects=False, client=OWNER)
    waits = []
    for _ in range(15):  # the attacker guesses as fast as it is let
        answer = log_in(attacker, "ada@example.com", "wrong password!")
        if answer.status_code == 429:
            assert "Too many attempts" in answer.text
            waits.append(int(answer.headers["retry-after"]))
            clock.now += waits[-1]
            answer = log_in(attacker, "ada@example.com", "wrong password!")
        assert answer.status_code == 400
        clock.now += 0.01
    assert waits == [1, 2, 4, 8, 16, 32, 64, 128, 256, 512]
    clock.now += 31  # the owner waits at most the target's short cap
    assert log_in(owner, "ada@example.com").status_code == 303
    assert log_in(attacker, "ada@example.com", "wrong password!").status_code == 429


def test_the_shared_link_password_is_not_locked_for_other_visitors(
    client: TestClient, inbox: Inbox
) -> None:
    sign_up_verified(client, inbox, "ada@example.com")
    token = csrf_of(client)
    client.post(
        "/sites/new", data={"domain": "acme.example", "timezone": "UTC", "csrf_token": token}
    )
    client.post(
        "/sites/acme.example/shared-links",
        data={"name": "Board", "password": "board password 1", "csrf_token": token},
    )
    page = client.get("/sites/acme.example/shared-links").text
    slug = re.search(r'data-link="([^"]+)"', page)
    assert slug is not None
    clock = Clock()
    app_state(client).share_throttle = LoginThrottle(clock=clock)
    attacker = TestClient(client.app, follow_redirects=False, client=ATTACKER)
    visitor = TestClient(client.app, follow_redirects=False, client=OWNER)
    url = f"/share/{slug.group(1)}/password"
    for _ in range(15):
        answer = attacker.post(url, data={"password": "guess guess"})
        if answer.status_code == 429:
            clock.now += int(answer.headers["retry-after"])
            answer = attacker.post(url, data={"password": "guess guess"})
        assert answer.status_code == 400
    assert attacker.post(url, data={"password": "guess guess"}).status_code == 429
    clock.now += 31
    assert visitor.post(url, data={"password": "board password 1"}).status_code == 303


@pytest.mark.slow
def test_a_right_password_does_not_reset_the_second_factor_count(
    client: TestClient, inbox: Inbox
) -> None:
    sign_up_verified(client, inbox, "ada@example.com")
    _enable_2fa(client)
    client.post("/logout", data={"csrf_token": csrf_of(client)})
    clock = Clock()
    app_state(client).second_factor_throttle = second_factor_throttle(clock)
    statuses = []
    for _ in range(4):  # log in again and again with the (stolen) password
        client.cookies.clear()
        assert log_in(client, "ada@example.com", PASSWORD).status_code == 303
        page = client.get("/login/2fa").text
        token = re.search(r'name="csrf_token" value="([^"]+)"', page)
        assert token is not None
        for _ in range(3):
            answer = client.post(
                "/login/2fa", data={"code": "000000", "csrf_token": token.group(1)}
            )
            statuses.append(answer.status_code)
            clock.now += 0.01
    assert statuses[:5] == [400] * 5
    assert set(statuses[5:]) == {429}
