"""A site's webhooks: the URLs that get its reports and alerts, the deliveries queued to
them, the signature a receiver checks, and the refusal of non-public targets."""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import secrets
import socket
from typing import Any, NamedTuple
from urllib.parse import urlsplit

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from jetrack.i18n.catalogs import gettext_noop
from jetrack.sites.report_recipients import KINDS, RecipientError
from jetrack.store import job_queue
from jetrack.store.models import Site, Webhook, WebhookDelivery

FORMATS = ("json", "slack")
MAX_PER_SITE = 10
SHOWN_DELIVERIES = 20


class Refusal(NamedTuple):
    """Why a URL may not be called: a message marked for translation and its values."""

    message: str
    params: dict[str, str]

    def __str__(self) -> str:
        return self.message.format(**self.params)


class Target(NamedTuple):
    """Where a webhook's URL may be called: `refusal` (None: it may) and else the addresses
    its host resolved to when checked, the ones the delivery connects to (in that order)."""

    refusal: Refusal | None
    addresses: tuple[str, ...] = ()


def checked_target(url: str, allow_private: bool) -> Target:
    """An http(s) URL whose host resolves only to public addresses, unless
    JETRACK_WEBHOOK_ALLOW_PRIVATE lets private ones through."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return Target(Refusal(gettext_noop("an http:// or https:// URL"), {}))
    host = parts.hostname
    unresolved = Refusal(gettext_noop("the host {host} cannot be resolved"), {"host": host})
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
        found = socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)
    except (OSError, ValueError):
        return Target(unresolved)
    addresses = [ipaddress.ip_address(str(a[0]).split("%")[0]) for *_, a in found]
    if not allow_private:
        for ip in addresses:
            mapped = getattr(ip, "ipv4_mapped", None)
            if not (mapped or ip).is_global:
                private = gettext_noop(
                    "{host} resolves to {ip}, a private, loopback or link-local address"
                    " (an operator can allow them: {setting})"
                )
                setting = "JETRACK_WEBHOOK_ALLOW_PRIVATE"
                return Target(Refusal(private, {"host": host, "ip": str(ip), "setting": setting}))
    if not addresses:
        return Target(unresolved)
    return Target(None, tuple(dict.fromkeys(str(ip) for ip in addresses)))


def pinned_request(url: str, address: str) -> tuple[str, dict[str, str], dict[str, Any]]:
    """`url` with its host replaced by the checked `address`, the Host header it had, and
    (https) the name its certificate is verified against: the request goes where the check
    looked, so a name that resolves elsewhere a moment later (DNS rebinding) changes
    nothing."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    ip = f"[{address}]" if ":" in address else address
    netloc = f"{ip}:{parts.port}" if parts.port else ip
    pinned = parts._replace(netloc=netloc).geturl()
    host_header = f"{host}:{parts.port}" if parts.port else host
    extensions: dict[str, Any] = {"sni_hostname": host} if parts.scheme == "https" else {}
    return pinned, {"Host": host_header}, extensions


def add_webhook(
    session: Session, site: Site, url: str, fmt: str, kinds: set[str], allow_private: bool
) -> Webhook:
    url = url.strip()
    if len(url) > 2000:
        raise RecipientError("url", gettext_noop("at most {max} characters"), max="2000")
    refusal = checked_target(url, allow_private).refusal
    if refusal:
        raise RecipientError("url", refusal.message, **refusal.params)
    if fmt not in FORMATS:
        raise RecipientError("format", gettext_noop("one of {values}"), values=", ".join(FORMATS))
    if not kinds or not kinds <= set(KINDS):
        some = gettext_noop("one or more of {values}")
        raise RecipientError("kinds", some, values=", ".join(KINDS))
    if len(webhooks_of(session, site)) >= MAX_PER_SITE:
        most = gettext_noop("a site has at most {max} webhooks")
        raise RecipientError("url", most, max=str(MAX_PER_SITE))
    hook = Webhook(
        site_id=site.id, url=url, format=fmt, kinds=[k for k in KINDS if k in kinds],
        secret=secrets.token_hex(32),
    )  # fmt: skip
    session.add(hook)
    session.flush()
    return hook


def remove_webhook(session: Session, site: Site, webhook_id: int) -> None:
    session.execute(delete(Webhook).where(Webhook.id == webhook_id, Webhook.site_id == site.id))


def webhooks_of(session: Session, site: Site) -> list[Webhook]:
    return list(session.scalars(select(Webhook).where(Webhook.site_id == site.id)))


def recent_deliveries(session: Session, site: Site) -> list[tuple[WebhookDelivery, Webhook]]:
    rows = session.execute(
        select(WebhookDelivery, Webhook)
        .join(Webhook, Webhook.id == WebhookDelivery.webhook_id)
        .where(Webhook.site_id == site.id)
        .order_by(WebhookDelivery.id.desc())
        .limit(SHOWN_DELIVERIES)
    )
    return [(delivery, hook) for delivery, hook in rows]


def signature(secret: str, timestamp: str, body: bytes) -> str:
    """HMAC-SHA256 over `<timestamp>.<body>`, hex: the `Jetrack-Signature: sha256=...` value."""
    message = timestamp.encode() + b"." + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def queue_deliveries(
    session: Session, site_id: int, kind: str, event: str, key: str,
    document: dict[str, Any], text: str,
) -> int:  # fmt: skip
    """A `webhook` job per webhook of the site that takes `kind`, once per `key`: the JSON
    `document` (`{"event": ..., ...}`), or Slack's `{"text": ...}` for a Slack webhook."""
    queued = 0
    for hook in session.scalars(select(Webhook).where(Webhook.site_id == site_id)):
        if kind not in hook.kinds:
            continue
        body = {"text": text} if hook.format == "slack" else {"event": event, **document}
        job = job_queue.enqueue(session, "webhook", dedup_key=f"webhook:{hook.id}:{key}")
        if job is None:
            continue  # queued before
        delivery = WebhookDelivery(webhook_id=hook.id, event=event)
        session.add(delivery)
        session.flush()
        job.payload = {"delivery_id": delivery.id, "body": json.dumps(body, sort_keys=True)}
        queued += 1
    return queued
