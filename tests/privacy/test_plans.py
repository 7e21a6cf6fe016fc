"""Retention by plan: a site's own period wins, then its team's plan (Free: six months),
then the instance's setting (self-hosted default: unlimited)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import update

from jetrack.accounts.teams import personal_team
from jetrack.accounts.users import create_user
from jetrack.config import Settings
from jetrack.privacy.retention import data_available_from, retention_days
from jetrack.sites.sites import add_site, find_site
from jetrack.store.models import Team
from jetrack.store.stores import Stores
from tests.conftest import make_settings

NOW = datetime(2027, 1, 15, 12, tzinfo=UTC)


@pytest.mark.parametrize(
    ("plan", "site_days", "instance_days", "expected"),
    [
        (None, None, 0, None),  # self-hosted default: keep everything
        (None, None, 90, 90),
        ("free", None, 0, 183),
        ("growth", None, 30, 1095),
        ("free", 30, 0, 30),  # the site's own period wins
        ("free", 0, 0, None),  # ... even "forever"
    ],
)
def test_retention_order(
    stores: Stores,
    tmp_path: object,
    plan: str | None,
    site_days: int | None,
    instance_days: int,
    expected: int | None,
) -> None:
    settings: Settings = make_settings(stores.settings.data_dir, retention_days=instance_days)
    with stores.control.session() as session:
        owner = create_user(session, "owner@example.com")
        add_site(session, owner, "example.com")
        session.execute(
            update(Team).where(Team.id == personal_team(session, owner).id).values(plan=plan)
        )
    with stores.control.session() as session:
        site = find_site(session, "example.com")
        assert site is not None
        site.retention_days = site_days
        assert retention_days(site, settings) == expected
        first_day = data_available_from(site, settings, NOW)
    if expected == 183:
        assert first_day == date(2026, 7, 16)


def test_privacy_policy_states_the_plans_in_use(stores: Stores) -> None:
    from starlette.testclient import TestClient

    from jetrack.app import create_app

    with stores.control.session() as session:
        owner = create_user(session, "owner@example.com")
        add_site(session, owner, "example.com")
    with TestClient(create_app(stores.settings, stores)) as client:
        assert "Free plan" not in client.get("/privacy").text
        with stores.control.session() as session:
            session.execute(update(Team).values(plan="free"))
        assert (
            "Sites on the Free plan keep <strong>183 days</strong> (six months)"
            in client.get("/privacy").text
        )
