"""Billing's fixtures: the loopback fake of Stripe (tests/support/fake_stripe.py) and
settings with billing on that point the official library at it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import SecretStr
from starlette.testclient import TestClient

from jetrack.app import create_app
from jetrack.config import Settings
from jetrack.store.stores import Stores
from tests.conftest import free_port, make_settings
from tests.conftest import smtp as smtp
from tests.privacy.conftest import open_with as open_with
from tests.support.fake_stripe import SECRET_KEY, WEBHOOK_SECRET, FakeStripe, FakeStripeServer
from tests.web.world import World, build_world


@pytest.fixture
def fake_stripe() -> Iterator[FakeStripe]:
    with FakeStripeServer(free_port()) as fake:
        yield fake


def billing_settings(data_dir: Path, fake: FakeStripe, **overrides: object) -> Settings:
    return make_settings(data_dir, **{**billing_overrides(fake), **overrides})


@pytest.fixture
def settings(tmp_path: Path, fake_stripe: FakeStripe) -> Settings:
    return billing_settings(tmp_path / "data", fake_stripe)


def billing_overrides(fake: FakeStripe) -> dict[str, object]:
    return {
        "billing": True,
        "stripe_secret_key": SECRET_KEY,
        "stripe_webhook_secret": WEBHOOK_SECRET,
        "stripe_api_base": fake.base,
    }


def unreachable_billing(settings: Settings) -> Settings:
    """`settings` with billing on and Stripe's address a closed loopback port: for walks
    whose every request must be answered before any call to Stripe."""
    return settings.model_copy(
        update={
            "billing": True,
            "stripe_secret_key": SecretStr("sk_test_unreachable"),
            "stripe_webhook_secret": SecretStr("whsec_unreachable"),
            "stripe_api_base": f"http://127.0.0.1:{free_port()}",
        }
    )


@pytest.fixture
def world(stores: Stores) -> World:
    return build_world(stores)


@pytest.fixture
def client(settings: Settings, stores: Stores) -> Iterator[TestClient]:
    """A TestClient of an app with billing on (`settings`), redirects not followed."""
    with TestClient(create_app(settings, stores), follow_redirects=False) as test_client:
        yield test_client
