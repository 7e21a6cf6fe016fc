"""Retention and restriction reach the Stats API: its meta says from which day data exists,
and a restricted owner's sites answer nobody else's keys."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import update
from starlette.testclient import TestClient

from jetrack.accounts.api_keys import create_api_key
from jetrack.accounts.teams import personal_team
from jetrack.accounts.users import create_user
from jetrack.app import create_app
from jetrack.config import Settings
from jetrack.privacy.restriction import set_restricted
from jetrack.sites.sites import add_site
from jetrack.store.models import Membership, Site
from jetrack.store.stores import Stores
from tests.conftest import row

BODY = {"site_id": "example.com", "metrics": ["visitors"], "date_range": "7d"}


def _world(stores: Stores) -> tuple[str, str]:
    with stores.control.session() as session:
        owner = create_user(session, "owner@example.com", password="a long password")
        viewer = create_user(session, "viewer@example.com", password="a long password")
        add_site(session, owner, "example.com")
        session.add(
            Membership(team_id=personal_team(session, owner).id, user_id=viewer.id, role="viewer")
        )
        _, owner_key = create_api_key(session, owner, "owner")
        _, viewer_key = create_api_key(session, viewer, "viewer")
    return owner_key, viewer_key


def _ask(client: TestClient, key: str) -> tuple[int, dict[str, object]]:
    response = client.post("/api/v2/query", json=BODY, headers={"Authorization": f"Bearer {key}"})
    return response.status_code, response.json()


@pytest.mark.slow
def test_meta_says_from_which_day_data_exists(settings: Settings, stores: Stores) -> None:
    owner_key, _ = _world(stores)
    with TestClient(create_app(settings, stores)) as client:
        status, body = _ask(client, owner_key)
        assert status == 200 and body["meta"]["data_available_from"] is None  # type: ignore[index]
        with stores.control.session() as session:
            session.execute(update(Site).values(retention_days=30))
        status, body = _ask(client, owner_key)
    expected = (datetime.now(UTC).date() - timedelta(days=30)).isoformat()
    assert body["meta"]["data_available_from"] == expected  # type: ignore[index]


@pytest.mark.slow
def test_restricted_processing_stops_reports_to_others(settings: Settings, stores: Stores) -> None:
    owner_key, viewer_key = _world(stores)
    with TestClient(create_app(settings, stores)) as client:
        assert _ask(client, viewer_key)[0] == 200
        with stores.control.session() as session:
            owner = row(session, Site, 1).owner
            set_restricted(session, owner, True)
        assert _ask(client, viewer_key)[0] == 404
        assert _ask(client, owner_key)[0] == 200
