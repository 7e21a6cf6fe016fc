"""Sites: list (with each site's visitor trend), add, settings (shields, cookie mode, pause),
snippet builder, installation check, delete."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import lru_cache
from typing import Any
from zoneinfo import available_timezones

from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from jetrack.accounts.permissions import (
    allowed_actions,
    can,
    site_for,
    site_roles,
    team_for,
    teams_of,
    visible_sites,
)
from jetrack.accounts.teams import personal_team
from jetrack.billing.limits import PlanLimitError, require
from jetrack.config import Settings
from jetrack.i18n.catalogs import gettext_noop
from jetrack.privacy.restriction import reporting_allowed
from jetrack.sites import shields as site_shields
from jetrack.sites.funnels import list_funnels
from jetrack.sites.goals import currencies, list_goals
from jetrack.sites.installation import describe, installation
from jetrack.sites.sites import (
    SiteError,
    add_site,
    delete_site,
    script_url,
    snippet,
    snippet_template,
    update_site,
)
from jetrack.stats.overview import PERIODS, Period, SiteTrend, site_trends
from jetrack.store.events import EventStoreError
from jetrack.store.models import Site, User
from jetrack.web.auth import require_user
from jetrack.web.billing_gate import account_banners, billing_of
from jetrack.web.csrf import read_form
from jetrack.web.db import in_session
from jetrack.web.forms import checked, number, text
from jetrack.web.sparkline import sparkline
from jetrack.web.templating import render
from jetrack.web.tracker_script import EXTENSIONS

# The dashboard of a site (web/dashboard.py, matched after these routes).
DASHBOARD_PATH = "/sites/{domain}"
PERMISSION_FLAGS = (
    "view_stats",
    "view_settings",
    "edit_site",
    "delete_site",
    "manage_members",
    "manage_shared_links",
)


@lru_cache(maxsize=1)
def timezones() -> list[str]:
    return sorted(available_timezones())


def _sites_overview(session: Session, user: User, billing: bool = False) -> dict[str, Any]:
    sites = visible_sites(session, user)
    roles = site_roles(session, user, sites)
    # A team locked over quota shows no figures here either (billing/quota.py).
    banners = account_banners(session, user, billing)
    locked_teams = {banner.team_id for banner in banners if banner.kind == "locked"}
    locked = {site.id for site in sites if site.team_id in locked_teams}
    return {
        "sites": [
            (site, {a: a in allowed_actions(roles[site.id]) for a in PERMISSION_FLAGS})
            for site in sites
        ],
        "can_add": bool(teams_of(session, user, "add_site")),
        "reported": [
            (site_id, zone)
            for site_id, zone in _reported(session, user, sites)
            if site_id not in locked
        ],
        "billing_banners": banners,
    }


def _reported(session: Session, user: User, sites: list[Site]) -> list[tuple[int, str]]:
    """(id, time zone) of the sites whose figures the list may show: not while their owner
    restricts processing (asked once per owner)."""
    by_owner: dict[int, bool] = {}
    for site in sites:
        if site.owner_id not in by_owner:
            by_owner[site.owner_id] = reporting_allowed(session, site, user)
    return [(site.id, site.timezone) for site in sites if by_owner[site.owner_id]]


async def _trends(
    request: Request, sites: list[tuple[int, str]], period: Period
) -> dict[int, SiteTrend] | None:
    """All the sites' visitor trends from one event-store statement; None if it failed."""
    stores = request.app.state.stores
    try:
        return await run_in_threadpool(site_trends, stores.events, sites, period, datetime.now(UTC))
    except EventStoreError:
        return None


async def sites_page(request: Request) -> Response:
    user = await require_user(request)
    period = request.query_params.get("period", "24h")
    if period not in PERIODS:
        raise HTTPException(400, "period: must be 24h or 7d")
    context = await in_session(request, _sites_overview, user, billing_of(request))
    trends = await _trends(request, context["reported"], period)
    lines = {site_id: sparkline(trend.series) for site_id, trend in (trends or {}).items()}
    extra = {"period": period, "trends": trends, "sparklines": lines}
    return await render(
        request, "sites.html", {"nav": "sites", "dashboard": DASHBOARD_PATH, **context, **extra}
    )


async def sites_api(request: Request) -> Response:
    """The sites the signed-in account may see, with what it may do to each."""
    user = await require_user(request)
    context = await in_session(request, _sites_overview, user)
    body = [
        {
            "domain": site.domain,
            "name": site.name,
            "timezone": site.timezone,
            "paused": site.paused,
            "permissions": flags,
        }
        for site, flags in context["sites"]
    ]
    return JSONResponse({"sites": body}, headers={"Cache-Control": "no-store"})


async def _new_site_form(
    request: Request, user: User, extra: dict[str, Any], status: int = 200
) -> Response:
    teams = await in_session(request, teams_of, user, "add_site")
    context = {"nav": "sites", "teams": teams, "timezones": timezones(), **extra}
    return await render(request, "site_new.html", context, status=status)


async def new_site_page(request: Request) -> Response:
    user = await require_user(request)
    return await _new_site_form(request, user, {"values": {"timezone": "UTC"}})


def _add(session: Session, user: User, values: dict[str, str], billing: bool) -> Site:
    team_id = number(values["team_id"])
    team = team_for(session, user, team_id, "add_site") if team_id is not None else None
    require(session, team or personal_team(session, user), billing, "site")
    return add_site(
        session, user, values["domain"], timezone=values["timezone"], name=values["name"], team=team
    )


async def new_site_submit(request: Request) -> Response:
    user = await require_user(request)
    form = await read_form(request)
    values = {k: text(form, k, 300) for k in ("domain", "name", "timezone", "team_id")}
    try:
        site = await in_session(request, _add, user, values, billing_of(request))
    except SiteError as exc:
        return await _new_site_form(request, user, {"errors": exc.errors, "values": values}, 400)
    except PlanLimitError as exc:
        extra = {
            "errors": {"domain": exc.problem},
            "values": values,
            "upgrade_url": exc.upgrade_url,
        }
        return await _new_site_form(request, user, extra, exc.status)
    return RedirectResponse(f"/sites/{site.domain}/settings?notice=site-added", 303)


def _settings_context(session: Session, user: User, domain: str) -> dict[str, Any]:
    site = site_for(session, user, domain, "view_settings")
    flags = {a: can(session, user, a, site) for a in (*PERMISSION_FLAGS, "manage_imports")}
    return {
        "site": site,
        "may": flags,
        "goals": list_goals(session, site),
        "funnels": list_funnels(session, site),
        "currencies": sorted(currencies().items()),
    }


async def _settings_form(
    request: Request, extra: dict[str, Any] | None = None, status: int = 200
) -> Response:
    user = await require_user(request)
    settings: Settings = request.app.state.settings
    context = await in_session(request, _settings_context, user, request.path_params["domain"])
    site: Site = context["site"]
    context.update(
        nav="sites",
        snippet=snippet(site, settings.base_url),
        script_url=script_url(site, settings.base_url),
        # The snippet builder: the tag to fill, where the variants are, their name order.
        snippet_template=snippet_template(site),
        scripts_url=settings.base_url.rstrip("/") + "/js/",
        extensions=" ".join(EXTENSIONS),
        shields=site_shields.shields_as_text(site.shields or {}),
        timezones=timezones(),
        dashboard=DASHBOARD_PATH.format(domain=site.domain),
        installation=await _installation_message(request, site),
    )
    context.update(extra or {})
    return await render(request, "site_settings.html", context, status=status)


async def settings_page(request: Request) -> Response:
    return await _settings_form(request)


async def settings_with(request: Request, extra: dict[str, Any], status: int) -> Response:
    """The settings page with `extra` context (e.g. a goal form's errors) and `status`."""
    return await _settings_form(request, extra, status)


def _update(session: Session, user: User, domain: str, values: dict[str, Any]) -> None:
    site = site_for(session, user, domain, "edit_site")
    errors: dict[str, str] = {}
    shields: dict[str, Any] = {}
    try:
        shields = site_shields.parse_shields(values["shields"])
    except site_shields.ShieldErrors as exc:
        errors.update(exc.errors)
    try:
        update_site(
            session,
            site,
            name=values["name"],
            timezone=values["timezone"],
            paused=values["paused"],
            cookie_mode=values["cookie_mode"],
            shields=shields or site.shields,
        )
    except SiteError as exc:
        errors.update(exc.errors)
    if errors:
        raise SiteError(next(iter(errors)), gettext_noop("invalid settings"), errors)


async def settings_submit(request: Request) -> Response:
    user = await require_user(request)
    form = await read_form(request)
    domain = request.path_params["domain"]
    values: dict[str, Any] = {
        "name": text(form, "name", 300),
        "timezone": text(form, "timezone", 100),
        "paused": checked(form, "paused"),
        "cookie_mode": checked(form, "cookie_mode"),
        "shields": {key: text(form, key, 20_000) for key in site_shields.SHIELD_KEYS},
    }
    try:
        await in_session(request, _update, user, domain, values)
    except SiteError as exc:
        # Show what was typed, with a message at each bad field; nothing was saved.
        typed = {"shields": values["shields"], "errors": exc.errors, "values": values}
        return await _settings_form(request, typed, 400)
    return RedirectResponse(f"/sites/{domain}/settings?notice=saved", 303)


async def _installation_message(request: Request, site: Site) -> dict[str, str] | None:
    found = await installation(request.app.state.stores, site)
    return (
        None if found is None else {"status": found.status, "message": describe(found, site.domain)}
    )


async def installation_api(request: Request) -> Response:
    """Has the snippet sent an event yet? For the settings page's check button."""
    user = await require_user(request)
    site = await in_session(request, site_for, user, request.path_params["domain"], "view_settings")
    found = await installation(request.app.state.stores, site)
    if found is None:
        return JSONResponse(
            {"error": "the event store is not answering; try again"}, status_code=503
        )
    body = {
        "installed": found.status == "installed",
        "status": found.status,
        "events": found.events,
        "hostnames": list(found.hostnames),
        "message": describe(found, site.domain),
    }
    return JSONResponse(body, headers={"Cache-Control": "no-store"})


async def delete_page(request: Request) -> Response:
    user = await require_user(request)
    site = await in_session(request, site_for, user, request.path_params["domain"], "delete_site")
    return await render(request, "site_delete.html", {"nav": "sites", "site": site})


def _delete(session: Session, user: User, domain: str, typed: str) -> None:
    site = site_for(session, user, domain, "delete_site")
    if typed.strip().lower() != site.domain:
        raise SiteError(
            "confirm", gettext_noop("type {domain} to confirm"), domain=str(site.domain)
        )
    delete_site(session, site)


async def delete_submit(request: Request) -> Response:
    user = await require_user(request)
    form = await read_form(request)
    domain = request.path_params["domain"]
    try:
        await in_session(request, _delete, user, domain, text(form, "confirm", 300))
    except SiteError as exc:
        site = await in_session(request, site_for, user, domain, "delete_site")
        return await render(
            request,
            "site_delete.html",
            {"nav": "sites", "site": site, "errors": exc.errors},
            status=400,
        )
    return RedirectResponse("/sites?notice=site-deleted", 303)


routes: list[BaseRoute] = [
    Route("/sites", sites_page, methods=["GET"]),
    Route("/api/sites", sites_api, methods=["GET"]),
    Route("/sites/new", new_site_page, methods=["GET"]),
    Route("/sites/new", new_site_submit, methods=["POST"]),
    Route("/sites/{domain}/settings", settings_page, methods=["GET"]),
    Route("/sites/{domain}/settings", settings_submit, methods=["POST"]),
    Route("/api/sites/{domain}/installation", installation_api, methods=["GET"]),
    Route("/sites/{domain}/delete", delete_page, methods=["GET"]),
    Route("/sites/{domain}/delete", delete_submit, methods=["POST"]),
]
