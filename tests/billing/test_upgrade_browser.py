"""Upgrading a team in Chromium, end to end: a `jetrack serve` with billing on and the
official library pointed at the loopback fake of Stripe; log in, open the plans page,
Upgrade, the fake's checkout page, Pay (the fake creates the subscription and posts its
signed webhooks to the server), back on Jetrack with the team on Growth."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from jetrack.accounts.teams import create_team
from jetrack.accounts.users import create_user
from jetrack.store.models import Team, utcnow
from jetrack.store.stores import Stores, open_stores
from tests.conftest import CHROMIUM, CHROMIUM_ARGS, LiveServer, make_settings
from tests.support.fake_stripe import SECRET_KEY, WEBHOOK_SECRET, FakeStripe

pytestmark = [pytest.mark.browser, pytest.mark.slow]

PASSWORD = "correct horse battery"


@dataclass
class Owner:
    email: str = "ada@example.com"
    team_id: int = 0

    def __call__(self, stores: Stores) -> None:
        with stores.control.session() as session:
            user = create_user(session, self.email, name="Ada", password=PASSWORD)
            user.email_verified_at = utcnow()
            session.flush()
            self.team_id = create_team(session, user, "Ada's team").id


@pytest.fixture
def chromium_browser(playwright_driver: Any) -> Iterator[Browser]:
    browser = playwright_driver.chromium.launch(
        executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
    )
    yield browser
    browser.close()


def billing_env(fake: FakeStripe) -> dict[str, str]:
    return {
        "JETRACK_BILLING": "1",
        "JETRACK_STRIPE_SECRET_KEY": SECRET_KEY,
        "JETRACK_STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET,
        "JETRACK_STRIPE_API_BASE": fake.base,
    }


def log_in(page: Page, server: LiveServer, email: str) -> None:
    page.goto(server.url + "/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", PASSWORD)
    page.click("form[action='/login'] button[type=submit]")
    page.wait_for_url("**/sites**")


def test_an_owner_upgrades_to_growth_through_checkout(
    live_server_factory: Callable[..., LiveServer],
    fake_stripe: FakeStripe,
    chromium_browser: Browser,
) -> None:
    owner = Owner()
    server = live_server_factory(owner, env=billing_env(fake_stripe))
    fake_stripe.webhook_url = server.url + "/billing/webhook"
    page = chromium_browser.new_page(viewport={"width": 1440, "height": 900})
    log_in(page, server, owner.email)
    page.goto(server.url + "/teams")
    page.get_by_role("link", name="Plan and billing").click()
    expect(page.locator("[data-current-plan]")).to_have_attribute("data-current-plan", "free")

    page.locator("section[data-plan=growth] button[value=month]").click()
    page.wait_for_url(f"{fake_stripe.base}/checkout/**")
    expect(page.locator("h1")).to_have_text("Jetrack Growth")
    page.get_by_role("button", name="Pay").click()

    page.wait_for_url(f"**/billing/teams/{owner.team_id}?notice=checkout-done")
    expect(page.locator("[data-current-plan]")).to_have_attribute("data-current-plan", "growth")
    expect(page.locator("[data-status]")).to_have_attribute("data-status", "trialing")
    expect(page.get_by_role("button", name="Manage billing")).to_be_visible()
    page.close()
    server.stop()
    stores = open_stores(make_settings(server.data_dir))
    try:
        with stores.control.session() as session:
            team = session.get(Team, owner.team_id)
            assert team is not None and team.plan == "growth"
    finally:
        stores.close()
