"""Shared links: manage a site's public read-only links; the password form of a protected one.

The shared dashboard itself (`/share/{slug}`) is rendered by web/dashboard.py through
`jetrack.sites.shared_links.resolve_shared_link`.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from jetrack.accounts.permissions import site_for
from jetrack.accounts.throttle import wait_message
from jetrack.accounts.users import AccountError, verify_password
from jetrack.config import Settings
from jetrack.sites import shared_links
from jetrack.store.models import SharedLink, User
from jetrack.web.auth import cookie_secure, require_user
from jetrack.web.csrf import read_form
from jetrack.web.db import in_session
from jetrack.web.forms import client_address, number, secret, text
from jetrack.web.templating import render
from jetrack.web.throttles import retry_after
from jetrack.web.throttles import share as share_throttle


def _links_context(session: Session, user: User, domain: str) -> dict[str, Any]:
    site = site_for(session, user, domain, "manage_shared_links")
    return {"site": site, "links": shared_links.list_shared_links(session, site)}


async def links_page(
    request: Request, extra: dict[str, Any] | None = None, status: int = 200
) -> Response:
    user = await require_user(request)
    settings: Settings = request.app.state.settings
    context = await in_session(request, _links_context, user, request.path_params["domain"])
    context.update(nav="sites", base_url=settings.base_url.rstrip("/"), **(extra or {}))
    return await render(request, "shared_links.html", context, status=status)


async def links_view(request: Request) -> Response:
    return await links_page(request)


async def link_create(request: Request) -> Response:
    user = await require_user(request)
    form = await read_form(request)
    domain, name = request.path_params["domain"], text(form, "name", 300)
    origins = text(form, "embed_origins", 4000)

    def create(session: Session) -> None:
        site = site_for(session, user, domain, "manage_shared_links")
        shared_links.create_shared_link(session, site, name, secret(form, "password"), origins)

    try:
        await in_session(request, create)
    except AccountError as exc:
        values = {"name": name, "embed_origins": origins}
        return await links_page(
            request, {"errors": {exc.field: exc.problem}, "values": values}, 400
        )
    return RedirectResponse(f"/sites/{domain}/shared-links?notice=link-created", 303)


async def link_revoke(request: Request) -> Response:
    user = await require_user(request)
    await read_form(request)
    domain, link_id = request.path_params["domain"], number(request.path_params["link_id"])

    def revoke(session: Session) -> None:
        site = site_for(session, user, domain, "manage_shared_links")
        if link_id is not None:
            shared_links.revoke_shared_link(session, site, link_id)

    await in_session(request, revoke)
    return RedirectResponse(f"/sites/{domain}/shared-links?notice=link-revoked", 303)


async def link_embedding(request: Request) -> Response:
    """Replace the origins whose pages may frame the link."""
    user = await require_user(request)
    form = await read_form(request)
    domain, link_id = request.path_params["domain"], number(request.path_params["link_id"])
    origins = text(form, "embed_origins", 4000)

    def update(session: Session) -> None:
        site = site_for(session, user, domain, "manage_shared_links")
        if link_id is not None:
            shared_links.set_embed_origins(session, site, link_id, origins)

    try:
        await in_session(request, update)
    except AccountError as exc:
        return await links_page(request, {"errors": {f"{exc.field}-{link_id}": exc.problem}}, 400)
    return RedirectResponse(f"/sites/{domain}/shared-links?notice=saved", 303)


def _protected_link(session: Session, slug: str) -> SharedLink:
    link = shared_links.find_shared_link(session, slug)
    if link is None or link.password_hash is None:
        raise HTTPException(404, "no such shared link")
    return link


async def password_page(request: Request) -> Response:
    await in_session(request, _protected_link, request.path_params["slug"])
    return await render(request, "share_password.html", {"slug": request.path_params["slug"]})


def _check_password(session: Session, slug: str, password: str) -> tuple[str, str] | None:
    link = _protected_link(session, slug)
    probe = User(password_hash=link.password_hash)
    if not verify_password(probe, password):
        return None
    return shared_links.cookie_name(link), shared_links.access_cookie_value(session, link)


async def password_submit(request: Request) -> Response:
    form = await read_form(request)
    slug = request.path_params["slug"]
    throttle, client = share_throttle(request), client_address(request)
    wait = throttle.retry_after(slug, client)
    if wait:
        errors = {"password": wait_message(wait)}
        page = await render(
            request, "share_password.html", {"slug": slug, "errors": errors}, status=429
        )
        return retry_after(page, wait)
    cookie = await in_session(request, _check_password, slug, secret(form, "password"))
    if cookie is None:
        throttle.failed(slug, client)
        errors = {"password": "This password is not right."}
        return await render(
            request, "share_password.html", {"slug": slug, "errors": errors}, status=400
        )
    throttle.succeeded(slug, client)
    response = RedirectResponse(f"/share/{slug}", 303)
    name, value = cookie
    response.set_cookie(
        name,
        value,
        max_age=shared_links.ACCESS_SECONDS,
        path="/",
        secure=cookie_secure(request),
        httponly=True,
        samesite="lax",
    )
    return response


routes: list[BaseRoute] = [
    Route("/sites/{domain}/shared-links", links_view, methods=["GET"]),
    Route("/sites/{domain}/shared-links", link_create, methods=["POST"]),
    Route("/sites/{domain}/shared-links/{link_id}/revoke", link_revoke, methods=["POST"]),
    Route("/sites/{domain}/shared-links/{link_id}/embedding", link_embedding, methods=["POST"]),
    Route("/share/{slug}/password", password_page, methods=["GET"]),
    Route("/share/{slug}/password", password_submit, methods=["POST"]),
]
