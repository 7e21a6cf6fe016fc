"""Webhooks through a real HTTP receiver on loopback: reports and alerts signed with
HMAC-SHA256 over timestamp and body, a failure retried and listed, Slack's body, and
non-public targets refused unless the operator setting allows them."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select, update

from jetrack.demo import seed_demo
from jetrack.jobs import runner
from jetrack.sites import webhooks
from jetrack.sites.report_recipients import RecipientError
from jetrack.store.models import Job, Site, Webhook, WebhookDelivery, utcnow
from jetrack.store.stores import Stores, open_stores
from tests.conftest import Inbox, copy_template, make_settings
from tests.jobs.conftest import Receiver

pytestmark = pytest.mark.slow  # a seeded demo site per test

MONDAY_0905_UTC = datetime(2026, 11, 30, 9, 5, tzinfo=UTC)


@pytest.fixture
def hooked(
    tmp_path: Path, smtp: tuple[Inbox, int], receiver: Receiver, data_dir_template: Path
) -> Iterator[tuple[Stores, int]]:
    settings = make_settings(
        tmp_path / "data", smtp_host="127.0.0.1", smtp_port=smtp[1], webhook_allow_private=True
    )
    copy_template(data_dir_template, settings)
    stores = open_stores(settings)
    site = seed_demo(stores, "hooked.example", "owner@hooked.example", days=20, visitors_per_day=5)
    try:
        yield stores, site.id
    finally:
        stores.close()


def _add(stores: Stores, site_id: int, url: str, fmt: str, allow: bool = True) -> Webhook:
    with stores.control.session() as session:
        site = session.get(Site, site_id)
        assert site is not None
        hook = webhooks.add_webhook(session, site, url, fmt, {"week"}, allow)
        session.expunge(hook)
        return hook


def _send_week(stores: Stores) -> None:
    runner.run_pending(stores, kinds=("reports", "webhook"), now=MONDAY_0905_UTC)


def _deliveries(stores: Stores) -> list[tuple[str, str, int, int | None]]:
    with stores.control.session() as session:
        rows = session.scalars(select(WebhookDelivery).order_by(WebhookDelivery.id))
        return [(d.event, d.state, d.attempts, d.status_code) for d in rows]


def test_a_report_arrives_signed_once(
    hooked: tuple[Stores, int], receiver: Receiver, smtp: tuple[Inbox, int]
) -> None:
    stores, site_id = hooked
    hook = _add(stores, site_id, receiver.url, "json")  # no mail recipient: a webhook alone
    _send_week(stores)
    _send_week(stores)
    [(headers, body)] = receiver.requests
    expected = hmac.new(
        hook.secret.encode(), headers["jetrack-timestamp"].encode() + b"." + body, hashlib.sha256
    ).hexdigest()
    assert headers["jetrack-signature"] == f"sha256={expected}"
    assert headers["content-type"] == "application/json"
    document = json.loads(body)
    assert document["event"] == "report.week"
    assert (document["domain"], document["first"], document["last"]) == (
        "hooked.example", "2026-11-23", "2026-11-29",
    )  # fmt: skip
    assert [f["metric"] for f in document["figures"]][:3] == ["visitors", "visits", "pageviews"]
    assert _deliveries(stores) == [("report.week", "delivered", 1, 200)]


def test_a_failing_receiver_is_retried_with_backoff_and_listed(
    hooked: tuple[Stores, int], receiver: Receiver
) -> None:
    stores, site_id = hooked
    _add(stores, site_id, receiver.url, "slack")
    receiver.statuses = [500]
    _send_week(stores)
    assert _deliveries(stores) == [("report.week", "retrying", 1, 500)]
    with stores.control.session() as session:
        job = session.scalars(select(Job).where(Job.kind == "webhook")).one()
        assert job.state == "queued" and job.error == "WebhookFailed: HTTP 500"
        session.execute(
            update(Job).where(Job.id == job.id).values(run_after=utcnow() - timedelta(seconds=1))
        )
    _send_week(stores)
    assert _deliveries(stores) == [("report.week", "delivered", 2, 200)]
    assert len(receiver.requests) == 2
    slack = json.loads(receiver.requests[-1][1])
    assert list(slack) == ["text"]
    assert slack["text"].startswith("Weekly report for hooked.example, 23–29 Nov 2026:")


@pytest.mark.parametrize(
    "url",
    ["http://127.0.0.1:9/hook", "http://localhost/hook", "http://[::1]/x", "http://169.254.169.254/",
     "http://10.0.0.1/", "http://192.168.1.1/"],
)  # fmt: skip
def test_non_public_targets_are_refused_without_the_operator_setting(
    hooked: tuple[Stores, int], url: str
) -> None:
    stores, site_id = hooked
    with pytest.raises(RecipientError, match="a private, loopback or link-local address"):
        _add(stores, site_id, url, "json", allow=False)


def test_bad_webhooks_name_the_field(hooked: tuple[Stores, int]) -> None:
    stores, site_id = hooked
    for url, fmt, error in [
        ("ftp://files.example/x", "json", "url: an http:// or https:// URL"),
        ("https://no-such-host.invalid/x", "json", "url: the host no-such-host.invalid cannot"),
    ]:
        with pytest.raises(RecipientError, match=error):
            _add(stores, site_id, url, fmt, allow=True)
    with pytest.raises(RecipientError, match="format: one of json, slack"):
        _add(stores, site_id, "http://127.0.0.1/x", "xml", allow=True)


def test_a_target_that_became_private_is_refused_at_delivery(
    hooked: tuple[Stores, int], receiver: Receiver
) -> None:
    stores, site_id = hooked
    _add(stores, site_id, receiver.url, "json")
    stores.settings = stores.settings.model_copy(update={"webhook_allow_private": False})
    _send_week(stores)
    assert receiver.requests == []
    [(event, state, attempts, _)] = _deliveries(stores)
    assert (event, state, attempts) == ("report.week", "failed", 1)


def test_a_delivery_goes_to_the_address_it_checked_with_the_name_as_host(
    hooked: tuple[Stores, int], receiver: Receiver
) -> None:
    # By name: the POST connects to the address the check resolved (no second lookup a
    # rebinding name could answer differently) and still says which host it meant.
    stores, site_id = hooked
    by_name = receiver.url.replace("127.0.0.1", "localhost")
    _add(stores, site_id, by_name, "json")
    _send_week(stores)
    [(headers, _)] = receiver.requests
    assert headers["host"] == urlsplit(by_name).netloc
    assert _deliveries(stores) == [("report.week", "delivered", 1, 200)]


def test_a_pinned_request_keeps_the_name_for_host_and_certificate() -> None:
    url, host, extensions = webhooks.pinned_request(
        "https://hooks.example:8443/in?x=1", "2001:db8::5"
    )
    assert url == "https://[2001:db8::5]:8443/in?x=1"
    assert host == {"Host": "hooks.example:8443"}
    assert extensions == {"sni_hostname": "hooks.example"}
    url, host, extensions = webhooks.pinned_request("http://hooks.example/in", "203.0.113.9")
    assert (url, host, extensions) == ("http://203.0.113.9/in", {"Host": "hooks.example"}, {})
