"""The billing pages in the pseudo-language of tests/i18n/pseudo.py: every visible text went
through the translations (the plans page in each state, the account's billing details, the
billing notices)."""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient

from jetrack.app import create_app
from jetrack.config import Settings
from jetrack.i18n.catalogs import add_language
from jetrack.store.stores import Stores
from tests.billing.test_billing_pages import _checkout, _pay
from tests.i18n.pseudo import PSEUDO, pseudo_translations
from tests.support.fake_stripe import FakeStripe
from tests.web import world as w
from tests.web.test_translated_pages import untranslated


@pytest.mark.parametrize(
    "status", ["trialing", "past_due", "cancel_at_period_end", "canceled", "switch_pending"]
)
def test_billing_pages_show_only_translated_text(
    status: str, settings: Settings, stores: Stores, fake_stripe: FakeStripe
) -> None:
    add_language(pseudo_translations())
    world = w.build_world(stores)
    headers = {"Accept-Language": f"{PSEUDO}, en;q=0.5"}
    app = create_app(settings, stores)
    with TestClient(app, follow_redirects=False, headers=headers) as client:
        _pay(client, fake_stripe, _checkout(client, world))
        sub = list(fake_stripe.subscriptions.values())[-1]
        if status == "switch_pending":  # Business now, then Growth waiting for the renewal
            client.cookies.set("jt_session", world.cookies["owner"])
            for plan in ("business", "growth"):
                form = {"plan": plan, "csrf_token": world.csrf["owner"]}
                switched = client.post(f"/billing/teams/{world.team_id}/switch", data=form)
                assert switched.status_code == 303, switched.text
        elif status == "cancel_at_period_end":
            fake_stripe.update_subscription(sub["id"], cancel_at_period_end=True)
        else:
            fake_stripe.update_subscription(sub["id"], status=status)
        payload, event_headers = fake_stripe.signed_event("customer.subscription.updated", sub)
        assert (
            client.post("/billing/webhook", content=payload, headers=event_headers).status_code
            == 200
        )
        client.cookies.set("jt_session", world.cookies["owner"])
        pages = [
            f"/billing/teams/{world.team_id}?notice=checkout-done",
            f"/billing/teams/{world.team_id}?notice=billing-cancelled",
            f"/billing/teams/{world.team_id}?notice=switched",
            f"/billing/teams/{world.team_id}?notice=switch-pending",
            f"/billing/teams/{world.team_id}?notice=switch-undone",
            "/account",
            "/account/delete",
            "/teams",
        ]
        found = {}
        for path in pages:
            response = client.get(path)
            assert response.status_code == 200, path
            if left := untranslated(response.text):
                found[path] = left
        refused = client.post(
            f"/billing/teams/{world.team_id}/checkout",
            data={"plan": "nope", "interval": "month", "csrf_token": world.csrf["owner"]},
        )
        if left := untranslated(refused.text):
            found["checkout refused"] = left
        client.cookies.set("jt_session", world.cookies["viewer"])
        if left := untranslated(client.get(f"/billing/teams/{world.team_id}").text):
            found["viewer"] = left
    assert found == {}, found
