"""The queries the team pages ask of accounts/teams.py (none of them inline in a handler)."""

from __future__ import annotations

import pytest

from jetrack.accounts import teams
from jetrack.accounts.permissions import site_role, site_roles
from jetrack.accounts.users import AccountError, create_user
from jetrack.sites.sites import add_site
from jetrack.store.models import Invitation, Membership, Site, SiteGuest
from jetrack.store.stores import Stores


def test_site_invitations_are_revoked_only_from_their_own_site(stores: Stores) -> None:
    with stores.control.session() as session:
        owner = create_user(session, "owner@example.com", password="a long password")
        one = add_site(session, owner, "one.example")
        two = add_site(session, owner, "two.example")
        team = teams.team_of_site(session, one)
        assert team is not None and teams.team_of_site(session, two) is team
        guest, _ = teams.invite(session, owner, team, "g@example.com", "viewer", site=one)
        member, _ = teams.invite(session, owner, team, "m@example.com", "viewer")
        assert teams.invited_to(session, guest) == "one.example"
        assert teams.invited_to(session, member) == f"the team {team.name}"
        assert not teams.revoke_site_invitation(session, two, guest.id)  # another site's
        assert not teams.revoke_site_invitation(session, one, member.id)  # the team's
        assert teams.revoke_site_invitation(session, one, guest.id)
        assert session.get(Invitation, guest.id).revoked_at is not None  # type: ignore[union-attr]
        assert session.get(Invitation, member.id).revoked_at is None  # type: ignore[union-attr]


def test_team_settings_need_a_name_of_1_to_200_characters(stores: Stores) -> None:
    with stores.control.session() as session:
        owner = create_user(session, "owner@example.com", password="a long password")
        team = teams.personal_team(session, owner)
        for bad in ("", "x" * 201):
            with pytest.raises(AccountError):
                teams.save_team_settings(session, team, bad, True)
        teams.save_team_settings(session, team, "Ops", True)
        assert (team.name, team.require_2fa) == ("Ops", True)


def test_site_roles_of_many_sites_equal_each_site_role(stores: Stores) -> None:
    """The sites list asks site_roles once for all sites; it must agree with site_role on a
    team's sites, a guest's site of another team, a stranger's site and an old teamless one,
    also when the team requires 2FA the account lacks."""
    with stores.control.session() as session:
        ada = create_user(session, "ada@example.com", password="a long password")
        bob = create_user(session, "bob@example.com", password="a long password")
        ours = [add_site(session, ada, f"ours{n}.example") for n in range(3)]
        theirs = [add_site(session, bob, f"theirs{n}.example") for n in range(3)]
        session.add(SiteGuest(site_id=theirs[0].id, user_id=ada.id, role="editor"))
        strict = teams.create_team(session, bob, "Strict")
        strict.require_2fa = True
        session.add(Membership(team_id=strict.id, user_id=ada.id, role="admin"))
        strict_site = add_site(session, bob, "strict.example", team=strict)
        legacy = add_site(session, ada, "legacy.example")
        legacy.team_id = None
        session.flush()
        sites = list(session.query(Site).order_by(Site.domain))
        for user in (ada, bob):
            expected = {site.id: site_role(session, user, site) for site in sites}
            assert site_roles(session, user, sites) == expected
        roles = site_roles(session, ada, sites)
        assert [roles[s.id] for s in ours] == ["owner"] * 3
        assert [roles[s.id] for s in theirs] == ["guest_editor", None, None]
        assert roles[strict_site.id] is None and roles[legacy.id] == "owner"
