"""A team's plan and billing: the plans page, checkout and portal redirects, switching
between paid plans, cancelling at the period's end, and the payment provider's webhook. All of it answers 404 with billing
off (JETRACK_BILLING unset)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from jetrack.accounts.permissions import can, team_for
from jetrack.billing import checkout, provider, webhooks
from jetrack.billing.checkout import BillingRefused, Buyer
from jetrack.billing.plans import FEATURES, PLANS, Plan, effective_plan
from jetrack.billing.subscriptions import billing_of
from jetrack.config import Settings
from jetrack.i18n.catalogs import gettext_noop
from jetrack.store.control import ControlStore
from jetrack.store.models import TeamBilling, User, utcnow
from jetrack.store.stores import Stores
from jetrack.web.auth import require_user
from jetrack.web.csrf import read_form
from jetrack.web.db import in_session
from jetrack.web.forms import number, text
from jetrack.web.security_headers import allow_form_targets
from jetrack.web.templating import render

log = logging.getLogger("jetrack.billing")

FEATURE_LABELS = {
    "funnels": gettext_noop("Funnels"),
    "revenue": gettext_noop("Revenue goals"),
    "stats_api": gettext_noop("Stats API"),
    "imports": gettext_noop("Imports of other tools' data"),
}
STATUS_LABELS = {
    "trialing": gettext_noop("trial"),
    "active": gettext_noop("active"),
    "past_due": gettext_noop("payment failed"),
    "unpaid": gettext_noop("unpaid"),
    "canceled": gettext_noop("cancelled"),
    "incomplete": gettext_noop("waiting for the first payment"),
    "incomplete_expired": gettext_noop("first payment failed"),
    "paused": gettext_noop("paused"),
}
UNAVAILABLE = gettext_noop(
    "The payment provider could not be reached. Nothing was changed; please try again in a"
    " few minutes."
)


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    if not settings.billing:
        raise HTTPException(404, "not found")
    return settings


def _team_id(request: Request) -> int:
    value = number(request.path_params["team_id"])
    if value is None:
        raise HTTPException(404, "not found")
    return value


@dataclass(frozen=True, slots=True)
class PlansView:
    team_id: int
    team_name: str
    plan: Plan
    billing: TeamBilling | None
    may_manage: bool


def _plans_view(session: Session, user: User, team_id: int) -> PlansView:
    team = team_for(session, user, team_id, "view_plan")
    return PlansView(
        team.id,
        team.name,
        effective_plan(True, team.plan),
        billing_of(session, team.id),
        can(session, user, "manage_billing", team),
    )


async def plans_page(
    request: Request, extra: dict[str, Any] | None = None, status: int = 200
) -> Response:
    settings = _settings(request)
    user = await require_user(request)
    view = await in_session(request, _plans_view, user, _team_id(request))
    if view.may_manage:
        allow_form_targets(request, provider.page_sources(settings))
    context = {
        "nav": "teams",
        "view": view,
        "plans": list(PLANS.values()),
        "plans_by_key": PLANS,
        "features": FEATURES,
        "feature_labels": FEATURE_LABELS,
        "status_labels": STATUS_LABELS,
        **(extra or {}),
    }
    return await render(request, "billing_plans.html", context, status=status)


async def plans_view(request: Request) -> Response:
    return await plans_page(request)


def _buyer(session: Session, user: User, team_id: int) -> Buyer:
    team = team_for(session, user, team_id, "manage_billing")
    return Buyer(team.id, team.name, user.email)


async def _refused(request: Request, problem: str, status: int) -> Response:
    return await plans_page(request, {"problem": problem}, status)


# What an owner's billing button does: the address to send the browser to (a page of the
# provider, or back to the plans page with a notice); BillingRefused when it cannot.
OwnerAction = Callable[[ControlStore, Settings, Buyer, FormData], str]


async def _owner_action(request: Request, action: OwnerAction) -> Response:
    settings = _settings(request)
    user = await require_user(request)
    form = await read_form(request)
    buyer = await in_session(request, _buyer, user, _team_id(request))
    stores: Stores = request.app.state.stores
    try:
        location = await run_in_threadpool(action, stores.control, settings, buyer, form)
    except BillingRefused as exc:
        return await _refused(request, exc.problem, 400)
    except provider.BillingUnavailable as exc:
        log.warning("billing: %s not done (%s)", action.__name__, exc)
        return await _refused(request, UNAVAILABLE, 503)
    return RedirectResponse(location, 303)


def _checkout(control: ControlStore, settings: Settings, buyer: Buyer, form: FormData) -> str:
    plan, interval = text(form, "plan", 32), text(form, "interval", 8)
    return checkout.start_checkout(control, settings, buyer, plan, interval)


def _portal(control: ControlStore, settings: Settings, buyer: Buyer, form: FormData) -> str:
    return checkout.open_portal(control, settings, buyer.team_id)


def _cancel(control: ControlStore, settings: Settings, buyer: Buyer, form: FormData) -> str:
    """`at_period_end=1`: cancel when the paid period ends; `0`: keep the subscription."""
    choice = text(form, "at_period_end", 2)
    if choice not in ("0", "1"):
        raise BillingRefused(gettext_noop("at_period_end must be 1 or 0"))
    checkout.cancel_at_period_end(control, settings, buyer.team_id, choice == "1", utcnow())
    notice = "billing-cancelled" if choice == "1" else "billing-resumed"
    return f"/billing/teams/{buyer.team_id}?notice={notice}"


def _switch(control: ControlStore, settings: Settings, buyer: Buyer, form: FormData) -> str:
    """`plan`: the paid plan to switch to (now if dearer, else at the renewal)."""
    plan = text(form, "plan", 32)
    notice = checkout.switch_plan(control, settings, buyer.team_id, plan, utcnow())
    return f"/billing/teams/{buyer.team_id}?notice={notice}"


async def checkout_start(request: Request) -> Response:
    return await _owner_action(request, _checkout)


async def portal_open(request: Request) -> Response:
    return await _owner_action(request, _portal)


async def cancellation(request: Request) -> Response:
    return await _owner_action(request, _cancel)


async def plan_switch(request: Request) -> Response:
    return await _owner_action(request, _switch)


async def webhook(request: Request) -> Response:
    """The provider's events: no session, no CSRF; the signature over the raw body is the
    only proof (policy: a 64 KB body cap, read before anything else)."""
    settings = _settings(request)
    payload = await request.body()
    try:
        event = provider.verified_event(
            settings, payload, request.headers.get("stripe-signature", "")
        )
    except provider.BadSignature as exc:
        return JSONResponse({"error": f"bad Stripe-Signature: {exc}"}, status_code=400)
    stores: Stores = request.app.state.stores
    try:
        outcome = await run_in_threadpool(
            webhooks.handle, stores.control, settings, event, utcnow()
        )
    except provider.BillingUnavailable as exc:
        # The provider retries a failed delivery: the state is read again then.
        log.warning("billing: webhook %s not applied (%s)", event.type, exc)
        return JSONResponse({"error": "the subscription could not be read; retry"}, status_code=503)
    return JSONResponse({"received": True, "outcome": outcome})


routes: list[BaseRoute] = [
    Route("/billing/webhook", webhook, methods=["POST"]),
    Route("/billing/teams/{team_id}", plans_view, methods=["GET"]),
    Route("/billing/teams/{team_id}/checkout", checkout_start, methods=["POST"]),
    Route("/billing/teams/{team_id}/portal", portal_open, methods=["POST"]),
    Route("/billing/teams/{team_id}/cancel", cancellation, methods=["POST"]),
    Route("/billing/teams/{team_id}/switch", plan_switch, methods=["POST"]),
]
