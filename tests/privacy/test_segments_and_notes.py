"""What an account made on a site (segments, annotations) in its data export and at its
erasure: the export lists them; erasure removes its personal segments and keeps what
belongs to the site (site segments, notes) without naming the account."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import select

from jetrack.privacy.export import account_document, site_document
from jetrack.privacy.purge import erase_account_rows, plan_account
from jetrack.sites import annotations as notes
from jetrack.sites import segments
from jetrack.store.models import Annotation, Membership, Segment, Site, User
from jetrack.store.stores import Stores
from tests.conftest import row
from tests.privacy.helpers import make_account

pytestmark = pytest.mark.slow  # accounts with passwords: seconds of hashing
GERMANS = [["is", "visit:country", ["DE"]]]


def _bobs_site_with_ada_as_admin(stores: Stores) -> tuple[int, int, int]:
    """bob owns bob.example (in his team); ada is an admin of that team."""
    ada, _ = make_account(stores, "ada@example.com")
    bob, (site_id,) = make_account(stores, "bob@example.com", "bob.example")
    with stores.control.session() as session:
        site = row(session, Site, site_id)
        assert site.team_id is not None
        session.add(Membership(team_id=site.team_id, user_id=ada, role="admin"))
        session.flush()
        author = row(session, User, ada)
        segments.create_segment(session, site, author, "Ada's own", "personal", GERMANS)
        segments.create_segment(session, site, author, "For the team", "site", GERMANS)
        spec = notes.annotation_spec("2026-03-14", "09:30", "Launch")
        notes.create_annotation(session, site, author, spec)
        other = row(session, User, bob)
        segments.create_segment(session, site, other, "Bob's own", "personal", GERMANS)
    return ada, bob, site_id


def test_the_export_lists_what_the_account_made(open_with: Callable[..., Stores]) -> None:
    stores = open_with()
    ada, bob, site_id = _bobs_site_with_ada_as_admin(stores)
    with stores.control.session() as session:
        mine = account_document(session, row(session, User, ada))
        assert [(s["name"], s["type"], s["site_id"]) for s in mine["segments"]] == [
            ("Ada's own", "personal", site_id),
            ("For the team", "site", site_id),
        ]
        assert mine["segments"][0]["filters"] == GERMANS
        assert mine["annotations"] == [
            {"date": "2026-03-14", "time": "09:30", "text": "Launch", "site_id": site_id}
        ]
        # The site's owner exports the site: its site segments and notes, no one's personal.
        site = site_document(session, row(session, Site, site_id))
        assert [s["name"] for s in site["segments"]] == ["For the team"]
        assert [n["text"] for n in site["annotations"]] == ["Launch"]
        assert [
            s["name"] for s in account_document(session, row(session, User, bob))["segments"]
        ] == ["Bob's own"]


def test_erasure_removes_personal_segments_and_keeps_the_sites(
    open_with: Callable[..., Stores],
) -> None:
    stores = open_with()
    ada, bob, site_id = _bobs_site_with_ada_as_admin(stores)
    with stores.control.session() as session:
        plan = plan_account(session, row(session, User, ada))
    with stores.control.session() as session:
        erase_account_rows(session, plan)
    with stores.control.session() as session:
        assert session.get(User, ada) is None
        left = session.scalars(select(Segment).order_by(Segment.id)).all()
        assert [(s.name, s.owner_id) for s in left] == [("For the team", None), ("Bob's own", bob)]
        note = session.scalars(select(Annotation)).one()
        assert (note.text, note.author_id, note.site_id) == ("Launch", None, site_id)
