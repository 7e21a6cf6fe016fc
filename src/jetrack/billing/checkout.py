"""What a team's owner asks of the provider: a checkout to subscribe, the billing portal,
cancelling at the period's end or taking that back.

No control-store session is held open while the provider is called."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from jetrack.billing import provider, subscriptions
from jetrack.billing.plans import FREE, PLANS, Plan
from jetrack.config import Settings
from jetrack.i18n.catalogs import gettext_noop
from jetrack.store.control import ControlStore


class BillingRefused(Exception):
    """A billing request that cannot be done as asked; `problem` says why (a msgid)."""

    def __init__(self, problem: str) -> None:
        super().__init__(problem)
        self.problem = problem


@dataclass(frozen=True, slots=True)
class Buyer:
    """The team that subscribes and the account that pays (the customer's first address)."""

    team_id: int
    team_name: str
    email: str


def paid_plan(key: str, interval: str) -> Plan:
    plan = PLANS.get(key)
    if plan is None or plan is FREE:
        raise BillingRefused(gettext_noop("choose Growth or Business"))
    if interval not in provider.INTERVALS:
        raise BillingRefused(gettext_noop("choose monthly or yearly billing"))
    return plan


def start_checkout(
    control: ControlStore, settings: Settings, buyer: Buyer, plan_key: str, interval: str
) -> str:
    """The provider's checkout address for `plan_key` billed each `interval`."""
    plan = paid_plan(plan_key, interval)
    with control.session() as session:
        row = subscriptions.billing_of(session, buyer.team_id)
        customer = row.customer_id if row is not None else None
        paying = row is not None and row.status in subscriptions.PAYING
        trial_days = subscriptions.trial_days(row)
    if paying:
        raise BillingRefused(
            gettext_noop("this team already has a subscription: change it in Manage billing")
        )
    if customer is None:
        customer = _new_customer(control, settings, buyer)
    return provider.checkout_url(
        settings,
        customer_id=customer,
        team_id=buyer.team_id,
        plan=plan,
        interval=interval,
        trial_days=trial_days,
    )


def _new_customer(control: ControlStore, settings: Settings, buyer: Buyer) -> str:
    made = provider.create_customer(settings, buyer.team_id, buyer.team_name, buyer.email)
    with control.session() as session:
        # Two checkouts started at once: the first recorded customer is the team's.
        return subscriptions.record_customer(session, buyer.team_id, made).customer_id


def customer_of(control: ControlStore, team_id: int) -> str | None:
    with control.session() as session:
        row = subscriptions.billing_of(session, team_id)
        return row.customer_id if row is not None else None


def open_portal(control: ControlStore, settings: Settings, team_id: int) -> str:
    customer = customer_of(control, team_id)
    if customer is None:
        raise BillingRefused(gettext_noop("this team has no billing yet: choose a plan first"))
    return provider.portal_url(settings, customer, f"/billing/teams/{team_id}")


def cancel_at_period_end(
    control: ControlStore, settings: Settings, team_id: int, cancel: bool, now: datetime
) -> None:
    """Cancel the subscription at the end of its period (the plan stays until then), or
    take that back; the team's state is read again from the provider at once."""
    with control.session() as session:
        row = subscriptions.billing_of(session, team_id)
        subscription_id = row.subscription_id if row is not None else None
        live = row is not None and row.status in subscriptions.PAYING | {"past_due"}
    if subscription_id is None or not live:
        raise BillingRefused(gettext_noop("this team has no running subscription"))
    provider.set_cancel_at_period_end(settings, subscription_id, cancel)
    sync(control, settings, subscription_id, now)


def sync(
    control: ControlStore, settings: Settings, subscription_id: str, now: datetime
) -> str | None:
    """Read the subscription from the provider and apply it; the team's plan key."""
    facts = provider.subscription(settings, subscription_id)
    with control.session() as session:
        return subscriptions.apply_subscription(session, facts, now)


def sync_team(control: ControlStore, settings: Settings, team_id: int, now: datetime) -> str | None:
    """Read the team's subscription from the provider again and apply it (after webhooks
    were lost): its current one, else the customer's paying or newest one. The team's plan
    key; None when the team has no customer or no subscription."""
    with control.session() as session:
        row = subscriptions.billing_of(session, team_id)
        customer = row.customer_id if row is not None else None
        subscription_id = row.subscription_id if row is not None else None
    if customer is None:
        return None
    if subscription_id is not None:
        return sync(control, settings, subscription_id, now)
    found = provider.subscriptions_of(settings, customer)
    paying = [facts for facts in found if facts.status in subscriptions.PAYING]
    if not (paying or found):
        return None
    with control.session() as session:
        return subscriptions.apply_subscription(session, (paying or found)[0], now)
