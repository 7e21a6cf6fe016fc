"""Funnels in the site settings page: create, rename, delete (server-rendered forms)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from jetrack.accounts.permissions import site_for
from jetrack.sites import funnels
from jetrack.store.models import User
from jetrack.web.auth import require_user
from jetrack.web.csrf import read_form
from jetrack.web.db import in_session
from jetrack.web.forms import number, text
from jetrack.web.sites_pages import settings_with


def _create(session: Session, user: User, domain: str, name: str, steps: list[str]) -> None:
    site = site_for(session, user, domain, "edit_site")
    funnels.create_funnel(session, site, name, steps)


async def funnel_create(request: Request) -> Response:
    user = await require_user(request)
    form = await read_form(request)
    domain, name = request.path_params["domain"], text(form, "funnel_name", 300)
    # One picker per step; the empty ones ("no step") are left out, the order kept.
    picked = [value.strip()[:20] for value in form.getlist("step") if isinstance(value, str)]
    steps = [value for value in picked if value]
    try:
        await in_session(request, _create, user, domain, name, steps)
    except funnels.FunnelError as exc:
        # The site's own name field is `name` on the same page: this one is funnel_name.
        field = "funnel_name" if exc.field == "name" else exc.field
        values = {"funnel_name": name, "steps": picked}
        return await _funnel_errors(request, {field: str(exc)}, values)
    return RedirectResponse(f"/sites/{domain}/settings?notice=funnel-added#funnels", 303)


async def _funnel_errors(
    request: Request, errors: dict[str, str], values: dict[str, Any]
) -> Response:
    extra = {"funnel_errors": errors, "funnel_values": values}
    return await settings_with(request, extra, 400)


async def funnel_rename(request: Request) -> Response:
    user = await require_user(request)
    form = await read_form(request)
    domain, funnel_id = request.path_params["domain"], number(request.path_params["funnel_id"])
    name = text(form, "name", 300)

    def rename(session: Session) -> None:
        site = site_for(session, user, domain, "edit_site")
        funnels.rename_funnel(session, site, funnel_id or 0, name)

    try:
        await in_session(request, rename)
    except funnels.FunnelError as exc:
        errors = {f"rename-{funnel_id}": str(exc)}
        return await _funnel_errors(request, errors, {f"rename-{funnel_id}": name})
    return RedirectResponse(f"/sites/{domain}/settings?notice=funnel-renamed#funnels", 303)


async def funnel_delete(request: Request) -> Response:
    user = await require_user(request)
    await read_form(request)
    domain, funnel_id = request.path_params["domain"], number(request.path_params["funnel_id"])

    def delete(session: Session) -> None:
        site = site_for(session, user, domain, "edit_site")
        funnels.delete_funnel(session, site, funnel_id or 0)

    await in_session(request, delete)
    return RedirectResponse(f"/sites/{domain}/settings?notice=funnel-deleted#funnels", 303)


routes: list[BaseRoute] = [
    Route("/sites/{domain}/funnels", funnel_create, methods=["POST"]),
    Route("/sites/{domain}/funnels/{funnel_id}/rename", funnel_rename, methods=["POST"]),
    Route("/sites/{domain}/funnels/{funnel_id}/delete", funnel_delete, methods=["POST"]),
]
