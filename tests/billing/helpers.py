"""Builders for billing tests: a team with sites on a plan, and events of each kind."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import update
from starlette.testclient import TestClient

from jetrack.accounts.teams import personal_team
from jetrack.jobs.quota import check_team
from jetrack.store.events import EventStore
from jetrack.store.models import Team, TeamUsage, User, utcnow
from jetrack.store.stores import Stores
from tests.privacy.helpers import make_account
from tests.web.world import World


def team_with_sites(
    stores: Stores, email: str, *domains: str, plan: str | None = "free"
) -> tuple[int, int, list[int]]:
    """(user id, team id, site ids): a verified owner's personal team on `plan`."""
    user_id, site_ids = make_account(stores, email, *domains)
    with stores.control.session() as session:
        team = personal_team(session, session.get_one(User, user_id))
        team.plan = plan
        return user_id, team.id, site_ids


def add_events(
    events: EventStore,
    site_id: int,
    moment: datetime,
    count: int,
    name: str = "pageview",
    import_id: int = 0,
) -> None:
    """`count` events named `name` at `moment` (one statement), live or of an import."""
    events.command(
        "INSERT INTO events (site_id, timestamp, name, pathname, visitor_id, session_id,"
        " import_id) SELECT {site:UInt32}, {ts:DateTime('UTC')}, {name:String}, '/',"
        " number + 1, number + 1, {import:UInt32} FROM numbers({count:UInt64})",
        {
            "site": site_id,
            "ts": moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S"),
            "name": name,
            "import": import_id,
            "count": count,
        },
    )


def team_plan(stores: Stores, team_id: int) -> str | None:
    with stores.control.session() as session:
        return session.get_one(Team, team_id).plan


# Settings of an instance with billing on (the provider is never called by these tests).
BILLING_ON = {
    "billing": True,
    "stripe_secret_key": "sk_test_quota",
    "stripe_webhook_secret": "whsec_quota",
}


def over_quota_since(stores: Stores, team_id: int, days: float) -> None:
    """The quota job's count of the team's month now, with its grace begun `days` ago."""
    now = utcnow()
    with stores.control.session() as session:
        check_team(session, stores.events, session.get_one(Team, team_id), now)
        session.execute(
            update(TeamUsage)
            .where(TeamUsage.team_id == team_id)
            .values(over_at=now - timedelta(days=days))
        )


def log_in_as(client: TestClient, world: World, role: str) -> str:
    """The client as the world's `role` from now on; that role's CSRF token."""
    client.cookies.clear()
    client.cookies.set("jt_session", world.cookies[role])
    return world.csrf[role]
