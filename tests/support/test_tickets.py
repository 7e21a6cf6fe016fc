"""support/tickets.py on the control store (SQLite and PostgreSQL): filing, field errors,
listing, closing."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from jetrack.accounts.users import create_user
from jetrack.store.control import ControlStore
from jetrack.store.models import Ticket
from jetrack.support.tickets import (
    LIMITS,
    TicketError,
    close_ticket,
    file_ticket,
    list_tickets,
)

GOOD = {"name": "Ada", "email": "Ada@Example.com", "subject": "Export", "message": "Where is it?"}


def file(session: Session, kind: str, **change: str) -> Ticket:
    """A ticket with GOOD's fields, some changed."""
    fields = {**GOOD, **change}
    return file_ticket(
        session,
        kind,
        name=fields["name"],
        email=fields["email"],
        subject=fields["subject"],
        message=fields["message"],
    )


def test_a_ticket_is_kept_with_its_fields_bounded(control: ControlStore) -> None:
    with control.session() as session:
        user = create_user(session, "ada@example.com", password="correct horse battery")
        ticket = file_ticket(
            session,
            "support",
            name="A" * 500,
            email="Ada@Example.com",
            subject="S" * 500,
            message="M" * 9000,
            user_id=user.id,
        )
        ticket_id, user_id = ticket.id, user.id
    with control.session() as session:
        stored = session.get(Ticket, ticket_id)
        assert stored is not None
        assert (stored.kind, stored.email, stored.user_id) == (
            "support",
            "ada@example.com",
            user_id,
        )
        assert len(stored.name) == LIMITS["name"] and len(stored.subject) == LIMITS["subject"]
        assert len(stored.message) == LIMITS["message"]
        assert stored.closed_at is None


@pytest.mark.parametrize(
    ("change", "fields"),
    [
        ({"email": "not-an-email"}, {"email"}),
        ({"email": "a@b"}, {"email"}),  # no dot in the domain: nowhere to answer
        ({"email": "two words@example.com"}, {"email"}),
        ({"subject": ""}, {"subject"}),
        ({"message": "too short"}, {"message"}),
        ({"email": "", "subject": "", "message": ""}, {"email", "subject", "message"}),
    ],
)
def test_bad_fields_are_all_named_and_nothing_is_kept(
    control: ControlStore, change: dict[str, str], fields: set[str]
) -> None:
    with control.session() as session:
        with pytest.raises(TicketError) as caught:
            file(session, "contact", **change)
        assert set(caught.value.errors) == fields
        assert str(caught.value) in caught.value.errors.values()
        assert list_tickets(session) == []


def test_an_unknown_kind_is_refused(control: ControlStore) -> None:
    with control.session() as session, pytest.raises(ValueError, match="kind"):
        file(session, "sales")


def test_listing_is_newest_first_and_closing_happens_once(control: ControlStore) -> None:
    with control.session() as session:
        first = file(session, "contact").id
        second = file(session, "support", subject="Second").id
    with control.session() as session:
        assert [t.id for t in list_tickets(session)] == [second, first]
        assert [t.id for t in list_tickets(session, limit=1)] == [second]
        assert close_ticket(session, first) is True
    with control.session() as session:
        assert close_ticket(session, first) is False  # already closed
        assert close_ticket(session, 9999) is False  # no such ticket
        assert [t.id for t in list_tickets(session, open_only=True)] == [second]
        assert [t.id for t in list_tickets(session)] == [second, first]
