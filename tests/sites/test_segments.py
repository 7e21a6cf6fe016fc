"""Segments in the control store (SQLite and PostgreSQL): who sees and uses which, the
per-site limit, and what happens to them when their site or their owner goes."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from jetrack.accounts import teams
from jetrack.accounts.users import create_user
from jetrack.sites import segments
from jetrack.sites.sites import add_site
from jetrack.store.control import ControlStore
from jetrack.store.models import Membership, Segment, Site, SiteGuest, User
from tests.conftest import row

GERMANS = [["is", "visit:country", ["DE"]]]


def _people(control: ControlStore) -> tuple[int, int, int]:
    with control.session() as session:
        ada = create_user(session, "ada@example.com")
        bob = create_user(session, "bob@example.com")
        site = add_site(session, ada, "ada.example")
        return ada.id, bob.id, site.id


def test_visibility_and_use(control: ControlStore) -> None:
    ada, bob, site_id = _people(control)
    with control.session() as session:
        site, owner = row(session, Site, site_id), row(session, User, ada)
        mine = segments.create_segment(session, site, owner, "Mine", "personal", GERMANS)
        shared = segments.create_segment(session, site, owner, " Team's ", "site", GERMANS)
        assert shared.name == "Team's"
        ids = (mine.id, shared.id)
    with control.session() as session:
        site = row(session, Site, site_id)
        assert {s.name for s in segments.visible_segments(session, site, ada)} == {"Mine", "Team's"}
        assert [s.name for s in segments.visible_segments(session, site, bob)] == ["Team's"]
        assert [s.name for s in segments.visible_segments(session, site, None)] == ["Team's"]
        assert {s.id for s in segments.usable_segments(session, site_id, ada, ids)} == set(ids)
        assert [s.id for s in segments.usable_segments(session, site_id, bob, ids)] == [ids[1]]
        assert segments.usable_segments(session, site_id + 1, ada, ids) == []


def test_a_site_has_at_most_500_segments(
    control: ControlStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(segments, "MAX_SEGMENTS_PER_SITE", 2)
    ada, _, site_id = _people(control)
    with control.session() as session:
        site, owner = row(session, Site, site_id), row(session, User, ada)
        for name in ("a", "b"):
            segments.create_segment(session, site, owner, name, "personal", GERMANS)
        with pytest.raises(segments.SegmentError, match="at most 2 segments"):
            segments.create_segment(session, site, owner, "c", "site", GERMANS)


def test_an_erased_owner_leaves_the_site_segments_only(control: ControlStore) -> None:
    ada, bob, site_id = _people(control)
    with control.session() as session:
        site = row(session, Site, site_id)
        for owner_id, kind in ((ada, "personal"), (ada, "site"), (bob, "personal")):
            owner = row(session, User, owner_id)
            segments.create_segment(session, site, owner, f"{owner_id} {kind}", kind, GERMANS)
    with control.session() as session:
        segments.forget_account(session, ada)  # the erasure job's step before the account goes
    with control.session() as session:
        left = session.scalars(select(Segment).order_by(Segment.id)).all()
        assert [(s.name, s.type, s.owner_id) for s in left] == [
            (f"{ada} site", "site", None),
            (f"{bob} personal", "personal", bob),
        ]
        session.delete(row(session, Site, site_id))
    with control.session() as session:
        assert session.scalars(select(Segment)).all() == []  # they go with their site


@pytest.mark.parametrize("access", ["member", "guest"])
def test_who_loses_access_to_a_site_loses_their_personal_segments_there(
    control: ControlStore, access: str
) -> None:
    # As Plausible's segments do when someone leaves a site or its team: bob's personal
    # segment on the site goes, his site segment stays without an owner, ada's are kept,
    # and bob's personal segment on his own site is not touched.
    ada, bob, site_id = _people(control)
    with control.session() as session:
        site = row(session, Site, site_id)
        team = teams.team_of_site(session, site)
        assert team is not None
        if access == "member":
            session.add(Membership(team_id=team.id, user_id=bob, role="admin"))
        else:
            session.add(SiteGuest(site_id=site_id, user_id=bob, role="editor"))
        session.flush()
        own = add_site(session, row(session, User, bob), "bob.example")
        for owner_id, kind, where in (
            (ada, "personal", site), (bob, "personal", site), (bob, "site", site),
            (bob, "personal", own),
        ):  # fmt: skip
            owner = row(session, User, owner_id)
            segments.create_segment(session, where, owner, f"{owner_id} {kind} {where.domain}",
                                    kind, GERMANS)  # fmt: skip
    with control.session() as session:
        site = row(session, Site, site_id)
        team = teams.team_of_site(session, site)
        assert team is not None
        if access == "member":
            membership = session.scalar(
                select(Membership).where(Membership.team_id == team.id, Membership.user_id == bob)
            )
            assert membership is not None
            teams.remove_member(session, team, membership)
        else:
            assert teams.remove_guest(session, site, bob)
    with control.session() as session:
        left = session.scalars(select(Segment).order_by(Segment.id)).all()
        assert [(s.name, s.owner_id) for s in left] == [
            (f"{ada} personal ada.example", ada),
            (f"{bob} site ada.example", None),
            (f"{bob} personal bob.example", bob),
        ]
