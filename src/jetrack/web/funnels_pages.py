"""Funnels in the site settings page: create, rename, delete (server-rendered forms)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session
from starlette.datastructures import FormData
from starlette.routing import BaseRoute

from jetrack.sites import funnels
from jetrack.store.models import Site
from jetrack.web.forms import text
from jetrack.web.settings_items import SettingsItems


def _values(form: FormData) -> dict[str, Any]:
    # One picker per step; the empty ones ("no step") are left out, the order kept.
    picked = [value.strip()[:20] for value in form.getlist("step") if isinstance(value, str)]
    return {"funnel_name": text(form, "funnel_name", 300), "steps": picked}


def _create(session: Session, site: Site, values: dict[str, Any]) -> None:
    steps = [value for value in values["steps"] if value]
    funnels.create_funnel(session, site, values["funnel_name"], steps)


FUNNELS = SettingsItems(
    "funnel",
    funnels.FunnelError,
    _values,
    _create,
    funnels.rename_funnel,
    funnels.delete_funnel,
    rename_field="name",
    # The site's own name field is `name` on the same page: this one is funnel_name.
    form_fields=(("name", "funnel_name"),),
    feature=lambda values: "funnels",
)

routes: list[BaseRoute] = FUNNELS.routes()
