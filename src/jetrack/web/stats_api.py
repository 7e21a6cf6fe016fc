"""Stats API over HTTP: POST /api/v2/query, the funnels (GET /api/v2/funnels, POST
/api/v2/funnel) and the v1 GET endpoints. Thin: authenticate,
rate-limit, find the site, call jetrack.stats in a worker thread, encode."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from jetrack.accounts.api_keys import authenticate_api_key
from jetrack.billing.limits import require
from jetrack.config import Settings
from jetrack.privacy.restriction import readable_site
from jetrack.privacy.retention import data_available_from
from jetrack.sites import funnels
from jetrack.stats import exchange_rates, v1
from jetrack.stats.engine import run_query
from jetrack.stats.funnel import funnel_id_of, run_funnel
from jetrack.stats.query import SiteInfo
from jetrack.store.models import Site, User
from jetrack.store.stores import Stores
from jetrack.web import throttles
from jetrack.web.billing_gate import site_unlocked
from jetrack.web.funnel_lookup import saved_funnel
from jetrack.web.json_io import computed, json_object
from jetrack.web.segment_filters import with_segments
from jetrack.web.throttles import APIRequests


def _key_owner(request: Request, limiter: APIRequests) -> int:
    """The id of the account whose API key the request carries, after counting the request
    against the key's budget; 401/429 otherwise. Runs before the body is read."""
    stores: Stores = request.app.state.stores
    header = request.headers.get("authorization", "")
    key = header[7:].strip() if header[:7].lower() == "bearer " else ""
    if not key:
        raise HTTPException(401, "missing API key: send Authorization: Bearer <key>")
    with stores.control.session() as session:
        found = authenticate_api_key(session, key)
        if found is None:
            raise HTTPException(401, "invalid API key")
        api_key, user = found
        wait = limiter.hit(api_key.id)
        if wait:
            raise HTTPException(
                429, "rate limit exceeded for this API key", {"Retry-After": str(wait)}
            )
        return user.id


def _readable_site(request: Request, user_id: int, domain: Any) -> tuple[SiteInfo, date | None]:
    """The site the key's owner may read, and the first day its retention keeps; 400/404."""
    if not isinstance(domain, str) or not domain:
        raise HTTPException(400, "site_id: required, the site's domain")
    stores: Stores = request.app.state.stores
    with stores.control.session() as session:
        site = readable_site(session, session.get(User, user_id), domain)
        # The same answer for another account's site and a missing one: no existence leak.
        if site is None:
            raise HTTPException(404, f"site not found: {domain}")
        _plan_allows(session, site, request.app.state.settings)
        return SiteInfo.from_site(site), data_available_from(site, request.app.state.settings)


def _plan_allows(session: Session, site: Site, settings: Settings) -> None:
    """402 when the site's team's plan lacks the Stats API, or its team is locked over
    quota (billing/limits.py, billing/quota.py); nothing with billing off."""
    if not settings.billing:
        return  # every team is UNLIMITED: no need to load the team for each query
    if site.team is not None:
        require(session, site.team, settings.billing, "stats_api", "site_id")
    site_unlocked(session, site, settings.billing)


async def query_v2(request: Request) -> Response:
    # Control-store work off the event loop: ingestion shares it. The key is checked before
    # the body is read: an anonymous client cannot make the server read (web/policy.py).
    user_id = await run_in_threadpool(_key_owner, request, throttles.stats_api(request))
    body = await json_object(request)
    site, data_from = await run_in_threadpool(_readable_site, request, user_id, body.get("site_id"))
    site = await with_segments(request, site, body.get("filters"), account_id=user_id)
    rates = exchange_rates.current(request.app.state.settings.data_dir)
    result = await computed(run_query, request.app.state.stores.events, site, body, rates=rates)
    # Retention: say from which day data can exist (null when the site keeps everything).
    result.setdefault("meta", {})["data_available_from"] = (
        data_from.isoformat() if data_from else None
    )
    return JSONResponse(result)


def _site_funnels(request: Request, user_id: int, domain: Any) -> list[dict[str, Any]]:
    if not isinstance(domain, str) or not domain:
        raise HTTPException(400, "site_id: required, the site's domain")
    stores: Stores = request.app.state.stores
    with stores.control.session() as session:
        site = readable_site(session, session.get(User, user_id), domain)
        if site is None:
            raise HTTPException(404, f"site not found: {domain}")
        _plan_allows(session, site, request.app.state.settings)
        return funnels.funnel_menu(session, site)


async def funnels_v2(request: Request) -> Response:
    """GET /api/v2/funnels?site_id=: the site's saved funnels (docs/funnels.md)."""
    user_id = await run_in_threadpool(_key_owner, request, throttles.stats_api(request))
    domain = request.query_params.get("site_id")
    listed = await run_in_threadpool(_site_funnels, request, user_id, domain)
    return JSONResponse({"funnels": listed})


async def funnel_v2(request: Request) -> Response:
    """POST /api/v2/funnel: visitors through a saved funnel's steps (docs/funnels.md)."""
    user_id = await run_in_threadpool(_key_owner, request, throttles.stats_api(request))
    body = await json_object(request)
    funnel_id = await computed(funnel_id_of, body)
    site, data_from = await run_in_threadpool(_readable_site, request, user_id, body.get("site_id"))
    funnel = await saved_funnel(request, site.id, funnel_id)
    site = await with_segments(request, site, body.get("filters"), account_id=user_id)
    result = await computed(run_funnel, request.app.state.stores.events, site, funnel, body)
    result["meta"] = {"data_available_from": data_from.isoformat() if data_from else None}
    return JSONResponse(result)


def _v1(answer: Callable[..., Any], with_params: bool = True) -> Callable[[Request], Any]:
    async def endpoint(request: Request) -> Response:
        params = dict(request.query_params)
        user_id = await run_in_threadpool(_key_owner, request, throttles.stats_api(request))
        site, _ = await run_in_threadpool(_readable_site, request, user_id, params.get("site_id"))
        events = request.app.state.stores.events
        args = (events, site, params) if with_params else (events, site)
        return JSONResponse(await computed(answer, *args))

    return endpoint


routes: list[BaseRoute] = [
    Route("/api/v2/query", query_v2, methods=["POST"]),
    Route("/api/v2/funnels", funnels_v2, methods=["GET"]),
    Route("/api/v2/funnel", funnel_v2, methods=["POST"]),
    Route("/api/v1/stats/aggregate", _v1(v1.aggregate), methods=["GET"]),
    Route("/api/v1/stats/timeseries", _v1(v1.timeseries), methods=["GET"]),
    Route("/api/v1/stats/breakdown", _v1(v1.breakdown), methods=["GET"]),
    Route(
        "/api/v1/stats/realtime/visitors",
        _v1(v1.realtime_visitors, with_params=False),
        methods=["GET"],
    ),
]
