"""The provider's webhook events, applied once each and in any order.

Out of order: an event only says which subscription changed; its state is read again from
the provider (`provider.subscription`), so an old event applied late stores today's state,
not its own. Once: the event's id is recorded in the same transaction as its effect, and an
id already recorded is skipped."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Literal

import stripe
from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from jetrack.billing import provider, subscriptions
from jetrack.config import Settings
from jetrack.store.control import ControlStore
from jetrack.store.models import BillingEvent, Team

HANDLED = frozenset(
    {
        "checkout.session.completed",
        "customer.subscription.created",
        "customer.subscription.updated",
        "customer.subscription.deleted",
        "customer.subscription.paused",
        "customer.subscription.resumed",
        "invoice.paid",
        "invoice.payment_failed",
    }
)
# The provider retries an event for three days; ids older than this are forgotten.
EVENT_MEMORY = timedelta(days=30)

Outcome = Literal["applied", "duplicate", "ignored"]


def handle(
    control: ControlStore, settings: Settings, event: stripe.Event, now: datetime
) -> Outcome:
    """Apply a verified event. Raises provider.BillingUnavailable when the subscription
    cannot be read again (the endpoint answers 503 and the provider retries)."""
    if event.type not in HANDLED:
        return "ignored"
    with control.session() as session:
        if session.get(BillingEvent, event.id) is not None:
            return "duplicate"
    facts = _read_back(settings, provider.subscription_of_event(event))
    with control.session() as session:
        if not _record(session, event, now):
            return "duplicate"
        checkout = event.type == "checkout.session.completed"
        if checkout:
            _link_checkout(session, event)
        if facts is not None:
            subscriptions.apply_subscription(session, facts, now, "checkout" if checkout else None)
    return "applied"


def _read_back(
    settings: Settings, subscription_id: str | None
) -> provider.SubscriptionFacts | None:
    """The event's subscription as the provider has it now; None for an event about none,
    or one the provider no longer knows (the event is then recorded and not retried)."""
    if subscription_id is None:
        return None
    try:
        return provider.subscription(settings, subscription_id)
    except provider.NotFound:
        return None


def _record(session: Session, event: stripe.Event, now: datetime) -> bool:
    """Record the event's id; False when another request recorded it first."""
    row = BillingEvent(
        event_id=event.id,
        type=event.type,
        created=datetime.fromtimestamp(event.created, UTC),
        received_at=now,
    )
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError:
        return False
    return True


def _link_checkout(session: Session, event: stripe.Event) -> None:
    """A completed checkout names its team (client_reference_id) and customer: keep the
    pair, for a team whose customer was made elsewhere."""
    found = provider.event_object(event)
    team, customer = str(found.get("client_reference_id") or ""), found.get("customer")
    if not (team.isdigit() and isinstance(customer, str)):
        return
    if session.get(Team, int(team)) is not None:
        subscriptions.record_customer(session, int(team), customer)


def forget_old_events(session: Session, now: datetime) -> int:
    result = session.execute(
        delete(BillingEvent).where(BillingEvent.received_at < now - EVENT_MEMORY)
    )
    return int(getattr(result, "rowcount", 0) or 0)
