"""ASGI app factory: routes, middleware, and the lifespan that opens the stores."""

from __future__ import annotations

import contextlib
import gc
import logging
from collections.abc import AsyncIterator, Callable
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.routing import BaseRoute
from starlette.types import ASGIApp

from jetrack.billing.limits import PlanLimitError
from jetrack.billing.quota import QuotaLocked
from jetrack.config import Settings
from jetrack.ingest import service as ingest_service
from jetrack.ingest.metrics import IngestCollector
from jetrack.jobs import idle_memory
from jetrack.jobs import runner as jobs_runner
from jetrack.logs import AccessLogMiddleware, HstsMiddleware
from jetrack.metrics import Metrics
from jetrack.store.events import map_library_pages_singly
from jetrack.store.memory import keep_pandas_out
from jetrack.store.stores import Stores, open_stores
from jetrack.web import (
    account_settings_pages,
    accounts_pages,
    admin_pages,
    annotations_api,
    billing_gate,
    billing_pages,
    dashboard,
    errors,
    funnels_pages,
    goals_pages,
    health,
    imports_pages,
    ingest,
    metrics,
    openapi,
    privacy_pages,
    public_pages,
    reports_pages,
    segments_api,
    sharing_pages,
    sites_api,
    sites_pages,
    static_files,
    stats_api,
    teams_pages,
    tracker_script,
)
from jetrack.web.ingest import IngestFastPath
from jetrack.web.language import LanguageMiddleware
from jetrack.web.policy_middleware import PolicyMiddleware
from jetrack.web.security_headers import SecurityHeadersMiddleware

log = logging.getLogger("jetrack")

# The routes of each web module; the order is the order of matching.
ROUTE_TABLES: list[list[BaseRoute]] = [
    health.routes,
    ingest.routes,
    metrics.routes,
    tracker_script.routes,
    stats_api.routes,
    sites_api.routes,
    openapi.routes,
    static_files.routes,
    accounts_pages.routes,
    account_settings_pages.routes,
    sites_pages.routes,
    goals_pages.routes,
    funnels_pages.routes,
    teams_pages.routes,
    sharing_pages.routes,
    dashboard.routes,  # last: /sites/{domain} must not shadow /sites/new
    segments_api.routes,
    annotations_api.routes,
    public_pages.routes,
    privacy_pages.routes,
    admin_pages.routes,
    reports_pages.routes,
    imports_pages.routes,
    billing_pages.routes,
]

Service = Callable[[Starlette], contextlib.AbstractAsyncContextManager[None]]
# The background services, started in order in the app's lifespan, stopped in reverse.
SERVICES: list[Service] = [ingest_service.lifespan, jobs_runner.lifespan, idle_memory.lifespan]


def collect_routes() -> list[BaseRoute]:
    return [route for table in ROUTE_TABLES for route in table]


class JetrackApp(Starlette):
    """The Starlette app with event ingestion as its outermost layer (web/ingest.py
    `IngestFastPath`): event requests are answered before the middleware and the router."""

    def build_middleware_stack(self) -> ASGIApp:
        return IngestFastPath(super().build_middleware_stack())


def create_app(settings: Settings, stores: Stores | None = None) -> Starlette:
    """The Jetrack app. With `stores` given (tests), the caller owns them."""

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        owned = stores is None
        app.state.stores = open_stores(settings) if owned else stores
        app.state.settings = settings
        async with contextlib.AsyncExitStack() as stack:
            for service in SERVICES:
                await stack.enter_async_context(service(app))
            log.info("jetrack ready (data dir %s)", settings.data_dir)
            yield
        if owned:
            app.state.stores.close()

    # Outside in: the access log sees every answer; the security headers go on every
    # answer; the resource policy (web/policy.py) runs before any handler reads a byte; then
    # the request's language is chosen (web/language.py).
    middleware = [
        Middleware(AccessLogMiddleware),
        Middleware(SecurityHeadersMiddleware),
        Middleware(PolicyMiddleware),
        Middleware(LanguageMiddleware),
    ]
    if settings.tls:
        middleware.append(Middleware(HstsMiddleware))
    handlers: dict[Any, Any] = {
        HTTPException: errors.http_exception,
        PlanLimitError: billing_gate.plan_refused,
        QuotaLocked: billing_gate.quota_locked,
        Exception: errors.server_error,
    }
    app = JetrackApp(
        routes=collect_routes(),
        middleware=middleware,
        exception_handlers=handlers,
        lifespan=lifespan,
    )
    # One registry per app (tests run many apps in one process).
    app.state.metrics = metrics = Metrics()
    metrics.add(IngestCollector(lambda: getattr(app.state, "ingest", None)))
    return app


def serving_app(settings: Settings) -> Starlette:
    """What the HTTP servers run: the app, with the collector tuned for ingestion,
    pandas kept out of the process (store/memory.py) and the store's libraries mapped
    back a page at a time (store/events.py)."""
    keep_pandas_out()
    map_library_pages_singly()
    tune_gc()
    return create_app(settings)


def tune_gc() -> None:
    """Ingestion allocates many short-lived objects per request, and the default gen-0
    threshold (700) runs the collector thousands of times a second: measured +23% events/s
    with a higher one (docs/benchmarks.md). Objects alive at start are frozen out of scans."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(20_000, 20, 20)
