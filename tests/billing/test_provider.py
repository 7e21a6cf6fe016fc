"""billing/provider.py against the loopback fake of Stripe: the official library's requests
as the fake parses them, its errors as BillingUnavailable, and the webhook signature."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from jetrack.billing import provider
from jetrack.billing.plans import PLANS
from jetrack.config import Settings
from tests.billing.conftest import billing_settings
from tests.support.fake_stripe import FakeStripe, sign


def test_a_wrong_secret_key_is_billing_unavailable(tmp_path: Path, fake_stripe: FakeStripe) -> None:
    wrong = billing_settings(tmp_path / "data", fake_stripe, stripe_secret_key="sk_test_wrong")
    with pytest.raises(provider.BillingUnavailable):
        provider.create_customer(wrong, 1, "Acme", "a@example.com")
    assert fake_stripe.customers == {}


def test_billing_off_never_calls(tmp_path: Path, fake_stripe: FakeStripe) -> None:
    off = billing_settings(tmp_path / "data", fake_stripe, billing=False)
    with pytest.raises(provider.BillingUnavailable):
        provider.invoices(off, "cus_1")
    assert fake_stripe.calls == []


def test_checkout_params_as_stripe_receives_them(
    settings: Settings, fake_stripe: FakeStripe
) -> None:
    customer = provider.create_customer(settings, 7, "Acme", "a@example.com")
    url = provider.checkout_url(
        settings,
        customer_id=customer,
        team_id=7,
        plan=PLANS["business"],
        interval="month",
        trial_days=0,
    )
    assert url.startswith(fake_stripe.base + "/checkout/")
    method, path, params = fake_stripe.calls[-1]
    assert (method, path) == ("POST", "/v1/checkout/sessions")
    assert params["line_items"] == [
        {
            "price_data": {
                "currency": "eur",
                "unit_amount": "6900",
                "product_data": {"name": "Jetrack Business"},
                "recurring": {"interval": "month"},
            },
            "quantity": "1",
        }
    ]
    assert params["subscription_data"] == {
        "metadata": {"team_id": "7", "plan": "business", "interval": "month"}
    }  # no trial asked


def test_deleting_a_customer_twice_is_no_error(settings: Settings, fake_stripe: FakeStripe) -> None:
    customer = provider.create_customer(settings, 1, "Acme", "a@example.com")
    provider.delete_customer(settings, customer)
    provider.delete_customer(settings, customer)
    with pytest.raises(provider.BillingUnavailable):
        provider.billing_details(settings, "cus_missing")  # a 404 of a read is an error


def test_webhook_signatures(settings: Settings, fake_stripe: FakeStripe) -> None:
    payload, headers = fake_stripe.signed_event("invoice.paid", {"id": "in_1", "object": "invoice"})
    event = provider.verified_event(settings, payload, headers["Stripe-Signature"])
    assert event.type == "invoice.paid" and provider.event_object(event)["id"] == "in_1"
    stale = sign(payload, timestamp=int(time.time()) - 3600)  # past the library's 5 minutes
    for bad in (stale, sign(payload, "whsec_other"), "", "t=1,v1=00"):
        with pytest.raises(provider.BadSignature):
            provider.verified_event(settings, payload, bad)
    signed_junk = b"not json"
    with pytest.raises(provider.BadSignature):
        provider.verified_event(settings, signed_junk, sign(signed_junk))
    assert json.loads(payload)["api_version"] == "2026-10-28.endive"
