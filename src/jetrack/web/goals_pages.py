"""Goals in the site settings page: create, rename, delete (server-rendered forms)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session
from starlette.datastructures import FormData
from starlette.routing import BaseRoute

from jetrack.sites import goals
from jetrack.store.models import Site
from jetrack.web.forms import text
from jetrack.web.settings_items import SettingsItems

GOAL_FIELDS = (
    "goal_type", "event_name", "page_path", "display_name", "prop_key", "prop_value", "currency",
)  # fmt: skip


def _values(form: FormData) -> dict[str, str]:
    return {name: text(form, name, 2100) for name in GOAL_FIELDS}


def _create(session: Session, site: Site, values: dict[str, Any]) -> None:
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


GOALS = SettingsItems(
    "goal",
    goals.GoalError,
    _values,
    _create,
    goals.rename_goal,
    goals.delete_goal,
    rename_field="display_name",
    form_fields=(("custom_props", "prop_key"),),
    feature=lambda values: "revenue" if values.get("currency") else None,
)

routes: list[BaseRoute] = GOALS.routes()
