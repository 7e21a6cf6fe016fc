"""The models, migrations and permission rules on PostgreSQL (same code as SQLite)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from jetrack.accounts.login_sessions import find_session, start_session
from jetrack.accounts.permissions import ROLE_ACTIONS, can, site_for, visible_sites
from jetrack.accounts.teams import accept_invitation, create_team, find_invitation, invite
from jetrack.accounts.two_factor import begin_setup
from jetrack.accounts.users import create_user
from jetrack.sites.shared_links import create_shared_link, resolve_shared_link
from jetrack.sites.sites import add_site
from jetrack.store.control import ControlStore, migrate_control, open_control_store
from jetrack.store.models import Membership, SiteGuest, utcnow


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def control(request: pytest.FixtureRequest, tmp_path: object) -> Iterator[ControlStore]:
    from pathlib import Path

    if request.param == "postgres":
        url = request.getfixturevalue("postgres_url")
        store = open_control_store(data_dir=Path(str(tmp_path)), database_url=url, key=None)
    else:
        store = open_control_store(data_dir=Path(str(tmp_path)), database_url=None, key=None)
    migrate_control(store)
    yield store
    store.close()


def test_roles_and_guests(control: ControlStore) -> None:
    with control.session() as session:
        owner = create_user(session, "owner@example.com")
        viewer = create_user(session, "viewer@example.com")
        guest = create_user(session, "guest@example.com")
        stranger = create_user(session, "stranger@example.com")
        team = create_team(session, owner, "Acme")
        session.add(Membership(team_id=team.id, user_id=viewer.id, role="viewer"))
        site = add_site(session, owner, "acme.example", team=team)
        session.add(SiteGuest(site_id=site.id, user_id=guest.id, role="editor"))
        add_site(session, stranger, "other.example")
        session.flush()
        for action in sorted(set().union(*ROLE_ACTIONS.values())):
            assert can(session, owner, action, site) == (action in ROLE_ACTIONS["owner"])
            assert can(session, viewer, action, site) == (action in ROLE_ACTIONS["viewer"])
            assert can(session, guest, action, site) == (action in ROLE_ACTIONS["guest_editor"])
            assert not can(session, stranger, action, site)
            assert not can(session, None, action, site)
        assert can(session, guest, "edit_site", site) and not can(
            session, guest, "manage_members", team
        )
        assert [s.domain for s in visible_sites(session, stranger)] == ["other.example"]
        assert [s.domain for s in visible_sites(session, guest)] == ["acme.example"]
        with pytest.raises(Exception) as refused:
            site_for(session, stranger, "acme.example", "view_stats")
        assert getattr(refused.value, "status_code", None) == 404
        owner.locked_at = utcnow()
        assert not can(session, owner, "view_stats", site)


def test_team_requiring_2fa_hides_its_sites(control: ControlStore) -> None:
    with control.session() as session:
        owner = create_user(session, "owner@example.com")
        team = create_team(session, owner, "Acme")
        site = add_site(session, owner, "acme.example", team=team)
        team.require_2fa = True
        session.flush()
        assert not can(session, owner, "view_stats", site)
        credential = begin_setup(session, owner)
        credential.enabled_at = utcnow()
        session.flush()
        assert can(session, owner, "view_stats", site)


def test_sessions_invitations_and_shared_links(control: ControlStore) -> None:
    with control.session() as session:
        owner = create_user(session, "owner@example.com")
        bob = create_user(session, "bob@example.com")
        team = create_team(session, owner, "Acme")
        site = add_site(session, owner, "acme.example", team=team)
        row, token = start_session(session, owner)
        assert row.token_hash != token
        found = find_session(session, token)
        assert found is not None and found[1].id == owner.id
        assert find_session(session, token + "x") is None
        _, invite_token = invite(session, owner, team, "BOB@example.com", "admin")
        accept_invitation(session, find_invitation(session, invite_token), bob)
        assert can(session, bob, "edit_site", site)
        link = create_shared_link(session, site, "public")
        assert resolve_shared_link(session, link.slug, None) is not None
        protected = create_shared_link(session, site, "private", "a long password")
        assert resolve_shared_link(session, protected.slug, None) is None
