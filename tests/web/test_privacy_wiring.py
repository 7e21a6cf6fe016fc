"""Retention and restriction reach the Stats API: its meta says from which day data exists,
and a restricted owner's sites answer nobody else's keys, sessions or shared links."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update
from starlette.testclient import TestClient

from jetrack.accounts.api_keys import create_api_key
from jetrack.accounts.login_sessions import start_session
from jetrack.accounts.teams import personal_team
from jetrack.accounts.users import create_user
from jetrack.app import create_app
from jetrack.config import Settings
from jetrack.privacy.restriction import set_restricted
from jetrack.sites import shared_links
from jetrack.sites.sites import add_site
from jetrack.store.models import Membership, Site, User
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


@pytest.mark.slow
def test_restricted_reports_answer_404_everywhere_as_a_missing_site(
    settings: Settings, stores: Stores
) -> None:
    """One rule (privacy/restriction.py readable_site): the dashboard, its export and a
    shared link answer a restricted site like a missing one, as the Stats API does."""
    _world(stores)
    with stores.control.session() as session:
        viewer = session.scalars(select(User).where(User.email == "viewer@example.com")).one()
        row, token = start_session(session, viewer)
        csrf = row.csrf_token
        site = session.scalars(select(Site)).one()
        slug = shared_links.create_shared_link(session, site, "public").slug
    asks = {
        "dashboard query": (
            "/api/dashboard/example.com/query",
            {"metrics": ["visitors"], "date_range": "7d"},
        ),
        "dashboard export": ("/api/dashboard/example.com/export", {"date_range": "7d"}),
        "shared link query": (
            f"/api/share/{slug}/query",
            {"metrics": ["visitors"], "date_range": "7d"},
        ),
    }
    with TestClient(create_app(settings, stores)) as client:

        def statuses() -> dict[str, int]:
            answers: dict[str, int] = {}
            for name, (url, body) in asks.items():
                signed_in = not url.startswith("/api/share/")
                client.cookies.clear()
                if signed_in:
                    client.cookies.set("jt_session", token)
                headers = {"X-CSRF-Token": csrf} if signed_in else {}
                answers[name] = client.post(url, json=body, headers=headers).status_code
            client.cookies.set("jt_session", token)
            answers["dashboard page"] = client.get("/sites/example.com").status_code
            return answers

        before = statuses()
        with stores.control.session() as session:
            owner = session.get(Site, 1).owner  # type: ignore[union-attr]
            set_restricted(session, owner, True)
        after = statuses()
    assert before["dashboard query"] == before["shared link query"] == 200, before
    assert before["dashboard export"] == 200, before
    assert set(after.values()) == {404}, after
