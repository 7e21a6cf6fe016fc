"""Billing off (JETRACK_BILLING unset, the default): /billing/* answers 404, no page shows a
word of billing, and nothing ever calls the provider, even with its keys set and a team's
customer left in the store."""

from __future__ import annotations

import json
import zipfile
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from starlette.testclient import TestClient

from jetrack.app import create_app
from jetrack.billing import subscriptions
from jetrack.billing.plans import UNLIMITED
from jetrack.config import Settings
from jetrack.jobs import runner
from jetrack.privacy.erasure import request_account_erasure
from jetrack.privacy.export import ZIP_NAME, request_export
from jetrack.privacy.purge import exports_dir
from jetrack.store.models import DataExport, ErasureRequest, User, utcnow
from jetrack.store.stores import Stores
from tests.conftest import make_settings
from tests.support.fake_stripe import SECRET_KEY, WEBHOOK_SECRET, FakeStripe, sign
from tests.web.world import World, build_world

BILLING_WORDS = ("billing", "Billing", "Upgrade", "subscription", "/billing/")


@pytest.fixture
def settings(tmp_path: Path, fake_stripe: FakeStripe) -> Settings:
    # Keys and the provider's address are set; only JETRACK_BILLING is not.
    return make_settings(
        tmp_path / "data",
        stripe_secret_key=SECRET_KEY,
        stripe_webhook_secret=WEBHOOK_SECRET,
        stripe_api_base=fake_stripe.base,
    )


@pytest.fixture
def world(stores: Stores) -> World:
    made = build_world(stores)
    with stores.control.session() as session:  # a customer from when billing was on
        subscriptions.record_customer(session, made.team_id, "cus_left_over")
    return made


@pytest.fixture
def client(settings: Settings, stores: Stores) -> Iterator[TestClient]:
    with TestClient(create_app(settings, stores), follow_redirects=False) as test_client:
        yield test_client


def test_billing_routes_answer_404(
    client: TestClient, world: World, fake_stripe: FakeStripe
) -> None:
    assert client.get(f"/billing/teams/{world.team_id}").status_code == 404
    payload = json.dumps({"id": "evt_1", "type": "invoice.paid"}).encode()
    hook = client.post(
        "/billing/webhook", content=payload, headers={"Stripe-Signature": sign(payload)}
    )
    assert hook.status_code == 404
    client.cookies.set("jt_session", world.cookies["owner"])
    assert client.get(f"/billing/teams/{world.team_id}").status_code == 404
    for action in ("checkout", "portal", "cancel", "switch"):
        data = {
            "plan": "growth",
            "interval": "month",
            "at_period_end": "1",
            "csrf_token": world.csrf["owner"],
        }
        response = client.post(f"/billing/teams/{world.team_id}/{action}", data=data)
        assert response.status_code == 404, action
    assert fake_stripe.calls == []


def test_no_page_shows_billing(client: TestClient, world: World, fake_stripe: FakeStripe) -> None:
    client.cookies.set("jt_session", world.cookies["owner"])
    for path in (
        "/sites",
        "/teams",
        f"/teams/{world.team_id}",
        "/account",
        "/account/privacy",
        "/account/delete",
    ):
        page = client.get(path)
        assert page.status_code == 200, path
        found = [word for word in BILLING_WORDS if word in page.text]
        assert found == [], f"{path}: {found}"
    assert fake_stripe.calls == []
    assert UNLIMITED.monthly_pageviews is None  # every team's plan: nothing limited


def test_export_and_erasure_never_call_the_provider(
    stores: Stores, world: World, fake_stripe: FakeStripe
) -> None:
    with stores.control.session() as session:
        owner = session.get(User, world.users["owner"])
        assert owner is not None
        request_export(session, owner)
    runner.run_pending(stores, kinds=("export",))
    with stores.control.session() as session:
        export = session.scalars(select(DataExport)).one()
        path = exports_dir(stores) / export.directory / ZIP_NAME
    with zipfile.ZipFile(path) as archive:
        assert "billing.json" not in archive.namelist()
    request_account_erasure(stores, owner, "admin@example.com")  # the first account is admin
    with stores.control.session() as session:
        for request in session.scalars(select(ErasureRequest)):
            request.purge_after = utcnow() - timedelta(seconds=1)
    runner.run_pending(stores)
    with stores.control.session() as session:
        assert session.get(User, world.users["owner"]) is None
    assert fake_stripe.calls == []
