"""Stats API over HTTP: POST /api/v2/query and the v1 GET endpoints. Thin: authenticate,
rate-limit, find the site, call jetrack.stats in a worker thread, encode."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from datetime import date
from typing import Any

from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from jetrack.accounts.api_keys import authenticate_api_key
from jetrack.accounts.permissions import can
from jetrack.privacy.restriction import reporting_allowed
from jetrack.privacy.retention import data_available_from
from jetrack.sites.sites import find_site
from jetrack.stats import v1
from jetrack.stats.engine import run_query
from jetrack.stats.errors import QueryError
from jetrack.stats.query import SiteInfo
from jetrack.stats.rate_limit import RateLimiter
from jetrack.store.models import Site, User
from jetrack.store.stores import Stores
from jetrack.web.errors import error_response


class ApiError(Exception):
    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.headers = status, message, headers or {}


def may_read_stats(session: Session, user: User, site: Site) -> bool:
    """A key reads what its owner may see on the dashboard (jetrack.accounts.permissions),
    unless the site's owner restricted processing (then only the owner's own keys read)."""
    return can(session, user, "view_stats", site) and reporting_allowed(session, site, user)


def _limiter(request: Request) -> RateLimiter:
    state = request.app.state
    if getattr(state, "stats_rate_limiter", None) is None:
        state.stats_rate_limiter = RateLimiter(state.settings.api_rate_limit_per_hour)
    limiter: RateLimiter = state.stats_rate_limiter
    return limiter


def _key_owner(request: Request, limiter: RateLimiter) -> int:
    """The id of the account whose API key the request carries, after counting the request
    against the key's budget; ApiError 401/429 otherwise. Runs before the body is read."""
    stores: Stores = request.app.state.stores
    header = request.headers.get("authorization", "")
    key = header[7:].strip() if header[:7].lower() == "bearer " else ""
    if not key:
        raise ApiError(401, "missing API key: send Authorization: Bearer <key>")
    with stores.control.session() as session:
        found = authenticate_api_key(session, key)
        if found is None:
            raise ApiError(401, "invalid API key")
        api_key, user = found
        wait = limiter.hit(api_key.id)
        if wait:
            raise ApiError(429, "rate limit exceeded for this API key", {"Retry-After": str(wait)})
        return user.id


def _readable_site(request: Request, user_id: int, domain: Any) -> tuple[SiteInfo, date | None]:
    """The site the key's owner may read, and the first day its retention keeps; 400/404."""
    if not isinstance(domain, str) or not domain:
        raise ApiError(400, "site_id: required, the site's domain")
    stores: Stores = request.app.state.stores
    with stores.control.session() as session:
        user = session.get(User, user_id)
        site = find_site(session, domain)
        # The same answer for another account's site and a missing one: no existence leak.
        if site is None or user is None or not may_read_stats(session, user, site):
            raise ApiError(404, f"site not found: {domain}")
        return SiteInfo.from_site(site), data_available_from(site, request.app.state.settings)


def _authorize(request: Request, limiter: RateLimiter, domain: Any) -> tuple[SiteInfo, date | None]:
    return _readable_site(request, _key_owner(request, limiter), domain)


Handler = Callable[[Request], Awaitable[Any]]


def _endpoint(handler: Handler) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        try:
            body = await handler(request)
        except ApiError as exc:
            return (
                error_response(exc.status, exc.message)
                if not exc.headers
                else JSONResponse(
                    {"error": exc.message}, status_code=exc.status, headers=exc.headers
                )
            )
        except QueryError as exc:
            return error_response(exc.status, exc.message)
        return JSONResponse(body)

    return endpoint


async def query_v2(request: Request) -> Any:
    # Control-store work off the event loop: ingestion shares it. The key is checked before
    # the body is read: an anonymous client cannot make the server read (web/policy.py).
    user_id = await run_in_threadpool(_key_owner, request, _limiter(request))
    try:
        body = json.loads(await request.body())
    except (ValueError, RecursionError):  # RecursionError: [[[[... nested past the parser
        raise ApiError(400, "the request body must be JSON") from None
    domain = body.get("site_id") if isinstance(body, dict) else None
    site, data_from = await run_in_threadpool(_readable_site, request, user_id, domain)
    result = await run_in_threadpool(run_query, request.app.state.stores.events, site, body)
    # Retention: say from which day data can exist (null when the site keeps everything).
    result.setdefault("meta", {})["data_available_from"] = (
        data_from.isoformat() if data_from else None
    )
    return result


def _v1(answer: Callable[..., Any], with_params: bool = True) -> Handler:
    async def handler(request: Request) -> Any:
        params = dict(request.query_params)
        site, _ = await run_in_threadpool(
            _authorize, request, _limiter(request), params.get("site_id")
        )
        events = request.app.state.stores.events
        if with_params:
            return await run_in_threadpool(answer, events, site, params)
        return await run_in_threadpool(answer, events, site)

    return handler


routes: list[BaseRoute] = [
    Route("/api/v2/query", _endpoint(query_v2), methods=["POST"]),
    Route("/api/v1/stats/aggregate", _endpoint(_v1(v1.aggregate)), methods=["GET"]),
    Route("/api/v1/stats/timeseries", _endpoint(_v1(v1.timeseries)), methods=["GET"]),
    Route("/api/v1/stats/breakdown", _endpoint(_v1(v1.breakdown)), methods=["GET"]),
    Route(
        "/api/v1/stats/realtime/visitors",
        _endpoint(_v1(v1.realtime_visitors, with_params=False)),
        methods=["GET"],
    ),
]
