"""The webhook events against real control stores (SQLite and PostgreSQL): every change of
a subscription's state, duplicates, events out of order, the subscription read again from
the loopback fake of Stripe."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import Any

import pytest

from jetrack.accounts.teams import create_team
from jetrack.accounts.users import create_user
from jetrack.billing import provider, subscriptions, webhooks
from jetrack.billing.plans import PLANS
from jetrack.billing.webhooks import Outcome
from jetrack.config import Settings
from jetrack.store.control import ControlStore
from jetrack.store.models import BillingEvent, Team, TeamBilling, as_utc, utcnow
from tests.support.fake_stripe import FakeStripe

GROWTH_MONTH = {
    "price_data": {
        "currency": "eur",
        "unit_amount": "1900",
        "product_data": {"name": "Jetrack Growth"},
        "recurring": {"interval": "month"},
    },
    "quantity": "1",
}


@dataclass
class Subscribed:
    team_id: int
    customer_id: str
    subscription_id: str


def _team(control: ControlStore) -> int:
    with control.session() as session:
        owner = create_user(session, "owner@example.com", password="correct horse battery")
        return create_team(session, owner, "Acme").id


def _subscribe(
    fake: FakeStripe, settings: Settings, control: ControlStore, trial_days: int = 0
) -> Subscribed:
    team_id = _team(control)
    customer = provider.create_customer(settings, team_id, "Acme", "owner@example.com")
    with control.session() as session:
        subscriptions.record_customer(session, team_id, customer)
    metadata = {"team_id": str(team_id), "plan": "growth", "interval": "month"}
    made = fake.make_subscription(customer, GROWTH_MONTH, metadata, trial_days)
    return Subscribed(team_id, customer, made["id"])


def _deliver(
    fake: FakeStripe,
    settings: Settings,
    control: ControlStore,
    kind: str,
    obj: dict[str, Any],
    now: datetime | None = None,
    **options: Any,
) -> Outcome:
    payload, headers = fake.signed_event(kind, obj, **options)
    event = provider.verified_event(settings, payload, headers["Stripe-Signature"])
    return webhooks.handle(control, settings, event, now or utcnow())


def _state(control: ControlStore, team_id: int) -> tuple[str | None, TeamBilling]:
    with control.session() as session:
        team = session.get(Team, team_id)
        row = session.get(TeamBilling, team_id)
        assert team is not None and row is not None
        return team.plan, row


def _sub_event(
    fake: FakeStripe,
    settings: Settings,
    control: ControlStore,
    sub: Subscribed,
    kind: str,
    **changes: Any,
) -> Outcome:
    obj = fake.update_subscription(sub.subscription_id, **changes)
    return _deliver(fake, settings, control, kind, obj)


def test_trial_then_active_then_cancelled_at_period_end(
    fake_stripe: FakeStripe, settings: Settings, control: ControlStore
) -> None:
    sub = _subscribe(fake_stripe, settings, control, trial_days=14)
    step = partial(_sub_event, fake_stripe, settings, control, sub)
    created = fake_stripe.subscriptions[sub.subscription_id]
    assert (
        _deliver(fake_stripe, settings, control, "customer.subscription.created", created)
        == "applied"
    )
    plan, row = _state(control, sub.team_id)
    assert (plan, row.status, row.had_trial, row.interval) == ("growth", "trialing", True, "month")
    assert row.trial_end is not None

    step(
        "customer.subscription.updated",
        status="active",
        trial_end=None,
    )
    plan, row = _state(control, sub.team_id)
    assert (plan, row.status) == ("growth", "active")

    # Cancelled at the period's end: the plan stays until the provider ends it.
    step(
        "customer.subscription.updated",
        cancel_at_period_end=True,
    )
    plan, row = _state(control, sub.team_id)
    assert (plan, row.status, row.cancel_at_period_end) == ("growth", "active", True)

    step("customer.subscription.deleted", status="canceled")
    plan, row = _state(control, sub.team_id)
    assert (plan, row.status) == ("free", "canceled")


def test_failed_payment_gives_a_grace_then_free_unless_paid(
    fake_stripe: FakeStripe, settings: Settings, control: ControlStore
) -> None:
    sub = _subscribe(fake_stripe, settings, control)
    step = partial(_sub_event, fake_stripe, settings, control, sub)
    step("customer.subscription.created")
    assert _state(control, sub.team_id)[0] == "growth"

    fake_stripe.update_subscription(sub.subscription_id, status="past_due")
    failed = fake_stripe.make_invoice(fake_stripe.subscriptions[sub.subscription_id], status="open")
    start = utcnow()
    assert (
        _deliver(fake_stripe, settings, control, "invoice.payment_failed", failed, start)
        == "applied"
    )
    plan, row = _state(control, sub.team_id)
    assert (plan, row.status) == ("growth", "past_due")
    assert row.grace_end is not None and as_utc(row.grace_end) == start + subscriptions.GRACE

    # Within the grace nothing moves; after it the daily upkeep puts the team on Free.
    with control.session() as session:
        assert subscriptions.expire_grace(session, start + timedelta(days=1)) == []
    assert _state(control, sub.team_id)[0] == "growth"
    with control.session() as session:
        moved = subscriptions.expire_grace(
            session, start + subscriptions.GRACE + timedelta(hours=1)
        )
    assert moved == [sub.team_id]
    assert _state(control, sub.team_id)[0] == "free"

    # Paid at last: the plan comes back and the grace is over.
    fake_stripe.update_subscription(sub.subscription_id, status="active")
    paid = fake_stripe.make_invoice(fake_stripe.subscriptions[sub.subscription_id])
    _deliver(fake_stripe, settings, control, "invoice.paid", paid)
    plan, row = _state(control, sub.team_id)
    assert (plan, row.status, row.grace_end) == ("growth", "active", None)


@pytest.mark.parametrize("status", ["unpaid", "incomplete_expired", "paused"])
def test_other_end_states_put_the_team_on_free(
    status: str, fake_stripe: FakeStripe, settings: Settings, control: ControlStore
) -> None:
    sub = _subscribe(fake_stripe, settings, control)
    step = partial(_sub_event, fake_stripe, settings, control, sub)
    step("customer.subscription.created")
    step("customer.subscription.updated", status=status)
    plan, row = _state(control, sub.team_id)
    assert (plan, row.status) == ("free", status)


def test_a_duplicate_event_is_not_applied_again(
    fake_stripe: FakeStripe, settings: Settings, control: ControlStore
) -> None:
    sub = _subscribe(fake_stripe, settings, control)
    obj = fake_stripe.subscriptions[sub.subscription_id]
    first = _deliver(
        fake_stripe, settings, control, "customer.subscription.created", obj, event_id="evt_same"
    )
    assert first == "applied"
    # The provider's state changed meanwhile; the same event again changes nothing.
    fake_stripe.update_subscription(sub.subscription_id, status="unpaid")
    calls = len(fake_stripe.calls)
    again = _deliver(
        fake_stripe, settings, control, "customer.subscription.created", obj, event_id="evt_same"
    )
    assert again == "duplicate"
    assert len(fake_stripe.calls) == calls  # not even read again
    assert _state(control, sub.team_id)[0] == "growth"
    with control.session() as session:
        assert session.get(BillingEvent, "evt_same") is not None


def test_an_old_event_arriving_late_applies_the_current_state(
    fake_stripe: FakeStripe, settings: Settings, control: ControlStore
) -> None:
    sub = _subscribe(fake_stripe, settings, control)
    old = {**fake_stripe.subscriptions[sub.subscription_id], "status": "past_due"}
    fake_stripe.update_subscription(sub.subscription_id, status="active")
    current = fake_stripe.subscriptions[sub.subscription_id]
    now = utcnow()
    _deliver(fake_stripe, settings, control, "customer.subscription.updated", current, now)
    # The past_due event, sent before the payment went through, arrives last.
    outcome = _deliver(
        fake_stripe,
        settings,
        control,
        "customer.subscription.updated",
        old,
        now,
        created=int(now.timestamp()) - 600,
    )
    assert outcome == "applied"
    plan, row = _state(control, sub.team_id)
    assert (plan, row.status, row.grace_end) == ("growth", "active", None)


def test_a_late_event_of_an_old_subscription_leaves_the_new_one(
    fake_stripe: FakeStripe, settings: Settings, control: ControlStore
) -> None:
    sub = _subscribe(fake_stripe, settings, control)
    step = partial(_sub_event, fake_stripe, settings, control, sub)
    step("customer.subscription.deleted", status="canceled")
    metadata = {"team_id": str(sub.team_id), "plan": "growth", "interval": "month"}
    second = fake_stripe.make_subscription(sub.customer_id, GROWTH_MONTH, metadata, 0)
    _deliver(fake_stripe, settings, control, "customer.subscription.created", second)
    assert _state(control, sub.team_id)[1].subscription_id == second["id"]
    # The first one's deletion, delivered again late under a new event id.
    _deliver(
        fake_stripe,
        settings,
        control,
        "customer.subscription.deleted",
        fake_stripe.subscriptions[sub.subscription_id],
    )
    plan, row = _state(control, sub.team_id)
    assert (plan, row.subscription_id, row.status) == ("growth", second["id"], "active")


def test_checkout_completed_links_the_customer_to_its_team(
    fake_stripe: FakeStripe, settings: Settings, control: ControlStore
) -> None:
    team_id = _team(control)
    customer = provider.create_customer(settings, team_id, "Acme", "owner@example.com")
    url = provider.checkout_url(
        settings,
        customer_id=customer,
        team_id=team_id,
        plan=PLANS["business"],
        interval="year",
        trial_days=0,
    )
    fake_stripe.pay(url.rsplit("/", 1)[1])  # no webhook address: the test delivers them
    session_obj = next(iter(fake_stripe.sessions.values()))
    public = {k: v for k, v in session_obj.items() if not k.startswith("_")}
    assert (
        _deliver(fake_stripe, settings, control, "checkout.session.completed", public) == "applied"
    )
    plan, row = _state(control, team_id)
    assert (plan, row.customer_id, row.interval, row.status) == (
        "business",
        customer,
        "year",
        "active",
    )


def test_unknown_events_are_ignored(
    fake_stripe: FakeStripe, settings: Settings, control: ControlStore
) -> None:
    outcome = _deliver(
        fake_stripe, settings, control, "customer.created", {"id": "cus_x", "object": "customer"}
    )
    assert outcome == "ignored"
    assert fake_stripe.calls == []


def test_an_unreachable_provider_leaves_the_event_unrecorded(
    fake_stripe: FakeStripe, settings: Settings, control: ControlStore
) -> None:
    sub = _subscribe(fake_stripe, settings, control)
    fake_stripe.down = True
    with pytest.raises(provider.BillingUnavailable):
        _deliver(
            fake_stripe,
            settings,
            control,
            "customer.subscription.created",
            fake_stripe.subscriptions[sub.subscription_id],
            event_id="evt_retry",
        )
    fake_stripe.down = False  # the provider's retry then applies it
    obj = fake_stripe.subscriptions[sub.subscription_id]
    assert (
        _deliver(
            fake_stripe,
            settings,
            control,
            "customer.subscription.created",
            obj,
            event_id="evt_retry",
        )
        == "applied"
    )
    assert _state(control, sub.team_id)[0] == "growth"


def test_an_event_of_a_subscription_stripe_no_longer_knows_is_recorded_not_retried(
    fake_stripe: FakeStripe, settings: Settings, control: ControlStore
) -> None:
    gone = {"id": "sub_gone", "object": "subscription", "customer": "cus_x", "status": "active"}
    outcome = _deliver(
        fake_stripe, settings, control, "customer.subscription.updated", gone, event_id="evt_gone"
    )
    assert outcome == "applied"  # recorded: Stripe is not asked to send it again
    with control.session() as session:
        assert session.get(BillingEvent, "evt_gone") is not None
        assert session.query(TeamBilling).count() == 0
