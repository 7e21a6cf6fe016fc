"""The queries the team pages ask of accounts/teams.py (none of them inline in a handler)."""

from __future__ import annotations

import pytest

from jetrack.accounts import teams
from jetrack.accounts.users import AccountError, create_user
from jetrack.sites.sites import add_site
from jetrack.store.models import Invitation
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
