"""The `webhook` job: POST one report or alert to a webhook, signed; a failure is retried
with the queue's backoff, and the delivery row says how it went (the reports page)."""

from __future__ import annotations

import contextlib
import time
from typing import TYPE_CHECKING

from jetrack.sites.webhooks import checked_target, pinned_request, signature
from jetrack.store import job_queue
from jetrack.store.job_queue import JobContext
from jetrack.store.models import Webhook, WebhookDelivery, utcnow

if TYPE_CHECKING:
    import httpx

TIMEOUT_SECONDS = 10


class WebhookFailed(Exception):
    """The receiver could not be reached or did not answer 2xx (the job is retried)."""


def _record(context: JobContext, state: str, status: int | None, error: str) -> None:
    with context.stores.control.session() as session:
        delivery = session.get(WebhookDelivery, int(context.payload["delivery_id"]))
        if delivery is None:
            return
        delivery.attempts += 1
        delivery.status_code, delivery.error = status, error[:200]
        if state == "retrying" and delivery.attempts >= job_queue.MAX_ATTEMPTS:
            state = "failed"
        delivery.state = state
        if state == "delivered":
            delivery.delivered_at = utcnow()


def deliver_webhook(context: JobContext) -> None:
    settings = context.stores.settings
    with context.stores.control.session() as session:
        delivery = session.get(WebhookDelivery, int(context.payload["delivery_id"]))
        hook = session.get(Webhook, delivery.webhook_id) if delivery is not None else None
        if hook is None:
            return  # removed since
        url, secret = hook.url, hook.secret
    # Checked again at each delivery: the name may resolve elsewhere than when it was added.
    target = checked_target(url, settings.webhook_allow_private)
    if target.refusal:
        _record(context, "failed", None, f"refused: {target.refusal}")
        return
    import httpx  # here: ~5 MB (with rich and pygments) a server without webhooks never needs

    body = str(context.payload["body"]).encode()
    timestamp = str(int(time.time()))
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "Jetrack-Webhook",
        "Jetrack-Timestamp": timestamp,
        "Jetrack-Signature": "sha256=" + signature(secret, timestamp, body),
    }

    def send(address: str) -> httpx.Response:
        # Sent to an address just checked, not to a second lookup of the name.
        pinned, host, extensions = pinned_request(url, address)
        with httpx.Client(timeout=TIMEOUT_SECONDS, follow_redirects=False) as client:
            request = client.build_request(
                "POST", pinned, content=body, headers={**headers, **host}, extensions=extensions
            )
            return client.send(request)

    def post() -> None:
        *others, last = target.addresses
        try:
            for address in others:  # the next address when one cannot be connected to
                with contextlib.suppress(httpx.ConnectError):
                    answer = send(address)
                    break
            else:
                answer = send(last)
        except httpx.HTTPError as exc:
            _record(context, "retrying", None, type(exc).__name__)
            raise WebhookFailed(type(exc).__name__) from None
        if not 200 <= answer.status_code < 300:
            _record(context, "retrying", answer.status_code, f"HTTP {answer.status_code}")
            raise WebhookFailed(f"HTTP {answer.status_code}")
        _record(context, "delivered", answer.status_code, "")

    context.run_steps([("post", post)])
