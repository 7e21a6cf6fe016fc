"""The billing pages and the webhook endpoint over HTTP (web/billing_pages.py), with billing
on and the official library pointed at the loopback fake of Stripe."""

from __future__ import annotations

from typing import Any

import pytest
from starlette.testclient import TestClient

from jetrack.billing import provider, subscriptions
from jetrack.store.models import BillingEvent, Team, TeamBilling
from jetrack.store.stores import Stores
from tests.billing.helpers import log_in_as
from tests.support.fake_stripe import FakeStripe, sign
from tests.web.world import World


def _checkout(
    client: TestClient, world: World, plan: str = "growth", interval: str = "month"
) -> str:
    csrf = log_in_as(client, world, "owner")
    response = client.post(
        f"/billing/teams/{world.team_id}/checkout",
        data={"plan": plan, "interval": interval, "csrf_token": csrf},
    )
    assert response.status_code == 303, response.text
    return str(response.headers["location"])


def _pay(client: TestClient, fake: FakeStripe, location: str) -> None:
    """The fake's Pay, with its webhooks delivered to the TestClient."""
    fake.pay(location.rsplit("/", 1)[1])
    sub = list(fake.subscriptions.values())[-1]
    session = list(fake.sessions.values())[-1]
    public = {k: v for k, v in session.items() if not k.startswith("_")}
    for kind, obj in (
        ("customer.subscription.created", sub),
        ("checkout.session.completed", public),
    ):
        payload, headers = fake.signed_event(kind, obj)
        assert client.post("/billing/webhook", content=payload, headers=headers).status_code == 200


def test_owner_upgrades_through_checkout(
    client: TestClient, world: World, fake_stripe: FakeStripe, stores: Stores
) -> None:
    log_in_as(client, world, "owner")
    page = client.get(f"/billing/teams/{world.team_id}")
    assert page.status_code == 200
    assert 'data-current-plan="free"' in page.text and "Upgrade, monthly" in page.text
    assert "19,00" in page.text or "19.00" in page.text  # Growth's price from plans.py

    location = _checkout(client, world, "growth", "year")
    assert location.startswith(f"{fake_stripe.base}/checkout/")
    created = [params for method, path, params in fake_stripe.calls if path == "/v1/customers"]
    assert created == [
        {"email": "owner@example.com", "name": "Acme", "metadata": {"team_id": str(world.team_id)}}
    ]
    session = next(
        params for method, path, params in fake_stripe.calls if path == "/v1/checkout/sessions"
    )
    assert session["line_items"][0]["price_data"] == {
        "currency": "eur",
        "unit_amount": "19000",
        "product_data": {"name": "Jetrack Growth"},
        "recurring": {"interval": "year"},
    }
    assert session["client_reference_id"] == str(world.team_id)
    assert session["subscription_data"]["trial_period_days"] == str(subscriptions.TRIAL_DAYS)
    assert session["success_url"].endswith(f"/billing/teams/{world.team_id}?notice=checkout-done")

    _pay(client, fake_stripe, location)
    with stores.control.session() as db:
        team = db.get(Team, world.team_id)
        assert team is not None and team.plan == "growth"
    page = client.get(f"/billing/teams/{world.team_id}?notice=checkout-done")
    assert 'data-current-plan="growth"' in page.text and 'data-status="trialing"' in page.text
    assert "Upgrade, monthly" not in page.text  # subscribed: Manage billing instead
    # A second checkout of the same team is refused; the customer is reused for the next.
    again = client.post(
        f"/billing/teams/{world.team_id}/checkout",
        data={"plan": "business", "interval": "month", "csrf_token": world.csrf["owner"]},
    )
    assert again.status_code == 400 and "already has a subscription" in again.text


def test_portal_and_cancel_at_period_end(
    client: TestClient, world: World, fake_stripe: FakeStripe, stores: Stores
) -> None:
    _pay(client, fake_stripe, _checkout(client, world))
    csrf = world.csrf["owner"]
    portal = client.post(f"/billing/teams/{world.team_id}/portal", data={"csrf_token": csrf})
    assert portal.status_code == 303 and portal.headers["location"].startswith(
        f"{fake_stripe.base}/portal/"
    )

    cancel = client.post(
        f"/billing/teams/{world.team_id}/cancel", data={"at_period_end": "1", "csrf_token": csrf}
    )
    assert cancel.status_code == 303
    sub = list(fake_stripe.subscriptions.values())[-1]
    assert sub["cancel_at_period_end"] is True
    page = client.get(cancel.headers["location"])
    assert "the plan stays until" in page.text and 'data-current-plan="growth"' in page.text

    resume = client.post(
        f"/billing/teams/{world.team_id}/cancel", data={"at_period_end": "0", "csrf_token": csrf}
    )
    assert resume.status_code == 303 and sub["cancel_at_period_end"] is False
    bad = client.post(
        f"/billing/teams/{world.team_id}/cancel",
        data={"at_period_end": "maybe", "csrf_token": csrf},
    )
    assert bad.status_code == 400 and "at_period_end" in bad.text


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        ({"plan": "free", "interval": "month"}, "choose Growth or Business"),
        ({"plan": "enterprise", "interval": "month"}, "choose Growth or Business"),
        ({"plan": "growth", "interval": "week"}, "choose monthly or yearly"),
    ],
)
def test_bad_checkout_input_is_a_400_naming_it(
    data: dict[str, str], problem: str, client: TestClient, world: World, fake_stripe: FakeStripe
) -> None:
    csrf = log_in_as(client, world, "owner")
    response = client.post(
        f"/billing/teams/{world.team_id}/checkout", data={**data, "csrf_token": csrf}
    )
    assert response.status_code == 400 and problem in response.text
    assert fake_stripe.calls == []


def test_an_unreachable_provider_is_a_clear_message_not_a_500(
    client: TestClient, world: World, fake_stripe: FakeStripe
) -> None:
    fake_stripe.down = True
    csrf = log_in_as(client, world, "owner")
    response = client.post(
        f"/billing/teams/{world.team_id}/checkout",
        data={"plan": "growth", "interval": "month", "csrf_token": csrf},
    )
    assert response.status_code == 503
    assert "payment provider could not be reached" in response.text


def test_viewers_see_the_plan_only_and_others_get_404(
    client: TestClient, world: World, fake_stripe: FakeStripe
) -> None:
    log_in_as(client, world, "viewer")
    page = client.get(f"/billing/teams/{world.team_id}")
    assert page.status_code == 200 and "Upgrade" not in page.text
    assert "Only the team&#39;s owners change its plan." in page.text
    csrf = world.csrf["viewer"]
    refused = client.post(
        f"/billing/teams/{world.team_id}/checkout",
        data={"plan": "growth", "interval": "month", "csrf_token": csrf},
    )
    assert refused.status_code == 404
    log_in_as(client, world, "stranger")
    assert client.get(f"/billing/teams/{world.team_id}").status_code == 404
    assert fake_stripe.calls == []


def test_webhook_signature_duplicates_and_unknown_types(
    client: TestClient, world: World, fake_stripe: FakeStripe, stores: Stores
) -> None:
    client.cookies.clear()
    payload, headers = fake_stripe.signed_event(
        "customer.created", {"id": "cus_1", "object": "customer"}
    )
    forged = client.post(
        "/billing/webhook",
        content=payload,
        headers={**headers, "Stripe-Signature": sign(payload, "whsec_wrong")},
    )
    assert forged.status_code == 400 and "Stripe-Signature" in forged.text
    missing = client.post("/billing/webhook", content=payload)
    assert missing.status_code == 400
    tampered = client.post(
        "/billing/webhook", content=payload.replace(b"cus_1", b"cus_2"), headers=headers
    )
    assert tampered.status_code == 400
    ignored = client.post("/billing/webhook", content=payload, headers=headers)
    assert ignored.status_code == 200 and ignored.json()["outcome"] == "ignored"

    location = _checkout(client, world)
    fake_stripe.pay(location.rsplit("/", 1)[1])
    sub = list(fake_stripe.subscriptions.values())[-1]
    payload, headers = fake_stripe.signed_event(
        "customer.subscription.created", sub, event_id="evt_twice"
    )
    client.cookies.clear()
    first = client.post("/billing/webhook", content=payload, headers=headers)
    second = client.post("/billing/webhook", content=payload, headers=headers)
    assert (first.json()["outcome"], second.json()["outcome"]) == ("applied", "duplicate")
    with stores.control.session() as db:
        assert db.get(BillingEvent, "evt_twice") is not None
    big = client.post("/billing/webhook", content=b"{" + b" " * 70_000 + b"}", headers=headers)
    assert big.status_code == 413


def test_account_page_shows_the_providers_billing_details(
    client: TestClient, world: World, fake_stripe: FakeStripe
) -> None:
    log_in_as(client, world, "owner")
    assert "Billing details" not in client.get("/account").text  # no customer yet: nothing
    _pay(client, fake_stripe, _checkout(client, world))
    customer = next(iter(fake_stripe.customers.values()))
    customer["address"] = {
        "line1": "Hauptstr. 1",
        "line2": None,
        "city": "Berlin",
        "postal_code": "10115",
        "state": None,
        "country": "DE",
    }
    page = client.get("/account")
    assert "Billing details" in page.text
    assert "Hauptstr. 1" in page.text and "10115 Berlin" in page.text
    assert "Visa ending in 4242" in page.text
    assert f'action="/billing/teams/{world.team_id}/portal"' in page.text
    fake_stripe.down = True
    down = client.get("/account")
    assert down.status_code == 200 and "could not be reached" in down.text
    log_in_as(client, world, "viewer")  # not an owner: the team's billing is not theirs
    fake_stripe.down = False
    assert "Billing details" not in client.get("/account").text


def test_nothing_stored_of_the_card_or_address(
    client: TestClient, world: World, fake_stripe: FakeStripe, stores: Stores
) -> None:
    _pay(client, fake_stripe, _checkout(client, world))
    details = provider.billing_details(stores.settings, next(iter(fake_stripe.customers)))
    assert details is not None and details.card_last4 == "4242"
    with stores.control.session() as db:
        row = db.get(TeamBilling, world.team_id)
        assert row is not None
        stored = " ".join(str(getattr(row, column.key)) for column in TeamBilling.__table__.columns)
    assert "4242" not in stored and "visa" not in stored


def _form_action(response: Any) -> str:
    policy = str(response.headers["content-security-policy"])
    return next(part.strip() for part in policy.split(";") if "form-action" in part)


def test_only_the_billing_forms_may_lead_to_the_provider(
    client: TestClient, world: World, fake_stripe: FakeStripe
) -> None:
    """Browsers apply form-action to a form's redirect: the owner's plans page lets its
    forms lead to the provider's pages; a viewer's plans page and other pages do not."""
    log_in_as(client, world, "owner")
    owner = _form_action(client.get(f"/billing/teams/{world.team_id}"))
    assert owner == f"form-action 'self' {fake_stripe.base}"
    assert _form_action(client.get("/teams")) == "form-action 'self'"
    assert _form_action(client.get("/account")) == "form-action 'self'"  # no customer yet
    log_in_as(client, world, "viewer")
    assert _form_action(client.get(f"/billing/teams/{world.team_id}")) == "form-action 'self'"
