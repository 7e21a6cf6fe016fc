"""Public pages: landing, privacy policy, about, and the contact and support forms."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session
from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from jetrack.accounts.instance_keys import instance_key
from jetrack.config import Settings
from jetrack.i18n.catalogs import gettext, gettext_noop
from jetrack.notify.mail import send_mail
from jetrack.privacy.mails import compose
from jetrack.privacy.policy import policy_facts
from jetrack.support import form_guard
from jetrack.support.tickets import TicketError, file_ticket
from jetrack.web.auth import current_user
from jetrack.web.csrf import read_form
from jetrack.web.db import in_session
from jetrack.web.forms import client_address, text
from jetrack.web.templating import render

FORM_KEY = "public_forms"
FORM_FIELDS = ("name", "email", "subject", "message")


async def landing(request: Request) -> Response:
    """The landing page for signed-out visitors (`/` calls this for them)."""
    return await render(request, "public/landing.html", {"nav": "welcome"})


async def privacy_policy(request: Request) -> Response:
    settings: Settings = request.app.state.settings
    facts = await in_session(request, policy_facts, settings)
    return await render(request, "public/privacy.html", {"nav": "privacy", "facts": facts})


async def about(request: Request) -> Response:
    settings: Settings = request.app.state.settings
    return await render(
        request, "public/about.html", {"nav": "about", "contact_email": settings.contact_email}
    )


def _form_key(session: Session) -> bytes:
    return instance_key(session, FORM_KEY)


async def _form_page(
    request: Request, kind: str, extra: dict[str, Any] | None = None, status: int = 200
) -> Response:
    key = await in_session(request, _form_key)
    user = await current_user(request)
    values = {"name": user.name, "email": user.email} if user is not None else {}
    context: dict[str, Any] = {
        "nav": kind,
        "kind": kind,
        "values": values,
        "started": form_guard.sign_start(key),
        "honeypot": form_guard.HONEYPOT_FIELD,
    }
    context.update(extra or {})
    return await render(request, "public/contact.html", context, status=status)


async def contact_view(request: Request) -> Response:
    return await _form_page(request, request.url.path.strip("/"))


def _throttle(request: Request) -> form_guard.FormThrottle:
    state = request.app.state
    if not hasattr(state, "form_throttle"):
        state.form_throttle = form_guard.FormThrottle()
    throttle: form_guard.FormThrottle = state.form_throttle
    return throttle


async def contact_submit(request: Request) -> Response:
    kind = request.url.path.strip("/")
    form = await read_form(request)
    settings: Settings = request.app.state.settings
    values = {name: text(form, name, 5000 if name == "message" else 320) for name in FORM_FIELDS}
    key = await in_session(request, _form_key)
    thanks = {
        "title": gettext_noop("Message sent"),
        "message": gettext_noop("Thank you. We answer by email."),
        "href": "/",
    }
    if form_guard.looks_automated(
        key, text(form, form_guard.HONEYPOT_FIELD), text(form, form_guard.STARTED_FIELD, 100)
    ):
        # The same answer a person gets: a bot learns nothing; nothing is filed.
        return await render(request, "message.html", {**thanks, "action": gettext_noop("Home")})
    # A peer that is no IP (a unix socket, a test client) is still one client.
    client = client_address(request) or (request.client.host if request.client else None)
    if not _throttle(request).allow(client, values["email"]):
        context = {"errors": {"form": gettext("Too many messages. Please try again in an hour.")}}
        return await _form_page(request, kind, {**context, "values": values}, 429)
    user = await current_user(request)
    try:
        ticket = await in_session(
            request, file_ticket, kind, user_id=user.id if user else None, **values
        )
    except TicketError as exc:
        return await _form_page(request, kind, {"errors": exc.errors, "values": values}, 400)
    mail = compose(settings, "ticket", kind=kind, ticket_id=ticket.id, **values)
    task = BackgroundTask(
        send_mail, settings, settings.contact_email, mail.subject, mail.text, mail.html
    )
    return await render(
        request, "message.html", {**thanks, "action": gettext_noop("Home")}, background=task
    )


routes: list[BaseRoute] = [
    Route("/welcome", landing, methods=["GET"]),
    Route("/privacy", privacy_policy, methods=["GET"]),
    Route("/about", about, methods=["GET"]),
    Route("/contact", contact_view, methods=["GET"]),
    Route("/contact", contact_submit, methods=["POST"]),
    Route("/support", contact_view, methods=["GET"]),
    Route("/support", contact_submit, methods=["POST"]),
]
