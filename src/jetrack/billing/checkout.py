"""What a team's owner asks of the provider: a checkout to subscribe, the billing portal,
switching between paid plans, cancelling at the period's end or taking that back.

No control-store session is held open while the provider is called."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from jetrack.billing import provider, subscriptions
from jetrack.billing.plans import FREE, PLANS, Plan
from jetrack.config import Settings
from jetrack.i18n.catalogs import gettext_noop
from jetrack.store.control import ControlStore
from jetrack.store.models import as_utc


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


def price_of(plan: Plan, interval: str | None) -> int:
    return plan.price_year if interval == "year" else plan.price_month


def switch_plan(
    control: ControlStore, settings: Settings, team_id: int, plan_key: str, now: datetime
) -> str:
    """Switch a paying subscription to another paid plan, in the same interval: to a
    dearer one now, prorated; to a cheaper one at the renewal (the provider bills the new
    price from then on, and `provider.planned` makes it the plan then); to the plan paid
    for now: undo a waiting switch. The state is read back at once; what happened, for the
    page's notice: `switched`, `switch-pending` or `switch-undone`."""
    with control.session() as session:
        row = subscriptions.billing_of(session, team_id)
        subscription_id = row.subscription_id if row is not None else None
        paying = row is not None and row.status in subscriptions.PAYING
        current = PLANS.get(row.plan or "") if row is not None else None
        interval = (row.interval if row is not None else None) or "month"
        next_plan = row.next_plan if row is not None else None
        cancelled = row is not None and row.cancel_at_period_end
        period_end = row.current_period_end if row is not None else None
    target = paid_plan(plan_key, interval)
    if subscription_id is None or not paying or current is None or current is FREE:
        raise BillingRefused(gettext_noop("this team has no running subscription"))
    if cancelled:
        raise BillingRefused(
            gettext_noop("this subscription ends with its period: keep the subscription first")
        )
    metadata = {"plan": current.key, "next_plan": "", "next_plan_at": ""}
    if target is current:
        if next_plan is None:
            raise BillingRefused(gettext_noop("this team is already on this plan"))
        outcome, prorate = "switch-undone", False
    elif price_of(target, interval) > price_of(current, interval):
        metadata["plan"] = target.key
        outcome, prorate = "switched", True
    else:
        if period_end is None:
            raise BillingRefused(gettext_noop("this team has no running subscription"))
        metadata["next_plan"] = target.key
        metadata["next_plan_at"] = str(int(as_utc(period_end).timestamp()))
        outcome, prorate = "switch-pending", False
    facts = provider.change_plan(
        settings,
        subscription_id,
        plan=target,
        interval=interval,
        prorate=prorate,
        metadata=metadata,
    )
    with control.session() as session:
        subscriptions.apply_subscription(session, facts, now)
    return outcome


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
