"""A site's reports page (your own opt-in, outside recipients), and the mailed links that
confirm an outside address (double opt-in) or unsubscribe (RFC 8058 one-click POST too)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from jetrack.accounts.permissions import can, site_for
from jetrack.accounts.users import saved_locale
from jetrack.config import Settings
from jetrack.i18n.catalogs import gettext, gettext_noop
from jetrack.notify.limits import mail_keys, refusal
from jetrack.notify.messages import compose, in_background, link, quoted
from jetrack.sites import report_recipients as recipients
from jetrack.sites import webhooks
from jetrack.sites.report_recipients import (
    KIND_NAMES,
    KIND_OBJECTS,
    KINDS,
    LinkError,
    LinkTarget,
    RecipientError,
)
from jetrack.store.models import User
from jetrack.web.auth import require_user
from jetrack.web.csrf import read_form
from jetrack.web.db import in_session
from jetrack.web.forms import checked, client_address, number, text
from jetrack.web.templating import render
from jetrack.web.throttles import mails as mail_limiter
from jetrack.web.throttles import retry_after


def _page_context(session: Session, user: User, domain: str) -> dict[str, Any]:
    site = site_for(session, user, domain, "view_stats")
    manage = can(session, user, "manage_members", site)
    spike = recipients.spike_setting(session, site)
    return {
        "site": site,
        "may_edit": can(session, user, "edit_site", site),
        "spike": {"threshold": spike.threshold, "every_hours": spike.every_hours}
        if spike
        else None,
        "mine": recipients.member_kinds(session, site, user),
        "kinds": [(kind, KIND_NAMES[kind]) for kind in KINDS],
        "may_manage": manage,
        "outside": recipients.outside_recipients(session, site) if manage else [],
        "webhooks": webhooks.webhooks_of(session, site) if manage else [],
        "deliveries": webhooks.recent_deliveries(session, site) if manage else [],
    }


async def reports_page(request: Request) -> Response:
    return await _page(request)


async def _page(
    request: Request, extra: dict[str, Any] | None = None, status: int = 200
) -> Response:
    user = await require_user(request)
    context = await in_session(request, _page_context, user, request.path_params["domain"])
    context.update(nav="sites", errors={}, values={})
    context.update(extra or {})
    return await render(request, "site_reports.html", context, status=status)


def _problem(exc: RecipientError) -> dict[str, str]:
    """The bad field and its problem in the page's language (a kind's name too)."""
    params = {name: gettext(v) if name == "kind" else v for name, v in exc.params.items()}
    return {exc.field: gettext(exc.message, **params)}


async def mine_submit(request: Request) -> Response:
    """A member's own choice of reports and alerts, at their account's address."""
    user = await require_user(request)
    form = await read_form(request)
    domain = request.path_params["domain"]
    kinds = {kind for kind in KINDS if checked(form, kind)}

    def save(session: Session) -> None:
        site = site_for(session, user, domain, "view_stats")
        recipients.set_member_kinds(session, site, user, kinds)

    await in_session(request, save)
    return RedirectResponse(f"/sites/{domain}/reports?notice=saved", 303)


def _add(session: Session, user: User, domain: str, email: str, kind: str) -> tuple[str, str]:
    site = site_for(session, user, domain, "manage_members")
    row = recipients.add_outside(session, site, user, email, kind)
    return recipients.link_token(session, "confirm", row), site.domain


async def outside_add(request: Request) -> Response:
    """An outside address: mailed a confirmation link; nothing else until it is followed."""
    user = await require_user(request)
    form = await read_form(request)
    domain, email, kind = (
        request.path_params["domain"],
        text(form, "email", 400),
        text(form, "kind", 10),
    )
    keys = mail_keys(email, account=user.id, client=client_address(request))
    wait = mail_limiter(request).retry_after(keys)
    values = {"email": email, "kind": kind}
    if wait:
        extra = {"errors": {"email": refusal(wait)}, "values": values}
        return retry_after(await _page(request, extra, 429), wait)
    try:
        token, site_domain = await in_session(request, _add, user, domain, email, kind)
    except RecipientError as exc:
        return await _page(request, {"errors": _problem(exc), "values": values}, 400)
    mail_limiter(request).sent(keys)
    settings: Settings = request.app.state.settings
    locale = await in_session(request, saved_locale, email)  # else the adder's language
    mail = compose(
        settings, "report_confirm", email.strip(), locale=locale,
        url=link(settings, f"/reports/confirm?token={token}"),
        inviter=quoted(user.name or user.email), domain=site_domain, mails=KIND_OBJECTS[kind],
    )  # fmt: skip
    response = RedirectResponse(f"/sites/{domain}/reports?notice=recipient-added", 303)
    response.background = in_background(settings, mail)
    return response


async def outside_remove(request: Request) -> Response:
    user = await require_user(request)
    await read_form(request)
    domain, recipient_id = (
        request.path_params["domain"],
        number(request.path_params["recipient_id"]),
    )

    def remove(session: Session) -> None:
        site = site_for(session, user, domain, "manage_members")
        recipients.remove_outside(session, site, recipient_id or 0)

    await in_session(request, remove)
    return RedirectResponse(f"/sites/{domain}/reports?notice=recipient-removed", 303)


async def spike_submit(request: Request) -> Response:
    """The spike alert: a threshold of current visitors (empty: off) and how often at most."""
    user = await require_user(request)
    form = await read_form(request)
    domain = request.path_params["domain"]
    threshold, every = text(form, "spike_threshold", 20), text(form, "spike_every_hours", 20)

    def save(session: Session) -> None:
        site = site_for(session, user, domain, "edit_site")
        recipients.set_spike(session, site, threshold, every)

    try:
        await in_session(request, save)
    except RecipientError as exc:
        values = {"spike_threshold": threshold, "spike_every_hours": every}
        return await _page(request, {"errors": _problem(exc), "values": values}, 400)
    return RedirectResponse(f"/sites/{domain}/reports?notice=saved", 303)


def _add_webhook(
    session: Session, user: User, domain: str, values: dict[str, Any], allow_private: bool
) -> None:
    site = site_for(session, user, domain, "manage_members")
    webhooks.add_webhook(
        session, site, values["url"], values["format"], values["kinds"], allow_private
    )


async def webhook_add(request: Request) -> Response:
    """A webhook for some of the site's reports and alerts (its target is checked first)."""
    user = await require_user(request)
    form = await read_form(request)
    domain = request.path_params["domain"]
    values = {
        "url": text(form, "url", 2100),
        "format": text(form, "format", 10),
        "kinds": {kind for kind in KINDS if checked(form, f"hook_{kind}")},
    }
    allow = request.app.state.settings.webhook_allow_private
    try:
        await in_session(request, _add_webhook, user, domain, values, allow)
    except RecipientError as exc:
        extra = {"errors": _problem(exc), "values": {"url": values["url"]}}
        return await _page(request, extra, 400)
    return RedirectResponse(f"/sites/{domain}/reports?notice=saved#webhooks", 303)


async def webhook_remove(request: Request) -> Response:
    user = await require_user(request)
    await read_form(request)
    domain, webhook_id = request.path_params["domain"], number(request.path_params["webhook_id"])

    def remove(session: Session) -> None:
        site = site_for(session, user, domain, "manage_members")
        webhooks.remove_webhook(session, site, webhook_id or 0)

    await in_session(request, remove)
    return RedirectResponse(f"/sites/{domain}/reports?notice=saved#webhooks", 303)


# --- The mailed links -------------------------------------------------------------------------
# GET shows a button and changes nothing (mail scanners open links); POST acts. A one-click
# unsubscribe POST from a mail provider carries the token in the URL and
# "List-Unsubscribe=One-Click" as its body, with no cookie: the CSRF checks pass it.


def _token(request: Request, form: Any = None) -> str:
    found = request.query_params.get("token") or (text(form, "token", 200) if form else "")
    return found[:200]


# The pages' titles, by purpose.
_LINK_TITLES = {
    "confirm": gettext_noop("Confirm the subscription"),
    "unsubscribe": gettext_noop("Unsubscribe"),
}


async def _dead_link(request: Request, purpose: str, exc: LinkError) -> Response:
    """A link that does not work (any more): a page that says so, with 404."""
    context = {"title": _LINK_TITLES[purpose], "message": str(exc)}
    return await render(request, "message.html", context, status=404)


async def _link_page(request: Request, purpose: str) -> Response:
    token = _token(request)
    try:
        target = await in_session(request, recipients.link_target, purpose, token)
    except LinkError as exc:
        return await _dead_link(request, purpose, exc)
    context = {
        "target": target,
        "kind": KIND_OBJECTS[target.kind],
        "token": token,
        "purpose": purpose,
        "title": _LINK_TITLES[purpose],
    }
    return await render(request, "report_link.html", context)


async def confirm_page(request: Request) -> Response:
    return await _link_page(request, "confirm")


async def unsubscribe_page(request: Request) -> Response:
    return await _link_page(request, "unsubscribe")


async def _link_action(
    request: Request,
    purpose: str,
    action: Callable[[Session, str], LinkTarget],
    title: str,
    done: str,
) -> Response:
    form = await read_form(request)
    try:
        target = await in_session(request, action, _token(request, form))
    except LinkError as exc:
        return await _dead_link(request, purpose, exc)
    kind = gettext(KIND_OBJECTS[target.kind])
    message = gettext(done, email=target.email, kind=kind, domain=target.domain)
    return await render(request, "message.html", {"title": title, "message": message})


async def confirm_submit(request: Request) -> Response:
    done = gettext_noop("{email} gets {kind} of {domain} from now on.")
    subscribed = gettext_noop("Subscribed")
    return await _link_action(request, "confirm", recipients.confirm, subscribed, done)


async def unsubscribe_submit(request: Request) -> Response:
    done = gettext_noop("{email} no longer gets {kind} of {domain}.")
    unsubscribed = gettext_noop("Unsubscribed")
    return await _link_action(request, "unsubscribe", recipients.unsubscribe, unsubscribed, done)


routes: list[BaseRoute] = [
    Route("/sites/{domain}/reports", reports_page, methods=["GET"]),
    Route("/sites/{domain}/reports/mine", mine_submit, methods=["POST"]),
    Route("/sites/{domain}/reports/recipients", outside_add, methods=["POST"]),
    Route(
        "/sites/{domain}/reports/recipients/{recipient_id}/remove",
        outside_remove,
        methods=["POST"],
    ),
    Route("/sites/{domain}/reports/spike", spike_submit, methods=["POST"]),
    Route("/sites/{domain}/reports/webhooks", webhook_add, methods=["POST"]),
    Route("/sites/{domain}/reports/webhooks/{webhook_id}/remove", webhook_remove, methods=["POST"]),
    Route("/reports/confirm", confirm_page, methods=["GET"]),
    Route("/reports/confirm", confirm_submit, methods=["POST"]),
    Route("/reports/unsubscribe", unsubscribe_page, methods=["GET"]),
    Route("/reports/unsubscribe", unsubscribe_submit, methods=["POST"]),
]
