"""GDPR for billing data: the export holds the invoices (read from the provider), erasure
cancels the subscriptions and deletes the provider's customer, and an unreachable provider
is retried through the job queue, and said in the last mail."""

from __future__ import annotations

import json
import zipfile
from collections.abc import Callable
from datetime import timedelta

from sqlalchemy import select

from jetrack.accounts.teams import create_team
from jetrack.billing import provider, subscriptions
from jetrack.jobs import runner
from jetrack.privacy.erasure import request_account_erasure
from jetrack.privacy.export import ZIP_NAME, request_export
from jetrack.privacy.purge import exports_dir
from jetrack.store.models import DataExport, ErasureRequest, Job, User, utcnow
from jetrack.store.stores import Stores
from tests.billing.conftest import billing_overrides
from tests.billing.test_webhooks import GROWTH_MONTH
from tests.conftest import Inbox
from tests.privacy.helpers import make_account
from tests.support.fake_stripe import FakeStripe


def _paying_owner(stores: Stores, fake: FakeStripe) -> tuple[int, str, str]:
    """An account owning a team on Growth, with one paid invoice; (user, customer, sub)."""
    user_id, _ = make_account(stores, "ada@example.com", "ada.example")
    with stores.control.session() as session:
        user = session.get(User, user_id)
        assert user is not None
        team_id = create_team(session, user, "Ada's team").id
    customer = provider.create_customer(stores.settings, team_id, "Ada's team", "ada@example.com")
    metadata = {"team_id": str(team_id), "plan": "growth", "interval": "month"}
    sub = fake.make_subscription(customer, GROWTH_MONTH, metadata, 0)
    fake.make_invoice(sub)
    with stores.control.session() as session:
        subscriptions.record_customer(session, team_id, customer)
    facts = provider.subscription(stores.settings, sub["id"])
    with stores.control.session() as session:
        subscriptions.apply_subscription(session, facts, utcnow())
    return user_id, customer, sub["id"]


def test_the_export_holds_the_teams_invoices(stores: Stores, fake_stripe: FakeStripe) -> None:
    user_id, customer, _ = _paying_owner(stores, fake_stripe)
    with stores.control.session() as session:
        user = session.get(User, user_id)
        assert user is not None
        request_export(session, user)
    runner.run_pending(stores, kinds=("export",))
    with stores.control.session() as session:
        export = session.scalars(select(DataExport)).one()
        assert export.state == "done"
        path = exports_dir(stores) / export.directory / ZIP_NAME
    with zipfile.ZipFile(path) as archive:
        billing = json.loads(archive.read("billing.json"))
    history = {team["team"]: team["changes"] for team in billing["plan_history"]}
    (change,) = history["Ada's team"]
    assert (change["from"], change["to"], change["reason"]) == (
        None,
        "growth",
        "subscription_updated",
    )
    (team,) = billing["invoices"]
    assert team["team"] == "Ada's team"
    (invoice,) = team["invoices"]
    assert invoice["number"] == "JT01-0001" and invoice["amount"] == 1900
    assert invoice["currency"] == "eur" and invoice["status"] == "paid"
    assert (
        invoice["url"].startswith(fake_stripe.base)
        and invoice["date"] == utcnow().date().isoformat()
    )
    assert ("GET", "/v1/invoices", {"customer": customer, "limit": "100"}) in fake_stripe.calls


def _erase(stores: Stores, user_id: int) -> None:
    with stores.control.session() as session:
        user = session.get(User, user_id)
        assert user is not None
    request_account_erasure(stores, user)
    with stores.control.session() as session:
        for request in session.scalars(select(ErasureRequest)):
            request.purge_after = utcnow() - timedelta(seconds=1)
    runner.run_pending(stores, kinds=(*runner.PURGE_KINDS, "billing_erase"))


def test_erasure_cancels_and_deletes_the_customer(stores: Stores, fake_stripe: FakeStripe) -> None:
    user_id, customer, sub = _paying_owner(stores, fake_stripe)
    _erase(stores, user_id)
    calls = [(method, path) for method, path, _ in fake_stripe.calls]
    cancel = calls.index(("DELETE", f"/v1/subscriptions/{sub}"))
    delete = calls.index(("DELETE", f"/v1/customers/{customer}"))
    assert cancel < delete
    assert customer not in fake_stripe.customers
    assert fake_stripe.subscriptions[sub]["status"] == "canceled"


def test_an_unreachable_provider_is_retried_and_the_mail_says_so(
    open_with: Callable[..., Stores], fake_stripe: FakeStripe, smtp: tuple[Inbox, int]
) -> None:
    inbox, port = smtp
    stores = open_with(**billing_overrides(fake_stripe), smtp_host="127.0.0.1", smtp_port=port)
    user_id, customer, sub = _paying_owner(stores, fake_stripe)
    fake_stripe.down = True
    _erase(stores, user_id)
    with stores.control.session() as session:
        assert session.get(User, user_id) is None  # the account is erased all the same
        job = session.scalars(select(Job).where(Job.kind == "billing_erase")).one()
        assert job.payload == {"customer_id": customer} and job.state == "queued"
    assert "payment provider could not be reached" in Inbox.text(inbox.last_to("ada@example.com"))
    assert customer in fake_stripe.customers

    fake_stripe.down = False
    with stores.control.session() as session:
        session.scalars(select(Job).where(Job.kind == "billing_erase")).one().run_after = utcnow()
    runner.run_pending(stores, kinds=("billing_erase",))
    assert customer not in fake_stripe.customers
    assert fake_stripe.subscriptions[sub]["status"] == "canceled"
