"""The dashboard: the single-page app's shell pages and the internal query API it calls.

Routes (thin: decode, authorize, call jetrack.stats, encode):
- `GET /`: a signed-in account goes to its first site's dashboard, others to /login.
- `GET /sites/{domain}`: the dashboard of a site the account may view.
- `POST /api/dashboard/{domain}/query`: a Stats API v2 query without `site_id` (session
  cookie + `X-CSRF-Token`), answered by the same engine as `POST /api/v2/query`.
- `POST /api/dashboard/{domain}/property-keys`: `{"date_range": ...}` -> the custom property
  keys seen in that range, most used first (the Properties panel's choices).
- `POST /api/dashboard/{domain}/funnel`: `{"funnel_id", "date_range", "filters"}` -> the
  visitors through a saved funnel's steps (jetrack.stats.funnel; docs/funnels.md).
- `GET /share/{slug}`, `POST /api/share/{slug}/query`, `POST /api/share/{slug}/property-keys`,
  `POST /api/share/{slug}/funnel`: the same, read-only, for a shared link.
The built app comes from `npm --prefix frontend run build` into static/build/dashboard/.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from markupsafe import Markup
from sqlalchemy.orm import Session
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from jetrack.accounts.permissions import can, visible_sites
from jetrack.billing.banners import Banner
from jetrack.config import Settings
from jetrack.i18n.catalogs import current, current_language, gettext
from jetrack.imports.registry import imported_days
from jetrack.privacy.restriction import readable_site, reporting_allowed
from jetrack.privacy.retention import data_available_from
from jetrack.sites import shared_links
from jetrack.sites.funnels import funnel_menu
from jetrack.sites.sites import snippet
from jetrack.stats import exchange_rates
from jetrack.stats.engine import run_query
from jetrack.stats.funnel import funnel_id_of, run_funnel
from jetrack.stats.prop_keys import top_prop_keys
from jetrack.stats.query import SiteInfo
from jetrack.store.events import EventStore, LimitedEventStore, Limits
from jetrack.store.models import Site, User
from jetrack.web.auth import cookie_secure, current_user, require_user, theme_of
from jetrack.web.billing_gate import billing_of, site_banners, site_unlocked
from jetrack.web.csrf import check_csrf, csrf_token
from jetrack.web.db import in_session
from jetrack.web.funnel_lookup import saved_funnel
from jetrack.web.json_io import computed, json_object
from jetrack.web.public_pages import landing
from jetrack.web.security_headers import allow_framing
from jetrack.web.segment_filters import with_segments
from jetrack.web.static_files import FRONTEND_BUILD, FRONTEND_URL, BuiltEntry, built_entry
from jetrack.web.templating import environment as page_environment

BUILD_DIR = FRONTEND_BUILD
ASSETS_URL = FRONTEND_URL
ENTRY = "src/main.tsx"
BUILD_COMMAND = "npm --prefix frontend ci && npm --prefix frontend run build"
# CSP, framing and the referrer policy: web/security_headers.py, for every answer.
HEADERS = {"Cache-Control": "no-store"}

SHELL = page_environment.from_string(
    """<!doctype html>
<html lang="{{ lang }}" data-theme="{{ theme }}">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <meta name="referrer" content="same-origin">
  <meta name="robots" content="noindex">
  <link rel="icon" href="data:,">
  <title>{{ title }} · Jetrack</title>
  <link rel="stylesheet" href="/static/css/jetrack.css">
  {% for href in assets.css %}<link rel="stylesheet" href="{{ href }}">
  {% endfor %}<script type="module" src="{{ assets.script }}"></script>
  <script id="jt-bootstrap" type="application/json">{{ bootstrap }}</script>
  <script id="jt-messages" type="application/json">{{ messages }}</script>
</head>
<body>
  {% if banners %}<div class="jt-dashboard-banners">{% include "_billing_banners.html" %}</div>{% endif %}
  <div id="jt-dashboard"><noscript>{{ needs_javascript }}</noscript></div>
</body>
</html>
"""
)


def built_assets() -> BuiltEntry:
    """The hashed entry files of the current build (re-read when the build changes)."""
    found = built_entry(ENTRY, BUILD_DIR, ASSETS_URL)
    if found is None:
        raise HTTPException(503, f"the dashboard is not built; run `{BUILD_COMMAND}` and reload")
    return found


def _json_for_html(data: dict[str, Any] | dict[str, list[str]]) -> Markup:
    # Inside <script>, "</script>" or "<!--" in a value must not end the element.
    text = json.dumps(data).replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return Markup(text)


@dataclass(frozen=True)
class ShellData:
    """What the shell needs from the control store, read in one unit of work."""

    site: SiteInfo
    name: str
    snippet: str
    sites: list[dict[str, str]]
    settings_url: str | None
    data_from: str | None = None
    frame_origins: tuple[str, ...] = ()  # who may embed the page (shared links only)
    funnels: tuple[dict[str, Any], ...] = ()  # the Funnels panel's menu
    imports: bool = False  # the site has finished imports: the dashboard offers them
    banners: tuple[Banner, ...] = ()  # the team's plan banners (web/billing_gate.py)


async def _shell(request: Request, data: ShellData, *, read_only: bool, query_url: str) -> Response:
    bootstrap = {
        "domain": data.site.domain,
        "name": data.name,
        "timezone": data.site.timezone,
        "sites": data.sites,
        "csrf_token": await csrf_token(request),
        "theme": theme_of(request),
        "read_only": read_only,
        "query_url": query_url,
        "settings_url": data.settings_url,
        "dashboard_path": request.url.path,
        "snippet": data.snippet,
        "secure_cookies": cookie_secure(request),
        "data_from": data.data_from,
        "export_url": None if read_only else f"/api/dashboard/{data.site.domain}/export",
        "prop_keys_url": query_url.removesuffix("/query") + "/property-keys",
        "segments_url": query_url.removesuffix("/query") + "/segments",
        "annotations_url": query_url.removesuffix("/query") + "/annotations",
        "funnels": list(data.funnels),
        "funnel_url": query_url.removesuffix("/query") + "/funnel",
        "imports": data.imports,
    }
    html = SHELL.render(
        theme=bootstrap["theme"],
        title=data.name,
        assets=built_assets(),
        bootstrap=_json_for_html(bootstrap),
        # The page's language (web/language.py) and the dashboard's messages in it.
        lang=current_language(),
        messages=_json_for_html(current().for_frontend()),
        needs_javascript=gettext("The Jetrack dashboard needs JavaScript."),
        banners=bool(data.banners),
        billing_banners=data.banners,
    )
    return HTMLResponse(html, headers=HEADERS)


def _data_from(site: Site, settings: Settings) -> str | None:
    first_day = data_available_from(site, settings)
    return first_day.isoformat() if first_day else None


def _viewable(session: Session, user: User, domain: str, billing: bool) -> Site:
    """The site whose reports the account may read (privacy/restriction.py); 404 otherwise;
    402 while its team is over quota past the grace (billing/quota.py)."""
    site = readable_site(session, user, domain)
    if site is None:
        raise HTTPException(404, "no such site")
    site_unlocked(session, site, billing)
    return site


def _owner_shell(session: Session, user: User, domain: str, settings: Settings) -> ShellData:
    site = _viewable(session, user, domain, settings.billing)
    settings_url = (
        f"/sites/{site.domain}/settings" if can(session, user, "view_settings", site) else None
    )
    sites = [{"domain": s.domain, "name": s.name} for s in visible_sites(session, user)]
    return ShellData(
        SiteInfo.from_site(site),
        site.name,
        snippet(site, settings.base_url),
        sites,
        settings_url,
        _data_from(site, settings),
        funnels=tuple(funnel_menu(session, site)),
        imports=bool(imported_days(session, site.id)),
        banners=tuple(site_banners(session, site, settings.billing)),
    )


def _shared_shell(
    session: Session, slug: str, cookies: dict[str, str], billing: bool
) -> ShellData | None:
    """The shared link's site; None when it needs its password first; 404 when unknown."""
    site = _shared_site(session, slug, cookies, billing)
    if site is None:
        return None
    link = shared_links.find_shared_link(session, slug)
    origins = tuple(link.embed_origins.split()) if link is not None else ()
    return ShellData(
        SiteInfo.from_site(site),
        site.name,
        "",
        [],
        None,
        frame_origins=origins,
        funnels=tuple(funnel_menu(session, site)),
        imports=bool(imported_days(session, site.id)),
    )


def _shared_site(
    session: Session, slug: str, cookies: dict[str, str], billing: bool
) -> Site | None:
    """The shared link's site (None until its password is given); 404 for an unknown link
    and for one whose site's owner restricts processing (privacy/restriction.py); 402 while
    its team is locked over quota, as for its members."""
    link = shared_links.find_shared_link(session, slug)
    if link is None:
        raise HTTPException(404, "no such shared link")
    site = shared_links.resolve_shared_link(
        session, slug, cookies.get(shared_links.cookie_name(link))
    )
    if site is not None and not reporting_allowed(session, site, None):
        raise HTTPException(404, "no such shared link")
    if site is not None:
        site_unlocked(session, site, billing)
    return site


def _viewable_site(session: Session, user: User, domain: str, billing: bool) -> SiteInfo:
    return SiteInfo.from_site(_viewable(session, user, domain, billing))


def _shared_site_info(
    session: Session, slug: str, cookies: dict[str, str], billing: bool
) -> SiteInfo:
    site = _shared_site(session, slug, cookies, billing)
    if site is None:
        raise HTTPException(401, "this shared link needs its password: open it in the browser")
    return SiteInfo.from_site(site)


def _first_site(session: Session, user: User) -> str | None:
    sites = visible_sites(session, user)
    return sites[0].domain if sites else None


async def home(request: Request) -> Response:
    user = await current_user(request)
    if user is None:
        return await landing(request)
    domain = await in_session(request, _first_site, user)
    return RedirectResponse(f"/sites/{domain}" if domain else "/sites", 303)


async def dashboard_page(request: Request) -> Response:
    user = await require_user(request)
    settings: Settings = request.app.state.settings
    data = await in_session(request, _owner_shell, user, request.path_params["domain"], settings)
    domain = data.site.domain
    return await _shell(request, data, read_only=False, query_url=f"/api/dashboard/{domain}/query")


async def legacy_dashboard(request: Request) -> Response:
    """`/dashboard/{domain}` (linked from older pages) is `/sites/{domain}`."""
    query = f"?{request.url.query}" if request.url.query else ""
    return RedirectResponse(f"/sites/{request.path_params['domain']}{query}", 308)


async def shared_page(request: Request) -> Response:
    slug = request.path_params["slug"]
    data = await in_session(
        request, _shared_shell, slug, dict(request.cookies), billing_of(request)
    )
    if data is None:
        return RedirectResponse(f"/share/{slug}/password", 303)
    allow_framing(request, data.frame_origins)
    return await _shell(request, data, read_only=True, query_url=f"/api/share/{slug}/query")


def _events(request: Request, *, anonymous: bool) -> EventStore:
    events: EventStore = request.app.state.stores.events
    if anonymous:  # anyone with the link: a tighter time budget than signed-in readers
        settings: Settings = request.app.state.settings
        limits = Limits(settings.shared_query_timeout_seconds, settings.query_max_rows)
        events = LimitedEventStore(events, limits)
    return events


# Who asks decides which site is read and on what budget; the question is the same.
Reader = Callable[[Request], Awaitable[tuple[SiteInfo, bool]]]
Answer = Callable[[Request, SiteInfo, EventStore], Awaitable[Any]]


async def _account_reader(request: Request) -> tuple[SiteInfo, bool]:
    await check_csrf(request)
    user = await require_user(request)
    domain = request.path_params["domain"]
    site = await in_session(request, _viewable_site, user, domain, billing_of(request))
    return site, False


async def _link_reader(request: Request) -> tuple[SiteInfo, bool]:
    await check_csrf(request)
    slug, cookies = request.path_params["slug"], dict(request.cookies)
    return await in_session(request, _shared_site_info, slug, cookies, billing_of(request)), True


async def _asker_segments(request: Request, site: SiteInfo, body: dict[str, Any]) -> SiteInfo:
    """`site` with the segments the body's filters name, as its asker may use them. A
    shared link's visitor uses site segments only, whoever is signed in."""
    user = None if "slug" in request.path_params else await current_user(request)
    account_id = user.id if user is not None else None
    return await with_segments(request, site, body.get("filters"), account_id=account_id)


async def _query(request: Request, site: SiteInfo, events: EventStore) -> Any:
    body = await json_object(request)
    body["site_id"] = site.domain  # the URL names the site; a body cannot pick another
    site = await _asker_segments(request, site, body)
    rates = exchange_rates.current(request.app.state.settings.data_dir)
    return await computed(run_query, events, site, body, rates=rates)


async def _funnel(request: Request, site: SiteInfo, events: EventStore) -> Any:
    body = await json_object(request)
    funnel_id = await computed(funnel_id_of, body)
    funnel = await saved_funnel(request, site.id, funnel_id)
    body["site_id"] = site.domain  # the URL names the site; a body cannot pick another
    site = await _asker_segments(request, site, body)  # the dashboard's segment applies
    return await computed(run_funnel, events, site, funnel, body)


async def _prop_keys(request: Request, site: SiteInfo, events: EventStore) -> Any:
    body = await json_object(request)
    return {"keys": await computed(top_prop_keys, events, site, body.get("date_range"))}


def _api(reader: Reader, answer: Answer) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        site, anonymous = await reader(request)
        result = await answer(request, site, _events(request, anonymous=anonymous))
        return JSONResponse(result, headers=HEADERS)

    return endpoint


routes: list[BaseRoute] = [
    Route("/", home, methods=["GET"]),
    Route("/sites/{domain}", dashboard_page, methods=["GET"]),
    Route("/dashboard/{domain}", legacy_dashboard, methods=["GET"]),
    Route("/api/dashboard/{domain}/query", _api(_account_reader, _query), methods=["POST"]),
    Route(
        "/api/dashboard/{domain}/property-keys",
        _api(_account_reader, _prop_keys),
        methods=["POST"],
    ),
    Route("/api/dashboard/{domain}/funnel", _api(_account_reader, _funnel), methods=["POST"]),
    Route("/share/{slug}", shared_page, methods=["GET"]),
    Route("/api/share/{slug}/query", _api(_link_reader, _query), methods=["POST"]),
    Route("/api/share/{slug}/property-keys", _api(_link_reader, _prop_keys), methods=["POST"]),
    Route("/api/share/{slug}/funnel", _api(_link_reader, _funnel), methods=["POST"]),
]
