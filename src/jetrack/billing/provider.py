"""The payment provider (Stripe), through its official library: the only module that talks to it.

Every call goes through `_calling`, which turns the library's errors into
`BillingUnavailable`, so the pages can say the provider could not be reached instead of
failing. What comes back is read into small named records here; the rest of Jetrack never
sees a Stripe object."""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from jetrack.billing.plans import CURRENCY, Plan
from jetrack.config import Settings

if TYPE_CHECKING:
    # Imported where a call needs it: the library (with httpx, rich and pygments, which
    # it imports) is ~15 MB a server with billing off never needs.
    import stripe

TIMEOUT_SECONDS = 15  # a page waits for the provider at most this long
INTERVALS = ("month", "year")


class BillingUnavailable(Exception):
    """The payment provider could not be reached, or refused the call."""


class NotFound(BillingUnavailable):
    """The provider has no such object (a 404): asking again will not help."""


class BadSignature(Exception):
    """A webhook whose Stripe-Signature does not match its body."""


@dataclass(frozen=True, slots=True)
class SubscriptionFacts:
    """A subscription as the provider answered it."""

    id: str
    customer_id: str
    status: str
    plan: str | None  # the plan paid for now (metadata, see `_facts`)
    team_id: int | None
    interval: str | None
    current_period_end: datetime | None
    cancel_at_period_end: bool
    trial_end: datetime | None
    next_plan: str | None = None  # a downgrade waiting for the renewal


@dataclass(frozen=True, slots=True)
class BillingDetails:
    """What the provider holds about a customer: shown, never stored by Jetrack."""

    name: str
    email: str
    address: tuple[str, ...]  # lines, empty when none
    card_brand: str
    card_last4: str


@dataclass(frozen=True, slots=True)
class Invoice:
    number: str
    created: datetime
    amount: int  # cents
    currency: str
    status: str
    hosted_url: str


@functools.cache
def _client(secret: str, api_base: str | None) -> stripe.StripeClient:
    import stripe

    return stripe.StripeClient(
        secret,
        base_addresses={"api": api_base} if api_base else None,
        http_client=stripe.RequestsClient(timeout=TIMEOUT_SECONDS),
        max_network_retries=1,
    )


def client(settings: Settings) -> stripe.StripeClient:
    if not settings.billing or settings.stripe_secret_key is None:
        raise BillingUnavailable("billing is off on this instance")
    return _client(settings.stripe_secret_key.get_secret_value(), settings.stripe_api_base)


# Where Stripe serves Checkout and the Customer Portal.
PROVIDER_PAGES = ("https://checkout.stripe.com", "https://billing.stripe.com")


def page_sources(settings: Settings) -> list[str]:
    """CSP sources of the provider's pages (Checkout, the Customer Portal) that Jetrack's
    forms redirect to; with a test or proxy API base, its origin instead."""
    if settings.stripe_api_base:
        parts = urlsplit(settings.stripe_api_base)
        return [f"{parts.scheme}://{parts.netloc}"]
    sources = list(PROVIDER_PAGES)
    return sources


@contextmanager
def _calling(what: str) -> Iterator[None]:
    import stripe

    try:
        yield
    except stripe.StripeError as exc:
        # The user message of a refusal, or the kind of failure; never the request.
        detail = exc.user_message or type(exc).__name__
        missing = isinstance(exc, stripe.InvalidRequestError) and exc.http_status == 404
        raise (NotFound if missing else BillingUnavailable)(f"{what}: {detail}") from exc


def _moment(epoch: int | None) -> datetime | None:
    return datetime.fromtimestamp(epoch, UTC) if epoch else None


def create_customer(settings: Settings, team_id: int, team_name: str, email: str) -> str:
    """A new customer for a team; its id."""
    with _calling("creating the customer"):
        customer = client(settings).v1.customers.create(
            {"email": email, "name": team_name, "metadata": {"team_id": str(team_id)}}
        )
    return customer.id


def checkout_url(
    settings: Settings,
    *,
    customer_id: str,
    team_id: int,
    plan: Plan,
    interval: str,
    trial_days: int,
) -> str:
    """A Checkout Session that subscribes the customer to `plan`; the address to send them."""
    base = settings.base_url.rstrip("/")
    metadata = {"team_id": str(team_id), "plan": plan.key, "interval": interval}
    subscription_data: dict[str, Any] = {"metadata": metadata}
    if trial_days:
        subscription_data["trial_period_days"] = trial_days
    params: dict[str, Any] = {
        "mode": "subscription",
        "customer": customer_id,
        "client_reference_id": str(team_id),
        "metadata": metadata,
        "line_items": [{"price_data": _price_data(plan, interval), "quantity": 1}],
        "subscription_data": subscription_data,
        "success_url": f"{base}/billing/teams/{team_id}?notice=checkout-done",
        "cancel_url": f"{base}/billing/teams/{team_id}?notice=checkout-cancelled",
    }
    with _calling("starting the checkout"):
        session = client(settings).v1.checkout.sessions.create(params)  # type: ignore[arg-type]
    if not session.url:
        raise BillingUnavailable("starting the checkout: the provider gave no address")
    return session.url


def _price_data(plan: Plan, interval: str) -> dict[str, Any]:
    """The price from plans.py, so the plans as data stay the one owner of the prices."""
    return {
        "currency": CURRENCY,
        "unit_amount": plan.price_year if interval == "year" else plan.price_month,
        "product_data": {"name": f"Jetrack {plan.name}"},
        "recurring": {"interval": interval},
    }


def portal_url(settings: Settings, customer_id: str, return_path: str) -> str:
    """A Customer Portal session (card, invoices, cancellation); the address to send them."""
    return_url = settings.base_url.rstrip("/") + return_path
    with _calling("opening the billing portal"):
        session = client(settings).v1.billing_portal.sessions.create(
            {"customer": customer_id, "return_url": return_url}
        )
    return session.url


def subscription(settings: Settings, subscription_id: str) -> SubscriptionFacts:
    with _calling("reading the subscription"):
        found = client(settings).v1.subscriptions.retrieve(subscription_id)
    return _facts(found)


def _facts(found: stripe.Subscription) -> SubscriptionFacts:
    metadata = found.metadata.to_dict() if found.metadata else {}
    items = found["items"].data if "items" in found else []
    first = items[0] if items else None
    interval = first.price.recurring.interval if first and first.price.recurring else None
    team = metadata.get("team_id", "")
    customer = found.customer if isinstance(found.customer, str) else found.customer.id
    plan, next_plan = planned(metadata, first.current_period_start if first else None)
    return SubscriptionFacts(
        id=found.id,
        customer_id=customer,
        status=found.status,
        plan=plan,
        next_plan=next_plan,
        team_id=int(team) if team.isdigit() else None,
        interval=interval,
        current_period_end=_moment(first.current_period_end) if first else None,
        cancel_at_period_end=bool(found.cancel_at_period_end),
        trial_end=_moment(found.trial_end),
    )


def planned(metadata: dict[str, str], period_start: int | None) -> tuple[str | None, str | None]:
    """(the plan paid for now, the plan waiting for the renewal) from a subscription's
    metadata (pure): `plan`, set at checkout and by a switch, and a downgrade's `next_plan`
    with `next_plan_at`, the renewal it waits for (epoch seconds). Once the item's period
    starts at or after that renewal, the next plan is the plan."""
    plan, next_plan = metadata.get("plan") or None, metadata.get("next_plan") or None
    at = metadata.get("next_plan_at", "")
    if next_plan is None or not at.isdigit():
        return plan, None
    if period_start is not None and period_start >= int(at):
        return next_plan, None
    return plan, next_plan


def change_plan(
    settings: Settings,
    subscription_id: str,
    *,
    plan: Plan,
    interval: str,
    prorate: bool,
    metadata: dict[str, str],
) -> SubscriptionFacts:
    """Put the subscription's item on `plan`'s price: prorated now (an upgrade), or without
    proration (the new price is billed from the renewal on). `metadata` says which plan is
    paid for (`planned`); an empty value removes a key."""
    stripe_client = client(settings)
    with _calling("reading the subscription"):
        found = stripe_client.v1.subscriptions.retrieve(subscription_id)
    items = found["items"].data if "items" in found else []
    if not items:
        raise BillingUnavailable("changing the plan: the subscription has no item")
    product = _product(stripe_client, plan)
    price = {**_price_data(plan, interval), "product": product}
    del price["product_data"]  # a subscription item's price names an existing product
    params: dict[str, Any] = {
        "items": [{"id": items[0].id, "price_data": price}],
        "proration_behavior": "create_prorations" if prorate else "none",
        "metadata": metadata,
    }
    with _calling("changing the plan"):
        updated = stripe_client.v1.subscriptions.update(subscription_id, params)  # type: ignore[arg-type]
    return _facts(updated)


def _product(stripe_client: stripe.StripeClient, plan: Plan) -> str:
    """The plan's product at the provider (`jetrack_growth`...), made on first use."""
    product_id = f"jetrack_{plan.key}"
    with contextlib.suppress(NotFound), _calling("reading the product"):
        return stripe_client.v1.products.retrieve(product_id).id
    with _calling("creating the product"):
        made = stripe_client.v1.products.create(
            {"id": product_id, "name": f"Jetrack {plan.name}", "metadata": {"plan": plan.key}}
        )
    return made.id


def billing_details(settings: Settings, customer_id: str) -> BillingDetails | None:
    """The customer's name, address and card as the provider holds them; None when the
    customer is gone."""
    stripe_client = client(settings)
    with _calling("reading the billing details"):
        customer = stripe_client.v1.customers.retrieve(customer_id)
        if getattr(customer, "deleted", False):
            return None
        method_id = _default_method(customer)
        method = stripe_client.v1.payment_methods.retrieve(method_id) if method_id else None
    card = method.card if method is not None else None
    return BillingDetails(
        name=customer.name or "",
        email=customer.email or "",
        address=_address_lines(customer.address),
        card_brand=card.brand if card else "",
        card_last4=card.last4 if card else "",
    )


def _default_method(customer: stripe.Customer) -> str | None:
    settings = customer.invoice_settings
    found = settings.default_payment_method if settings else None
    if found is None or isinstance(found, str):
        return found
    return found.id


def _address_lines(address: stripe.Customer.Address | None) -> tuple[str, ...]:
    if address is None:
        return ()
    city = " ".join(part for part in (address.postal_code, address.city) if part)
    parts = (address.line1, address.line2, city, address.state, address.country)
    return tuple(part for part in parts if part)


def invoices(settings: Settings, customer_id: str) -> list[Invoice]:
    """The customer's invoices, newest first (the first 100)."""
    with _calling("listing the invoices"):
        page = client(settings).v1.invoices.list({"customer": customer_id, "limit": 100})
    return [
        Invoice(
            number=invoice.number or invoice.id or "",
            created=datetime.fromtimestamp(invoice.created, UTC),
            amount=invoice.total,
            currency=invoice.currency,
            status=invoice.status or "",
            hosted_url=invoice.hosted_invoice_url or "",
        )
        for invoice in page.data
    ]


def set_cancel_at_period_end(settings: Settings, subscription_id: str, cancel: bool) -> None:
    """Cancel at the end of the period (the plan stays until then), or take that back."""
    with _calling("changing the subscription"):
        client(settings).v1.subscriptions.update(subscription_id, {"cancel_at_period_end": cancel})


def subscriptions_of(settings: Settings, customer_id: str) -> list[SubscriptionFacts]:
    """Every subscription of the customer, ended ones too, newest first."""
    with _calling("listing the subscriptions"):
        page = client(settings).v1.subscriptions.list({"customer": customer_id, "status": "all"})
    return [_facts(found) for found in page.data]


def cancel_subscriptions(settings: Settings, customer_id: str) -> list[str]:
    """Cancel every subscription of the customer now; the ids cancelled."""
    ended = ("canceled", "incomplete_expired")
    live = [sub.id for sub in subscriptions_of(settings, customer_id) if sub.status not in ended]
    with _calling("cancelling the subscriptions"):
        for subscription_id in live:
            client(settings).v1.subscriptions.cancel(subscription_id)
    return live


def delete_customer(settings: Settings, customer_id: str) -> None:
    """Delete the customer (the provider keeps what the law makes it keep); a customer
    already gone is no error."""
    with contextlib.suppress(NotFound), _calling("deleting the customer"):
        client(settings).v1.customers.delete(customer_id)


def verified_event(settings: Settings, payload: bytes, signature: str) -> stripe.Event:
    """The webhook's event, if its signature is the endpoint secret's."""
    import stripe

    secret = settings.stripe_webhook_secret
    if secret is None:
        raise BadSignature("no webhook secret is set")
    try:
        event: stripe.Event = stripe.Webhook.construct_event(
            payload, signature, secret.get_secret_value()
        )
    except stripe.SignatureVerificationError as exc:
        raise BadSignature("the Stripe-Signature header does not match the body") from exc
    except ValueError as exc:
        raise BadSignature("the body is not a Stripe event") from exc
    return event


def event_object(event: stripe.Event) -> dict[str, Any]:
    """The object an event carries, as plain values."""
    return dict(event.data.object.to_dict())


def subscription_of_event(event: stripe.Event) -> str | None:
    """The subscription an event is about, wherever its object keeps it."""
    found = event_object(event)
    if found.get("object") == "subscription":
        return str(found["id"])
    direct = found.get("subscription")
    if isinstance(direct, str):
        return direct
    parent = found.get("parent") or {}
    details = parent.get("subscription_details") or {}
    nested = details.get("subscription")
    return nested if isinstance(nested, str) else None
