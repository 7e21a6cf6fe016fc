"""Switching a paying team between Growth and Business (billing/checkout.py `switch_plan`):
an upgrade now, prorated; a downgrade at the renewal, with nothing charged now; both applied
by the webhooks reading the subscription back from the loopback fake of Stripe."""

from __future__ import annotations

from typing import Any

from starlette.testclient import TestClient

from jetrack.billing import provider
from jetrack.billing.changes import plan_history
from jetrack.store.models import RetentionNotice, Team, TeamBilling
from jetrack.store.stores import Stores
from tests.billing.helpers import log_in_as, team_plan
from tests.support.fake_stripe import FakeStripe
from tests.web.world import World


def _deliver(client: TestClient, fake: FakeStripe) -> list[str]:
    """Post the events Stripe announced since the last delivery; their outcomes."""
    outcomes = []
    while fake.outbox:
        kind, obj = fake.outbox.pop(0)
        payload, headers = fake.signed_event(kind, obj)
        answer = client.post("/billing/webhook", content=payload, headers=headers)
        assert answer.status_code == 200, answer.text
        outcomes.append(answer.json()["outcome"])
    return outcomes


def _subscribed(client: TestClient, world: World, fake: FakeStripe, stores: Stores) -> str:
    """The team, on Free, pays for Growth monthly (past its trial); the subscription's id."""
    with stores.control.session() as session:
        session.get_one(Team, world.team_id).plan = "free"
    csrf = log_in_as(client, world, "owner")
    response = client.post(
        f"/billing/teams/{world.team_id}/checkout",
        data={"plan": "growth", "interval": "month", "csrf_token": csrf},
    )
    assert response.status_code == 303, response.text
    fake.pay(response.headers["location"].rsplit("/", 1)[1])
    subscription = list(fake.subscriptions.values())[-1]
    fake.update_subscription(subscription["id"], status="active", trial_end=None)
    fake.outbox.append(("customer.subscription.updated", subscription))
    assert _deliver(client, fake) == ["applied"]
    return str(subscription["id"])


def _switch(client: TestClient, world: World, plan: str, role: str = "owner") -> Any:
    csrf = log_in_as(client, world, role)
    return client.post(
        f"/billing/teams/{world.team_id}/switch", data={"plan": plan, "csrf_token": csrf}
    )


def _updates(fake: FakeStripe) -> list[dict[str, Any]]:
    return [
        params
        for method, path, params in fake.calls
        if method == "POST" and path.startswith("/v1/subscriptions/")
    ]


def _billing(stores: Stores, team_id: int) -> TeamBilling:
    with stores.control.session() as session:
        row = session.get_one(TeamBilling, team_id)
        session.expunge(row)
        return row


def test_upgrade_now_and_downgrade_at_the_renewal(
    client: TestClient, world: World, fake_stripe: FakeStripe, stores: Stores
) -> None:
    subscription_id = _subscribed(client, world, fake_stripe, stores)
    assert team_plan(stores, world.team_id) == "growth"
    page = client.get(f"/billing/teams/{world.team_id}")
    assert "Switch to Business" in page.text and "Switch to Growth" not in page.text
    assert "Upgrade, monthly" not in page.text

    upgrade = _switch(client, world, "business")
    assert upgrade.status_code == 303
    assert upgrade.headers["location"] == f"/billing/teams/{world.team_id}?notice=switched"
    item_id = fake_stripe.subscriptions[subscription_id]["items"]["data"][0]["id"]
    assert _updates(fake_stripe)[-1] == {
        "items": [
            {
                "id": item_id,
                "price_data": {
                    "currency": "eur",
                    "unit_amount": "6900",
                    "product": "jetrack_business",
                    "recurring": {"interval": "month"},
                },
            }
        ],
        "proration_behavior": "create_prorations",
        "metadata": {"plan": "business", "next_plan": "", "next_plan_at": ""},
    }
    assert fake_stripe.products["jetrack_business"]["name"] == "Jetrack Business"
    [proration] = fake_stripe.invoice_items
    assert 0 < proration["amount"] <= 6900 - 1900
    assert _deliver(client, fake_stripe) == ["applied"]  # customer.subscription.updated
    assert team_plan(stores, world.team_id) == "business"
    page = client.get(f"/billing/teams/{world.team_id}?notice=switched")
    assert 'data-current-plan="business"' in page.text and "Plan switched." in page.text
    assert "Switch to Growth at the end of the period" in page.text

    downgrade = _switch(client, world, "growth")
    assert downgrade.headers["location"].endswith("?notice=switch-pending")
    period_end = fake_stripe.subscriptions[subscription_id]["items"]["data"][0][
        "current_period_end"
    ]
    assert _updates(fake_stripe)[-1]["proration_behavior"] == "none"
    assert _updates(fake_stripe)[-1]["metadata"] == {
        "plan": "business",
        "next_plan": "growth",
        "next_plan_at": str(period_end),
    }
    assert len(fake_stripe.invoice_items) == 1  # nothing charged now
    assert _deliver(client, fake_stripe) == ["applied"]
    assert team_plan(stores, world.team_id) == "business"  # paid for until the renewal
    assert _billing(stores, world.team_id).next_plan == "growth"
    page = client.get(f"/billing/teams/{world.team_id}")
    assert 'data-next-plan="growth"' in page.text and "Keep Business" in page.text
    assert "Switch to Growth" not in page.text

    fake_stripe.renew(subscription_id)
    assert _deliver(client, fake_stripe) == ["applied", "applied"]
    assert team_plan(stores, world.team_id) == "growth"
    assert _billing(stores, world.team_id).next_plan is None
    renewal = fake_stripe.invoices[-1]
    assert renewal["total"] == 1900 + proration["amount"]  # Growth's price and the proration
    with stores.control.session() as session:
        history = [(c.from_plan, c.to_plan, c.reason) for c in plan_history(session, world.team_id)]
        notice = session.get_one(RetentionNotice, world.team_id)
        assert (notice.keep_days, notice.new_days) == (5 * 365, 3 * 365)
    assert history[-2:] == [
        ("growth", "business", "subscription_updated"),
        ("business", "growth", "subscription_updated"),
    ]


def test_a_waiting_downgrade_can_be_taken_back(
    client: TestClient, world: World, fake_stripe: FakeStripe, stores: Stores
) -> None:
    subscription_id = _subscribed(client, world, fake_stripe, stores)
    assert _switch(client, world, "business").status_code == 303
    assert _switch(client, world, "growth").headers["location"].endswith("switch-pending")
    kept = _switch(client, world, "business")
    assert kept.headers["location"].endswith("?notice=switch-undone")
    assert fake_stripe.subscriptions[subscription_id]["metadata"]["plan"] == "business"
    assert "next_plan" not in fake_stripe.subscriptions[subscription_id]["metadata"]
    item = fake_stripe.subscriptions[subscription_id]["items"]["data"][0]
    assert item["price"]["unit_amount"] == 6900
    assert _billing(stores, world.team_id).next_plan is None
    again = _switch(client, world, "business")
    assert again.status_code == 400 and "already on this plan" in again.text
    fake_stripe.renew(subscription_id)
    _deliver(client, fake_stripe)
    assert team_plan(stores, world.team_id) == "business"


def test_only_owners_switch_and_only_a_paying_team(
    client: TestClient, world: World, fake_stripe: FakeStripe, stores: Stores
) -> None:
    never = _switch(client, world, "business")
    assert never.status_code == 400 and "no running subscription" in never.text
    _subscribed(client, world, fake_stripe, stores)
    for role in ("admin", "viewer"):
        log_in_as(client, world, role)
        page = client.get(f"/billing/teams/{world.team_id}")
        assert page.status_code == 200 and "Switch to" not in page.text
        refused = _switch(client, world, "business", role)
        assert refused.status_code == 404, role
    assert _updates(fake_stripe) == []
    assert team_plan(stores, world.team_id) == "growth"
    bad = _switch(client, world, "free")
    assert bad.status_code == 400 and "choose Growth or Business" in bad.text


def test_planned_reads_the_plan_from_the_metadata() -> None:
    assert provider.planned({"plan": "growth"}, 100) == ("growth", None)
    waiting = {"plan": "business", "next_plan": "growth", "next_plan_at": "200"}
    assert provider.planned(waiting, 100) == ("business", "growth")
    assert provider.planned(waiting, 200) == ("growth", None)
    assert provider.planned({**waiting, "next_plan_at": "x"}, 300) == ("business", None)
    assert provider.planned({}, None) == (None, None)
