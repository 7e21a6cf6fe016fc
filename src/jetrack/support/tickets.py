"""Tickets: messages from the contact and support forms, kept in the control store."""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.orm import Session

from jetrack.i18n.catalogs import gettext_noop
from jetrack.i18n.errors import Problem
from jetrack.store.models import Ticket, utcnow

KINDS = ("contact", "support")
EMAIL_RE = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,255}\.[^@\s]{2,}$")
LIMITS = {"name": 200, "email": 320, "subject": 200, "message": 5000}


class TicketError(ValueError):
    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__(next(iter(errors.values())))
        self.errors = errors


def check_fields(email: str, subject: str, message: str) -> None:
    errors: dict[str, str] = {}
    if not EMAIL_RE.match(email):
        errors["email"] = Problem(
            gettext_noop("must be an email address we can answer, like you@example.com")
        )
    if not subject:
        errors["subject"] = Problem(gettext_noop("say in a few words what it is about"))
    if len(message) < 10:
        errors["message"] = Problem(gettext_noop("must be at least 10 characters"))
    if errors:
        raise TicketError(errors)


def file_ticket(
    session: Session,
    kind: str,
    *,
    name: str,
    email: str,
    subject: str,
    message: str,
    user_id: int | None = None,
) -> Ticket:
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}")
    check_fields(email, subject, message)
    ticket = Ticket(
        kind=kind,
        name=name[: LIMITS["name"]],
        email=email[: LIMITS["email"]].lower(),
        subject=subject[: LIMITS["subject"]],
        message=message[: LIMITS["message"]],
        user_id=user_id,
    )
    session.add(ticket)
    session.flush()
    return ticket


def list_tickets(session: Session, *, open_only: bool = False, limit: int = 200) -> list[Ticket]:
    statement = select(Ticket).order_by(Ticket.id.desc()).limit(limit)
    if open_only:
        statement = statement.where(Ticket.closed_at.is_(None))
    return list(session.scalars(statement))


def close_ticket(session: Session, ticket_id: int) -> bool:
    ticket = session.get(Ticket, ticket_id)
    if ticket is None or ticket.closed_at is not None:
        return False
    ticket.closed_at = utcnow()
    return True
