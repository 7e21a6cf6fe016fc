"""The plan's banners and the locked dashboard in Chromium, against a real `jetrack serve`
with billing on: a team in its quota's grace (and a downgrade's retention notice) sees the
banners on the sites list and above its dashboard, with an Upgrade link; a team past the
grace gets the "Over quota" page. At 1440x900 and 390x844, light and dark; with TEST_SHOTS
set the screenshots (`make shots`) go to test-artifacts/billing/."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, expect

from jetrack.accounts.login_sessions import start_session
from jetrack.billing.changes import apply_plan
from jetrack.billing.quota import GRACE_DAYS
from jetrack.store.models import Team, User, utcnow
from jetrack.store.stores import Stores, open_stores
from tests.billing.helpers import add_events, over_quota_since, team_with_sites
from tests.conftest import LiveServer, copy_template, make_settings, start_server
from tests.support.shots import ARTIFACTS, shot

pytestmark = [pytest.mark.browser, pytest.mark.slow]

VIEWPORTS = {"desktop": {"width": 1440, "height": 900}, "phone": {"width": 390, "height": 844}}
BILLING_ENV = {
    "JETRACK_BILLING": "1",
    "JETRACK_STRIPE_SECRET_KEY": "sk_test_quota",
    "JETRACK_STRIPE_WEBHOOK_SECRET": "whsec_quota",
}


@dataclass
class Seeded:
    grace_token: str = ""
    locked_token: str = ""
    grace_team: int = 0


def _token(stores: Stores, user_id: int) -> str:
    with stores.control.session() as session:
        _, token = start_session(session, session.get_one(User, user_id))
        return token


@pytest.fixture(scope="module")
def billing_server(
    tmp_path_factory: pytest.TempPathFactory, data_dir_template: Path
) -> Iterator[tuple[LiveServer, Seeded]]:
    data_dir = tmp_path_factory.mktemp("billing") / "data"
    settings = make_settings(data_dir)
    copy_template(data_dir_template, settings)
    seeded = Seeded()
    stores = open_stores(settings)
    try:
        grace_user, grace_team, (grace_site,) = team_with_sites(
            stores, "ann@grace.example", "grace.example", plan="business"
        )
        with stores.control.session() as session:
            team = session.get_one(Team, grace_team)
            apply_plan(session, team, "free", reason="cancelled", now=utcnow())
        add_events(stores.events, grace_site, utcnow(), 12_345)
        over_quota_since(stores, grace_team, 2)
        locked_user, locked_team, (locked_site,) = team_with_sites(
            stores, "bob@locked.example", "locked.example"
        )
        add_events(stores.events, locked_site, utcnow(), 10_500)
        over_quota_since(stores, locked_team, GRACE_DAYS + 1)
        seeded = Seeded(_token(stores, grace_user), _token(stores, locked_user), grace_team)
    finally:
        stores.close()
    server = start_server(data_dir, BILLING_ENV)
    try:
        yield server, seeded
    finally:
        server.stop()


def _page(browser: Browser, server: LiveServer, token: str, viewport: str, scheme: str) -> Any:
    context = browser.new_context(
        viewport=VIEWPORTS[viewport],  # type: ignore[arg-type]
        color_scheme=scheme,  # type: ignore[arg-type]
    )
    context.add_cookies([{"name": "jt_session", "value": token, "url": server.url}])
    return context.new_page()


def _shot(page: Any, name: str) -> None:
    shot(page, ARTIFACTS / "billing" / f"{name}.png")


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("viewport", ["desktop", "phone"])
def test_banners_and_the_locked_page(
    chromium: Browser, billing_server: tuple[LiveServer, Seeded], viewport: str, scheme: str
) -> None:
    server, seeded = billing_server
    upgrade = f"/billing/teams/{seeded.grace_team}"
    page = _page(chromium, server, seeded.grace_token, viewport, scheme)
    page.goto(server.url + "/sites")
    grace = page.locator("[data-banner=grace]")
    expect(grace).to_be_visible()
    expect(grace).to_contain_text("the dashboards lock on")
    expect(grace.get_by_role("link", name="Upgrade")).to_have_attribute("href", upgrade)
    retention = page.locator("[data-banner=retention]")
    expect(retention).to_contain_text("keeps data for 183 days")
    expect(retention.get_by_role("link", name="Export your data")).to_be_visible()
    _shot(page, f"sites-banners-{viewport}-{scheme}")

    page.goto(server.url + "/sites/grace.example")
    expect(page.locator(".jt-dashboard-banners [data-banner=grace]")).to_be_visible()
    expect(page.get_by_test_id("top-stats")).to_contain_text("12")
    _shot(page, f"dashboard-banner-{viewport}-{scheme}")

    page.goto(server.url + f"/teams/{seeded.grace_team}")
    expect(page.locator("[data-usage] progress")).to_have_attribute("value", "10000")
    expect(page.locator("[data-usage]")).to_contain_text("12,345 / 10,000")
    _shot(page, f"team-usage-{viewport}-{scheme}")
    page.context.close()

    page = _page(chromium, server, seeded.locked_token, viewport, scheme)
    answer = page.goto(server.url + "/sites/locked.example")
    assert answer is not None and answer.status == 402
    expect(page.get_by_role("heading", name="Over quota")).to_be_visible()
    expect(page.locator(".jt-billing-locked")).to_contain_text("10,500")
    expect(page.get_by_role("link", name="Upgrade")).to_be_visible()
    _shot(page, f"locked-{viewport}-{scheme}")
    page.goto(server.url + "/sites")
    expect(page.locator("[data-banner=locked]")).to_be_visible()
    expect(page.locator(".jt-site-visitors")).to_have_count(0)
    _shot(page, f"sites-locked-{viewport}-{scheme}")
    page.context.close()
