"""Billing's jobs: the daily upkeep (grace and paid periods that ran out, old event ids)
and erasing an erased account's customer at the provider, retried until it is done."""

from __future__ import annotations

import logging

from sqlalchemy.orm import Session

from jetrack.billing import provider, subscriptions, webhooks
from jetrack.config import Settings
from jetrack.store import job_queue
from jetrack.store.job_queue import JobContext
from jetrack.store.models import utcnow

log = logging.getLogger("jetrack.billing")

ERASE_KIND = "billing_erase"


def run_billing_upkeep(context: JobContext) -> None:
    now = utcnow()
    with context.stores.control.session() as session:
        moved = subscriptions.expire_grace(session, now)
        forgotten = webhooks.forget_old_events(session, now)
    log.info("billing upkeep: %d teams to Free, %d event ids forgotten", len(moved), forgotten)


def erase_customer(settings: Settings, customer_id: str) -> None:
    """Cancel the customer's subscriptions, then delete the customer."""
    provider.cancel_subscriptions(settings, customer_id)
    provider.delete_customer(settings, customer_id)


def queue_customer_erasure(session: Session, customer_id: str) -> None:
    job_queue.enqueue(
        session, ERASE_KIND, {"customer_id": customer_id}, dedup_key=f"{ERASE_KIND}:{customer_id}"
    )


def erase_or_queue(context: JobContext, customer_ids: list[str]) -> list[str]:
    """Erase each customer now; those the provider could not take are queued as jobs of
    their own (retried with backoff). The ids queued."""
    queued = []
    for customer_id in customer_ids:
        try:
            erase_customer(context.stores.settings, customer_id)
        except provider.BillingUnavailable as exc:
            log.warning("billing: customer erasure queued for a retry (%s)", exc)
            with context.stores.control.session() as session:
                queue_customer_erasure(session, customer_id)
            queued.append(customer_id)
    return queued


def run_customer_erasure(context: JobContext) -> None:
    """The queued erasure of one customer; a failure is retried by the job queue."""
    erase_customer(context.stores.settings, context.payload["customer_id"])
