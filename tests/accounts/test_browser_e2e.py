"""End to end in Chromium against a real server and a real SMTP server: sign up, confirm
from the mail, turn on 2FA, log out, log in with TOTP, add a site, invite a member,
accept in a second browser, revoke. Screenshots (`make shots`) go to test-artifacts/accounts/."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import Any

import pyotp
import pytest

from tests.conftest import CHROMIUM, CHROMIUM_ARGS, LiveServer
from tests.support import shots
from tests.support.shots import shot
from tests.web.conftest import PASSWORD, Inbox

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ARTIFACTS = shots.ARTIFACTS / "accounts"


def _wait_for_link(inbox: Inbox, address: str, path: str, seen: int = 0) -> str:
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if len(inbox.to(address)) > seen:
            return inbox.link(address, path)
        time.sleep(0.1)
    raise AssertionError(f"no mail to {address}")


def test_accounts_in_chromium(
    live_server_factory: Callable[..., LiveServer], smtp: tuple[Inbox, int], playwright_driver: Any
) -> None:
    inbox, port = smtp
    server = live_server_factory(
        env={"JETRACK_SMTP_HOST": "127.0.0.1", "JETRACK_SMTP_PORT": str(port)}
    )
    base = server.url

    browser = playwright_driver.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
    try:
        ada = browser.new_context(viewport={"width": 1280, "height": 900})
        page = ada.new_page()

        # Sign up and confirm from the mail.
        page.goto(base + "/signup")
        page.fill("input[name=name]", "Ada")
        page.fill("input[name=email]", "ada@example.com")
        page.fill("input[name=password]", PASSWORD)
        page.check("input[name=age]")
        shot(page, ARTIFACTS / "01-signup.png")
        page.click("button:has-text('Create account')")
        page.wait_for_selector("text=Check your inbox")
        page.goto(base + _wait_for_link(inbox, "ada@example.com", "/verify-email"))
        page.wait_for_url(re.compile(r".*/sites\?notice=verified"))
        assert page.is_visible("text=Your email address is confirmed")

        # Two-factor on.
        page.goto(base + "/account/2fa")
        page.click("button:has-text('Set up two-factor authentication')")
        secret = page.inner_text("#totp-secret").strip()
        page.fill("input[name=code]", pyotp.TOTP(secret).now())
        enabled_step = int(time.time() // 30)
        page.click("button:has-text('Turn on')")
        page.wait_for_selector("#recovery-codes")
        shot(page, ARTIFACTS / "02-recovery-codes.png")

        # Log out, log in with TOTP (a fresh code: a used one is refused).
        page.click("button:has-text('Log out')")
        page.wait_for_url(re.compile(r".*/login.*"))
        page.fill("input[name=email]", "ada@example.com")
        page.fill("input[name=password]", PASSWORD)
        page.click("form[action='/login'] button[type=submit]")
        page.wait_for_url(re.compile(r".*/login/2fa.*"))
        # The next step's code, which the server takes for clock skew (no 30 s wait).
        fresh_step = max(enabled_step + 1, int(time.time() // 30))
        page.fill("input[name=code]", pyotp.TOTP(secret).at(fresh_step * 30))
        page.click("button:has-text('Continue')")
        page.wait_for_url(re.compile(r".*/sites$"))

        # Add a site; the snippet is shown.
        page.goto(base + "/sites/new")
        page.fill("input[name=domain]", "ada-shop.example")
        page.select_option("select[name=timezone]", "Europe/Berlin")
        page.click("button:has-text('Add site')")
        page.wait_for_selector("#snippet")
        assert 'data-domain="ada-shop.example"' in page.inner_text("#snippet")
        shot(page, ARTIFACTS / "03-site-settings.png")

        # Invite Bob to the team as a viewer.
        page.goto(base + "/teams")
        page.click("a:has-text('Members')")
        page.fill("input[name=email]", "bob@example.com")
        page.select_option("form[action$='/invitations'] select[name=role]", "viewer")
        page.click("button:has-text('Send invitation')")
        page.wait_for_selector("text=Invitation sent.")
        invitation = _wait_for_link(inbox, "bob@example.com", "/invitations/")

        # Bob accepts in a second browser context (on a phone-sized screen).
        bob = browser.new_context(viewport={"width": 390, "height": 844})
        bob_page = bob.new_page()
        bob_page.goto(base + invitation)
        bob_page.click("a:has-text('Create an account')")
        assert bob_page.input_value("input[name=email]") == "bob@example.com"
        bob_page.fill("input[name=name]", "Bob")
        bob_page.fill("input[name=password]", PASSWORD)
        bob_page.check("input[name=age]")
        bob_page.click("button:has-text('Create account')")
        bob_page.wait_for_url(re.compile(r".*/sites\?notice=joined"))
        assert bob_page.is_visible("[data-site='ada-shop.example']")
        shot(bob_page, ARTIFACTS / "04-bob-joined-phone.png")
        width = bob_page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, f"the page scrolls sideways at phone width ({width}px)"

        # Ada revokes Bob's access; Bob no longer sees the site.
        page.reload()
        page.click("tr[data-member='bob@example.com'] button:has-text('Remove')")
        page.wait_for_selector("text=Access removed.")
        shot(page, ARTIFACTS / "05-member-removed.png")
        bob_page.goto(base + "/sites")
        assert not bob_page.is_visible("[data-site='ada-shop.example']")
        response = bob_page.goto(base + "/sites/ada-shop.example/settings")
        assert response is not None and response.status == 404

        # Dark theme from the footer switch.
        page.click("footer button:has-text('Dark')")
        page.wait_for_load_state()
        assert page.get_attribute("html", "data-theme") == "dark"
        shot(page, ARTIFACTS / "06-dark.png")
    finally:
        browser.close()
    assert "ada@example.com" not in server.log_text()
    assert "bob@example.com" not in server.log_text()
