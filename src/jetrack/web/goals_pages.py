"""Goals in the site settings page: create, rename, delete (server-rendered forms)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from jetrack.accounts.permissions import site_for
from jetrack.sites import goals
from jetrack.store.models import User
from jetrack.web.auth import require_user
from jetrack.web.csrf import read_form
from jetrack.web.db import in_session
from jetrack.web.forms import number, text
from jetrack.web.sites_pages import settings_with

GOAL_FIELDS = (
    "goal_type", "event_name", "page_path", "display_name", "prop_key", "prop_value", "currency",
)  # fmt: skip


def _values(form: FormData) -> dict[str, str]:
    return {name: text(form, name, 2100) for name in GOAL_FIELDS}


def _create(session: Session, user: User, domain: str, values: dict[str, str]) -> None:
    site = site_for(session, user, domain, "edit_site")
    key = values["prop_key"].strip()
    if values["prop_value"] and not key:
        raise goals.GoalError("prop_key", "name the property the value belongs to")
    spec = goals.goal_spec(
        values["goal_type"],
        event_name=values["event_name"],
        page_path=values["page_path"],
        custom_props={key: values["prop_value"]} if key else None,
        display_name=values["display_name"] or None,
        currency=values["currency"] or None,
    )
    goals.create_goal(session, site, spec)


async def goal_create(request: Request) -> Response:
    user = await require_user(request)
    form = await read_form(request)
    domain, values = request.path_params["domain"], _values(form)
    try:
        await in_session(request, _create, user, domain, values)
    except goals.GoalError as exc:
        field = "prop_key" if exc.field == "custom_props" else exc.field
        return await _goal_errors(request, {field: str(exc)}, values)
    return RedirectResponse(f"/sites/{domain}/settings?notice=goal-added#goals", 303)


async def _goal_errors(
    request: Request, errors: dict[str, str], values: dict[str, Any]
) -> Response:
    extra = {"goal_errors": errors, "goal_values": values}
    return await settings_with(request, extra, 400)


async def goal_rename(request: Request) -> Response:
    user = await require_user(request)
    form = await read_form(request)
    domain, goal_id = request.path_params["domain"], number(request.path_params["goal_id"])
    name = text(form, "display_name", 300)

    def rename(session: Session) -> None:
        site = site_for(session, user, domain, "edit_site")
        goals.rename_goal(session, site, goal_id or 0, name)

    try:
        await in_session(request, rename)
    except goals.GoalError as exc:
        errors = {f"rename-{goal_id}": str(exc)}
        return await _goal_errors(request, errors, {f"rename-{goal_id}": name})
    return RedirectResponse(f"/sites/{domain}/settings?notice=goal-renamed#goals", 303)


async def goal_delete(request: Request) -> Response:
    user = await require_user(request)
    await read_form(request)
    domain, goal_id = request.path_params["domain"], number(request.path_params["goal_id"])

    def delete(session: Session) -> None:
        site = site_for(session, user, domain, "edit_site")
        goals.delete_goal(session, site, goal_id or 0)

    await in_session(request, delete)
    return RedirectResponse(f"/sites/{domain}/settings?notice=goal-deleted#goals", 303)


routes: list[BaseRoute] = [
    Route("/sites/{domain}/goals", goal_create, methods=["POST"]),
    Route("/sites/{domain}/goals/{goal_id}/rename", goal_rename, methods=["POST"]),
    Route("/sites/{domain}/goals/{goal_id}/delete", goal_delete, methods=["POST"]),
]
