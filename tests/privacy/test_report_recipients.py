"""Report and alert recipients are personal data of the site's team: the data export lists
them (an account its own opt-ins, a site its outside addresses) and they go with the
account or the site when either is erased."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from sqlalchemy import select

from jetrack.privacy.export import account_document, site_document
from jetrack.privacy.purge import erase_account_rows, plan_account
from jetrack.sites import report_recipients
from jetrack.store.models import Membership, ReportRecipient, Site, User, Webhook, utcnow
from jetrack.store.stores import Stores
from tests.conftest import row
from tests.privacy.helpers import make_account

pytestmark = pytest.mark.slow  # accounts with passwords: seconds of hashing


def _recipients(stores: Stores) -> tuple[int, int, int]:
    """bob owns bob.example; ada (a team admin) opted in to its weekly report and alerts
    and added cfo@client.example (confirmed) to its monthly report."""
    ada, _ = make_account(stores, "ada@example.com")
    bob, (site_id,) = make_account(stores, "bob@example.com", "bob.example")
    with stores.control.session() as session:
        site = row(session, Site, site_id)
        assert site.team_id is not None
        session.add(Membership(team_id=site.team_id, user_id=ada, role="admin"))
        session.flush()
        admin = row(session, User, ada)
        report_recipients.set_member_kinds(session, site, admin, {"week", "alerts"})
        added = report_recipients.add_outside(session, site, admin, "cfo@client.example", "month")
        added.confirmed_at = utcnow()
        session.add(
            Webhook(site_id=site.id, url="https://hooks.example/jetrack", format="slack",
                    kinds=["alerts"], secret="s" * 64)
        )  # fmt: skip
    return ada, bob, site_id


def _left(stores: Stores) -> list[tuple[str, str, int | None]]:
    with stores.control.session() as session:
        rows = session.scalars(select(ReportRecipient).order_by(ReportRecipient.id))
        return [(r.email, r.kind, r.added_by_id) for r in rows]


def test_the_export_lists_recipients(open_with: Callable[..., Stores]) -> None:
    stores = open_with()
    ada, bob, site_id = _recipients(stores)
    with stores.control.session() as session:
        mine = account_document(session, row(session, User, ada))
        assert [(s["site_id"], s["kind"]) for s in mine["report_subscriptions"]] == [
            (site_id, "alerts"),
            (site_id, "week"),
        ]
        assert account_document(session, row(session, User, bob))["report_subscriptions"] == []
        site = site_document(session, row(session, Site, site_id))
        assert [(r["email"], r["kind"]) for r in site["report_recipients"]] == [
            ("cfo@client.example", "month")
        ]
        assert site["report_recipients"][0]["confirmed_at"] is not None
        assert site["webhooks"] == [
            {"url": "https://hooks.example/jetrack", "format": "slack", "kinds": ["alerts"],
             "created_at": site["webhooks"][0]["created_at"]}
        ]  # fmt: skip
        assert "secret" not in json.dumps(site)


def test_erasing_the_account_removes_its_opt_ins_and_keeps_the_sites_recipients(
    open_with: Callable[..., Stores],
) -> None:
    stores = open_with()
    ada, _, _ = _recipients(stores)
    with stores.control.session() as session:
        plan = plan_account(session, row(session, User, ada))
    with stores.control.session() as session:
        erase_account_rows(session, plan)
    # The outside address belongs to the site; it no longer names who added it.
    assert _left(stores) == [("cfo@client.example", "month", None)]


def test_erasing_the_owner_erases_the_site_and_its_recipients(
    open_with: Callable[..., Stores],
) -> None:
    stores = open_with()
    _, bob, _ = _recipients(stores)
    with stores.control.session() as session:
        plan = plan_account(session, row(session, User, bob))
    with stores.control.session() as session:
        erase_account_rows(session, plan)
    assert _left(stores) == []


def test_an_address_erased_as_an_account_leaves_no_outside_row(
    open_with: Callable[..., Stores],
) -> None:
    stores = open_with()
    ada, _, _ = _recipients(stores)
    cfo, _ = make_account(stores, "cfo@client.example")  # the outside address signs up
    with stores.control.session() as session:
        erase_account_rows(session, plan_account(session, row(session, User, cfo)))
    assert ("cfo@client.example", "month", ada) not in _left(stores)
    assert len(_left(stores)) == 2
