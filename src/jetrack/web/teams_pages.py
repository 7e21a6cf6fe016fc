"""Teams and site access: members and roles, per-site guests, invitations by email."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from jetrack.accounts import teams
from jetrack.accounts.permissions import TEAM_ROLES, can, may_assign, site_for, team_for, teams_of
from jetrack.accounts.users import AccountError, saved_locale
from jetrack.billing.limits import PlanLimitError, require
from jetrack.billing.summary import usage_summary
from jetrack.config import Settings
from jetrack.i18n.catalogs import gettext_noop
from jetrack.notify.limits import MailKey, mail_keys, refusal
from jetrack.notify.messages import Mail, compose, in_background, link, quoted
from jetrack.store.models import Invitation, Team, User, utcnow
from jetrack.web.auth import current_user, require_user
from jetrack.web.billing_gate import billing_of
from jetrack.web.csrf import read_form
from jetrack.web.db import in_session
from jetrack.web.forms import checked, client_address, number, text
from jetrack.web.templating import render
from jetrack.web.throttles import mails as mail_limiter
from jetrack.web.throttles import retry_after

ROLE_LABELS = {
    "owner": gettext_noop("owner"),
    "admin": gettext_noop("admin"),
    "viewer": gettext_noop("viewer"),
    "editor": gettext_noop("guest editor"),
}


def _id(request: Request, name: str) -> int:
    value = number(request.path_params[name])
    if value is None:
        raise HTTPException(404, "not found")
    return value


def _invitation_mail(
    settings: Settings,
    inviter: User,
    invitation: Invitation,
    token: str,
    what: str,
    locale: str | None = None,
) -> Mail:
    """`what`: the quoted name of the site or team. In the invited account's language
    (`locale`, users.saved_locale), else the inviter's (the page's that sends it)."""
    role = ROLE_LABELS.get(invitation.role, invitation.role)
    if invitation.site_id is not None and invitation.role == "viewer":
        role = gettext_noop("guest viewer")
    url = link(settings, f"/invitations/{token}")
    return compose(
        settings,
        "invitation",
        invitation.email,
        locale=locale,
        inviter=quoted(inviter.name or inviter.email),
        site=what if invitation.site_id is not None else None,
        team=what if invitation.site_id is None else None,
        role=role,
        url=url,
    )


# --- Teams ---------------------------------------------------------------------------------


async def teams_page(request: Request) -> Response:
    user = await require_user(request)

    def load(session: Session) -> list[tuple[Team, bool]]:
        return [
            (team, can(session, user, "manage_members", team)) for team in teams_of(session, user)
        ]

    return await render(
        request, "teams.html", {"nav": "teams", "teams": await in_session(request, load)}
    )


def _team_context(session: Session, user: User, team_id: int, billing: bool) -> dict[str, Any]:
    team = team_for(session, user, team_id, "manage_members")
    return {
        "usage": usage_summary(session, team, billing, utcnow()) if billing else None,
        "team": team,
        "members": teams.members(session, team),
        "invitations": teams.pending_invitations(session, team),
        "may_manage_team": can(session, user, "manage_team", team),
        "may_owners": can(session, user, "manage_owners", team),
    }


async def team_page(
    request: Request, extra: dict[str, Any] | None = None, status: int = 200
) -> Response:
    user = await require_user(request)
    context = await in_session(
        request, _team_context, user, _id(request, "team_id"), billing_of(request)
    )
    return await render(
        request, "team.html", {"nav": "teams", **context, **(extra or {})}, status=status
    )


async def team_view(request: Request) -> Response:
    return await team_page(request)


def _invitation_wait(request: Request, user: User, email: str) -> tuple[list[MailKey], int]:
    """Invitations are mails to whoever the inviter names: limited per inviter, per
    recipient and per client."""
    keys = mail_keys(email, account=user.id, client=client_address(request))
    return keys, mail_limiter(request).retry_after(keys)


def _invite(
    session: Session, user: User, team_id: int, email: str, role: str, billing: bool
) -> tuple[Invitation, str, str]:
    team = team_for(session, user, team_id, "manage_members")
    if role in TEAM_ROLES and not may_assign(session, user, team, role):
        raise AccountError("role", gettext_noop("only an owner can invite another owner"))
    require(session, team, billing, "member")
    invitation, token = teams.invite(session, user, team, email, role)
    return invitation, token, quoted(team.name)


async def team_invite(request: Request) -> Response:
    user = await require_user(request)
    form = await read_form(request)
    team_id, email, role = _id(request, "team_id"), text(form, "email", 400), text(form, "role", 20)
    keys, wait = _invitation_wait(request, user, email)
    try:
        if wait:
            raise AccountError("email", refusal(wait))
        invitation, token, what = await in_session(
            request, _invite, user, team_id, email, role, billing_of(request)
        )
    except (AccountError, PlanLimitError) as exc:
        page = await team_page(
            request,
            {"errors": {exc.field: exc.problem}, "values": {"email": email, "role": role}},
            429 if wait else getattr(exc, "status", 400),
        )
        return retry_after(page, wait) if wait else page
    mail_limiter(request).sent(keys)
    settings: Settings = request.app.state.settings
    response = RedirectResponse(f"/teams/{team_id}?notice=invited", 303)
    locale = await in_session(request, saved_locale, invitation.email)
    response.background = in_background(
        settings, _invitation_mail(settings, user, invitation, token, what, locale)
    )
    return response


def _member_action(
    session: Session, user: User, team_id: int, member_id: int, action: str, role: str
) -> None:
    team = team_for(session, user, team_id, "manage_members")
    membership = teams.membership_of(session, team, member_id)
    if membership is None:
        raise HTTPException(404, "no such member")
    if not may_assign(session, user, team, membership.role):
        raise AccountError("member", gettext_noop("only an owner can change an owner"))
    if action == "remove":
        teams.remove_member(session, team, membership)
        return
    if not may_assign(session, user, team, role):
        raise AccountError("role", gettext_noop("only an owner can make someone owner"))
    teams.change_role(session, team, membership, role)


async def member_role(request: Request) -> Response:
    user = await require_user(request)
    form = await read_form(request)
    return await _member(request, user, "role", text(form, "role", 20), "role-changed")


async def member_remove(request: Request) -> Response:
    user = await require_user(request)
    await read_form(request)
    return await _member(request, user, "remove", "", "member-removed")


async def _member(request: Request, user: User, action: str, role: str, notice: str) -> Response:
    team_id = _id(request, "team_id")
    try:
        await in_session(
            request, _member_action, user, team_id, _id(request, "user_id"), action, role
        )
    except AccountError as exc:
        return await team_page(request, {"errors": {"member": exc.problem}}, 400)
    return RedirectResponse(f"/teams/{team_id}?notice={notice}", 303)


async def team_invitation_revoke(request: Request) -> Response:
    user = await require_user(request)
    await read_form(request)
    team_id, invitation_id = _id(request, "team_id"), _id(request, "invitation_id")

    def revoke(session: Session) -> None:
        teams.revoke_invitation(
            session, team_for(session, user, team_id, "manage_members"), invitation_id
        )

    await in_session(request, revoke)
    return RedirectResponse(f"/teams/{team_id}?notice=invitation-revoked", 303)


async def team_settings(request: Request) -> Response:
    user = await require_user(request)
    form = await read_form(request)
    team_id, name, require_2fa = (
        _id(request, "team_id"),
        text(form, "name", 300),
        checked(form, "require_2fa"),
    )

    def save(session: Session) -> None:
        teams.save_team_settings(
            session, team_for(session, user, team_id, "manage_team"), name, require_2fa
        )

    try:
        await in_session(request, save)
    except AccountError as exc:
        return await team_page(request, {"errors": {exc.field: exc.problem}}, 400)
    return RedirectResponse(f"/teams/{team_id}?notice=saved", 303)


# --- Site guests ------------------------------------------------------------------------


def _access_context(session: Session, user: User, domain: str) -> dict[str, Any]:
    site = site_for(session, user, domain, "manage_members")
    team = teams.team_of_site(session, site)
    return {
        "site": site,
        "team": team,
        "guests": teams.guests(session, site),
        "invitations": teams.pending_invitations(session, team, site) if team else [],
    }


async def access_page(
    request: Request, extra: dict[str, Any] | None = None, status: int = 200
) -> Response:
    user = await require_user(request)
    context = await in_session(request, _access_context, user, request.path_params["domain"])
    return await render(
        request, "site_access.html", {"nav": "sites", **context, **(extra or {})}, status=status
    )


async def access_view(request: Request) -> Response:
    return await access_page(request)


def _invite_guest(
    session: Session, user: User, domain: str, email: str, role: str
) -> tuple[Invitation, str, str]:
    site = site_for(session, user, domain, "manage_members")
    team = teams.team_of_site(session, site)
    if team is None:
        raise AccountError(
            "email", gettext_noop("this site belongs to no team; edit it once to move it into one")
        )
    invitation, token = teams.invite(session, user, team, email, role, site=site)
    return invitation, token, quoted(site.domain)


async def guest_invite(request: Request) -> Response:
    user = await require_user(request)
    form = await read_form(request)
    domain, email, role = (
        request.path_params["domain"],
        text(form, "email", 400),
        text(form, "role", 20),
    )
    keys, wait = _invitation_wait(request, user, email)
    try:
        if wait:
            raise AccountError("email", refusal(wait))
        invitation, token, what = await in_session(
            request, _invite_guest, user, domain, email, role
        )
    except AccountError as exc:
        page = await access_page(
            request,
            {"errors": {exc.field: exc.problem}, "values": {"email": email}},
            429 if wait else 400,
        )
        return retry_after(page, wait) if wait else page
    mail_limiter(request).sent(keys)
    settings: Settings = request.app.state.settings
    response = RedirectResponse(f"/sites/{domain}/access?notice=invited", 303)
    locale = await in_session(request, saved_locale, invitation.email)
    response.background = in_background(
        settings, _invitation_mail(settings, user, invitation, token, what, locale)
    )
    return response


async def guest_remove(request: Request) -> Response:
    user = await require_user(request)
    await read_form(request)
    domain, guest_id = request.path_params["domain"], _id(request, "user_id")

    def remove(session: Session) -> None:
        teams.remove_guest(session, site_for(session, user, domain, "manage_members"), guest_id)

    await in_session(request, remove)
    return RedirectResponse(f"/sites/{domain}/access?notice=member-removed", 303)


async def guest_invitation_revoke(request: Request) -> Response:
    user = await require_user(request)
    await read_form(request)
    domain, invitation_id = request.path_params["domain"], _id(request, "invitation_id")

    def revoke(session: Session) -> None:
        site = site_for(session, user, domain, "manage_members")
        teams.revoke_site_invitation(session, site, invitation_id)

    await in_session(request, revoke)
    return RedirectResponse(f"/sites/{domain}/access?notice=invitation-revoked", 303)


# --- Accepting an invitation --------------------------------------------------------------


def _invitation_view(session: Session, token: str) -> dict[str, Any]:
    invitation = teams.find_invitation(session, token)
    return {"invitation": invitation, "what": teams.invited_to(session, invitation)}


async def _invitation_refused(request: Request, exc: teams.InvitationError) -> Response:
    context = {"title": gettext_noop("Invitation"), "message": str(exc), "href": "/sites"}
    return await render(
        request, "message.html", {**context, "action": gettext_noop("Go to your sites")}, status=400
    )


async def invitation_page(request: Request) -> Response:
    token = request.path_params["token"]
    try:
        context = await in_session(request, _invitation_view, token)
    except teams.InvitationError as exc:
        return await _invitation_refused(request, exc)
    user = await current_user(request)
    return await render(
        request,
        "invitation.html",
        {"token": token, "signed_in_as": user.email if user else None, **context},
    )


async def invitation_accept(request: Request) -> Response:
    user = await require_user(request)
    await read_form(request)
    token = request.path_params["token"]

    def accept(session: Session) -> None:
        teams.accept_invitation(session, teams.find_invitation(session, token), user)

    try:
        await in_session(request, accept)
    except teams.InvitationError as exc:
        return await _invitation_refused(request, exc)
    return RedirectResponse("/sites?notice=joined", 303)


routes: list[BaseRoute] = [
    Route("/teams", teams_page, methods=["GET"]),
    Route("/teams/{team_id}", team_view, methods=["GET"]),
    Route("/teams/{team_id}/settings", team_settings, methods=["POST"]),
    Route("/teams/{team_id}/invitations", team_invite, methods=["POST"]),
    Route(
        "/teams/{team_id}/invitations/{invitation_id}/revoke",
        team_invitation_revoke,
        methods=["POST"],
    ),
    Route("/teams/{team_id}/members/{user_id}/role", member_role, methods=["POST"]),
    Route("/teams/{team_id}/members/{user_id}/remove", member_remove, methods=["POST"]),
    Route("/sites/{domain}/access", access_view, methods=["GET"]),
    Route("/sites/{domain}/guests", guest_invite, methods=["POST"]),
    Route("/sites/{domain}/guests/{user_id}/remove", guest_remove, methods=["POST"]),
    Route(
        "/sites/{domain}/invitations/{invitation_id}/revoke",
        guest_invitation_revoke,
        methods=["POST"],
    ),
    Route("/invitations/{token}", invitation_page, methods=["GET"]),
    Route("/invitations/{token}/accept", invitation_accept, methods=["POST"]),
]
