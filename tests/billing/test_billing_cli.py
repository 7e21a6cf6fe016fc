"""`jetrack billing sync --team N`: a team's subscription read from Stripe again (the
loopback fake) and applied, as after lost webhooks."""

from __future__ import annotations

from pathlib import Path

from jetrack.accounts.teams import create_team
from jetrack.accounts.users import create_user
from jetrack.billing import provider, subscriptions
from jetrack.store.models import Team
from jetrack.store.stores import open_stores
from tests.billing.conftest import billing_overrides
from tests.billing.test_webhooks import GROWTH_MONTH
from tests.conftest import make_settings
from tests.support.fake_stripe import FakeStripe
from tests.test_cli import invoke


def test_sync_applies_what_stripe_says(tmp_path: Path, fake_stripe: FakeStripe) -> None:
    data = tmp_path / "data"
    settings = make_settings(data, **billing_overrides(fake_stripe))
    stores = open_stores(settings)
    with stores.control.session() as session:
        owner = create_user(session, "ada@example.com", password="correct horse battery")
        team_id, lonely = create_team(session, owner, "Ada").id, create_team(session, owner, "B").id
    customer = provider.create_customer(settings, team_id, "Ada", "ada@example.com")
    with stores.control.session() as session:
        subscriptions.record_customer(session, team_id, customer)
    stores.close()
    metadata = {"team_id": str(team_id), "plan": "growth", "interval": "month"}
    fake_stripe.make_subscription(customer, GROWTH_MONTH, metadata, 0)  # no webhook came
    env = {
        "JETRACK_BILLING": "1",
        "JETRACK_STRIPE_SECRET_KEY": "sk_test_jetrack_fake",
        "JETRACK_STRIPE_WEBHOOK_SECRET": "whsec_jetrack_fake",
        "JETRACK_STRIPE_API_BASE": fake_stripe.base,
    }
    result = invoke(data, "billing", "sync", "--team", str(team_id), **env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"team {team_id}: plan growth, subscription active"
    stores = open_stores(settings)
    with stores.control.session() as session:
        team = session.get(Team, team_id)
        assert team is not None and team.plan == "growth"
    stores.close()

    without = invoke(data, "billing", "sync", "--team", str(lonely), **env)
    assert without.returncode == 2 and "no Stripe customer" in without.stderr
    fake_stripe.down = True
    down = invoke(data, "billing", "sync", "--team", str(team_id), **env)
    assert down.returncode == 2 and "Stripe could not be reached" in down.stderr
    off = invoke(data, "billing", "sync", "--team", str(team_id))
    assert off.returncode == 2 and "JETRACK_BILLING is off" in off.stderr
