"""The create, rename and delete forms of a kind of item listed in a site's settings page
(goals, funnels): read the form, act on the site as its editor, then back to the settings
with a notice, or the settings again with the errors (400)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from jetrack.accounts.permissions import site_for
from jetrack.billing.limits import Ask, PlanLimitError, require
from jetrack.i18n.errors import FieldError
from jetrack.store.models import Site
from jetrack.web.auth import require_user
from jetrack.web.billing_gate import billing_of
from jetrack.web.csrf import read_form
from jetrack.web.db import in_session
from jetrack.web.forms import number, text
from jetrack.web.sites_pages import settings_with


@dataclass(frozen=True, slots=True)
class SettingsItems:
    kind: str  # "goal": /sites/{domain}/goals, notices goal-added..., #goals, goal_errors
    error: type[FieldError]  # the domain's error (goals, funnels...)
    read: Callable[[FormData], dict[str, Any]]  # the create form's values, shown back on errors
    create: Callable[[Session, Site, dict[str, Any]], object]
    rename: Callable[[Session, Site, int, str], object]
    delete: Callable[[Session, Site, int], object]
    rename_field: str  # the rename form's name field
    # The create form's field for a domain field, where the page names it otherwise.
    form_fields: tuple[tuple[str, str], ...] = ()
    # The plan's feature a new item of these values uses, if any (billing/limits.py).
    feature: Callable[[dict[str, Any]], Ask | None] = lambda values: None

    def back(self, domain: str, notice: str) -> Response:
        return RedirectResponse(
            f"/sites/{domain}/settings?notice={self.kind}-{notice}#{self.kind}s", 303
        )

    async def errors(
        self, request: Request, errors: dict[str, str], values: dict[str, Any], status: int = 400
    ) -> Response:
        extra = {f"{self.kind}_errors": errors, f"{self.kind}_values": values}
        return await settings_with(request, extra, status)

    async def create_form(self, request: Request) -> Response:
        user = await require_user(request)
        form = await read_form(request)
        domain, values = request.path_params["domain"], self.read(form)
        billing = billing_of(request)

        def create(session: Session) -> None:
            site = site_for(session, user, domain, "edit_site")
            feature = self.feature(values)
            if feature is not None and site.team is not None:
                require(session, site.team, billing, feature)
            self.create(session, site, values)

        try:
            await in_session(request, create)
        except PlanLimitError as exc:
            return await self.errors(request, {"plan": exc.translated()}, values, exc.status)
        except self.error as exc:
            field = _field(exc)
            field = dict(self.form_fields).get(field, field)
            return await self.errors(request, {field: exc.translated()}, values)
        return self.back(domain, "added")

    async def rename_form(self, request: Request) -> Response:
        user = await require_user(request)
        form = await read_form(request)
        domain, item_id = (
            request.path_params["domain"],
            number(request.path_params[f"{self.kind}_id"]),
        )
        name = text(form, self.rename_field, 300)

        def rename(session: Session) -> None:
            self.rename(session, site_for(session, user, domain, "edit_site"), item_id or 0, name)

        try:
            await in_session(request, rename)
        except self.error as exc:
            key = f"rename-{item_id}"
            return await self.errors(request, {key: exc.translated()}, {key: name})
        return self.back(domain, "renamed")

    async def delete_form(self, request: Request) -> Response:
        user = await require_user(request)
        await read_form(request)
        domain, item_id = (
            request.path_params["domain"],
            number(request.path_params[f"{self.kind}_id"]),
        )

        def delete(session: Session) -> None:
            self.delete(session, site_for(session, user, domain, "edit_site"), item_id or 0)

        await in_session(request, delete)
        return self.back(domain, "deleted")

    def routes(self) -> list[BaseRoute]:
        base = f"/sites/{{domain}}/{self.kind}s"
        item = f"{base}/{{{self.kind}_id}}"
        return [
            Route(base, self.create_form, methods=["POST"]),
            Route(f"{item}/rename", self.rename_form, methods=["POST"]),
            Route(f"{item}/delete", self.delete_form, methods=["POST"]),
        ]


def _field(exc: Exception) -> str:
    field: str = getattr(exc, "field", "")
    return field
