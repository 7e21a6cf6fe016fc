"""Switching plans in Chromium, end to end against a `jetrack serve` and the loopback fake
of Stripe: subscribe to Growth through checkout, Switch to Business (now), Switch to Growth
at the end of the period (waiting), then the fake renews the subscription and posts its
webhooks: the team is on Growth."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.billing.test_upgrade_browser import Owner, billing_env, log_in
from tests.billing.test_upgrade_browser import chromium_browser as chromium_browser
from tests.conftest import LiveServer
from tests.support.fake_stripe import FakeStripe
from tests.support.shots import ARTIFACTS, shot

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def _shot(page: Page, name: str) -> None:
    shot(page, ARTIFACTS / "billing" / f"{name}.png")


def test_an_owner_switches_up_now_and_down_at_the_renewal(
    live_server_factory: Callable[..., LiveServer],
    fake_stripe: FakeStripe,
    chromium_browser: Browser,
) -> None:
    owner = Owner()
    server = live_server_factory(owner, env=billing_env(fake_stripe))
    fake_stripe.webhook_url = server.url + "/billing/webhook"
    page = chromium_browser.new_page(viewport={"width": 1440, "height": 900})
    log_in(page, server, owner.email)
    page.goto(f"{server.url}/billing/teams/{owner.team_id}")
    page.locator("section[data-plan=growth] button[value=month]").click()
    page.wait_for_url(f"{fake_stripe.base}/checkout/**")
    page.get_by_role("button", name="Pay").click()
    page.wait_for_url(f"**/billing/teams/{owner.team_id}?notice=checkout-done")
    current = page.locator("[data-current-plan]")
    expect(current).to_have_attribute("data-current-plan", "growth")

    page.get_by_role("button", name="Switch to Business").click()
    page.wait_for_url("**?notice=switched")
    expect(current).to_have_attribute("data-current-plan", "business")
    expect(page.locator(".jt-alert-success")).to_contain_text("Plan switched.")
    _shot(page, "switched-1440")

    page.get_by_role("button", name="Switch to Growth at the end of the period").click()
    page.wait_for_url("**?notice=switch-pending")
    expect(current).to_have_attribute("data-current-plan", "business")
    expect(page.locator("[data-next-plan=growth]")).to_be_visible()
    expect(page.get_by_role("button", name="Keep Business")).to_be_visible()
    _shot(page, "pending-1440")
    page.emulate_media(color_scheme="dark")
    _shot(page, "pending-1440-dark")
    page.set_viewport_size({"width": 390, "height": 844})
    _shot(page, "pending-390-dark")
    page.emulate_media(color_scheme="light")
    _shot(page, "pending-390")

    subscription_id = next(iter(fake_stripe.subscriptions))
    sent = len(fake_stripe.outbox)
    fake_stripe.renew(subscription_id)  # its two webhooks go to the server from threads
    deadline = time.monotonic() + 60
    while len(fake_stripe.delivered) < sent + 2:
        assert time.monotonic() < deadline, f"webhooks delivered: {fake_stripe.delivered}"
        time.sleep(0.1)
    assert all(status == 200 for _, status in fake_stripe.delivered), fake_stripe.delivered
    page.reload()  # the server applied each webhook before it answered
    expect(current).to_have_attribute("data-current-plan", "growth")
    expect(page.locator("[data-next-plan]")).to_have_count(0)
    page.close()
