"""Applies the resource policy (web/policy.py) to every request before its handler runs:
names the route, checks the /metrics token, counts per-client budgets, and caps the body
while it streams in, so no request can make the server hold more than its route allows."""

from __future__ import annotations

import hmac
import time
from collections.abc import Iterable
from functools import cache

from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.responses import JSONResponse
from starlette.routing import BaseRoute, Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from jetrack.config import Settings
from jetrack.ingest.client_ip import Networks, client_address, parse_networks
from jetrack.logs import ROUTE_KEY, StatusNoted
from jetrack.metrics import Metrics
from jetrack.rate_limits import MAX_KEYS, FixedWindows
from jetrack.web.policy import UNROUTED, Budget, Policy, policy_for


class BodyTooLarge(HTTPException):
    def __init__(self, cap: int) -> None:
        super().__init__(413, f"the request body is larger than this endpoint takes ({cap} bytes)")


def route_template(routes: Iterable[BaseRoute], scope: Scope) -> tuple[str | None, bool]:
    """The matching route's path template (a mount's own path), and whether the method
    matched too; (None, False) when no route matches."""
    partial: str | None = None
    for route in routes:
        match, _ = route.matches(scope)
        path = getattr(route, "path", None)
        if not isinstance(path, str):
            continue
        if match == Match.FULL:
            return path, True
        if match == Match.PARTIAL and partial is None:
            partial = path
    return partial, False


class ClientBudgets:
    """Fixed-window counters per (budget, client address), one `FixedWindows` table per
    budget (jetrack.rate_limits: windows aligned on the clock; a full table forgets the
    oldest client still under its limit, never a limited one). Addresses live only in
    this process's memory, for at most one window; they are never logged or stored."""

    def __init__(self, max_clients: int = MAX_KEYS) -> None:
        self.max_clients = max_clients
        self.tables: dict[str, FixedWindows[str]] = {}

    def hit(self, budget: Budget, client: str, now: float | None = None) -> int:
        """Count one request; the seconds to wait when the budget is spent, else 0."""
        now = time.time() if now is None else now
        table = self.tables.get(budget.name)
        if table is None:
            table = FixedWindows(budget.limit, budget.window_seconds, self.max_clients)
            self.tables[budget.name] = table
        return 0 if table.take(client, 1, now) else table.retry_after(now)


@cache
def _networks(proxies: tuple[str, ...]) -> Networks:
    return parse_networks(proxies)


def _client(scope: Scope, settings: Settings) -> str:
    peer = scope.get("client")
    address = client_address(
        peer[0] if peer else None,
        Headers(scope=scope),
        _networks(tuple(settings.trusted_proxies)),
    )
    # A peer that is no IP (a unix socket, a test client) still counts as one client.
    return address or (str(peer[0]) if peer else "-")


def _bearer(scope: Scope) -> str:
    value = Headers(scope=scope).get("authorization", "")
    return value[7:].strip() if value[:7].lower() == "bearer " else ""


def _declared_length(scope: Scope) -> int | None:
    value = Headers(scope=scope).get("content-length")
    return int(value) if value is not None and value.isdigit() else None


class PolicyMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.budgets = ClientBudgets()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        template, full = route_template(scope["app"].router.routes, scope)
        scope[ROUTE_KEY] = template
        policy = policy_for(scope["method"], template) if full and template else None
        if policy is not None and policy.self_enforced:
            await self.app(scope, receive, send)
            return
        refusal = self.refusal(scope, policy)
        if refusal is not None:
            await refusal(scope, receive, send)
            return
        cap = (policy or UNROUTED).body_cap
        if policy is not None and policy.runs_queries and template:
            await _timed(
                self.app, f"{scope['method']} {template}", scope, capped(receive, cap), send
            )
            return
        await self.app(scope, capped(receive, cap), send)

    def refusal(self, scope: Scope, policy: Policy | None) -> JSONResponse | None:
        """The answer given before the handler runs, if any."""
        if policy is None:
            return None
        settings: Settings = scope["app"].state.settings
        if policy.auth == "metrics_token" and settings.metrics_token is None:
            return JSONResponse({"error": "not found"}, status_code=404)  # never public
        if policy.auth == "metrics_token" and settings.metrics_token is not None:
            expected = settings.metrics_token.get_secret_value().encode()
            if not hmac.compare_digest(_bearer(scope).encode(), expected):
                return JSONResponse(
                    {"error": "missing or wrong token: send Authorization: Bearer <token>"},
                    status_code=401,
                    headers={"WWW-Authenticate": "Bearer"},
                )
        budget = policy.budget
        if budget is not None and budget.per == "client":
            wait = self.budgets.hit(budget, _client(scope, settings))
            if wait:
                return JSONResponse(
                    {"error": "too many requests from this client; try again later"},
                    status_code=429,
                    headers={"Retry-After": str(wait)},
                )
        declared = _declared_length(scope)
        if declared is not None and declared > policy.body_cap:
            # Answered before a byte is read; the server closes the connection.
            return JSONResponse(
                {"error": BodyTooLarge(policy.body_cap).detail},
                status_code=413,
                headers={"Connection": "close"},
            )
        return None


async def _timed(app: ASGIApp, api: str, scope: Scope, receive: Receive, send: Send) -> None:
    """Run a route that runs analytics queries, timed into /metrics' jetrack_query_seconds
    (labelled by its route template: no path values)."""
    started = time.perf_counter()
    noted = StatusNoted(send)
    try:
        await app(scope, receive, noted)
    finally:
        metrics: Metrics = scope["app"].state.metrics
        metrics.observe_query(api, noted.status, time.perf_counter() - started)


def capped(receive: Receive, cap: int) -> Receive:
    """`receive` that raises BodyTooLarge as soon as the body passes `cap` bytes, so a
    handler never buffers more than its route allows."""
    seen = 0

    async def receive_capped() -> Message:
        nonlocal seen
        message = await receive()
        if message["type"] == "http.request":
            seen += len(message.get("body", b""))
            if seen > cap:
                raise BodyTooLarge(cap)
        return message

    return receive_capped
