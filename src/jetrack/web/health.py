"""GET /api/health: each backend's status and latency; 503 when one is down.

Backends are probed at once, each within PROBE_TIMEOUT_SECONDS; the answer names each
backend's kind, never a host, a user or an error text (they may hold secrets)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import State
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import BaseRoute, Route

from jetrack.notify.mail import smtp_answers
from jetrack.rate_limits import redis_client
from jetrack.store.stores import Stores

PROBE_TIMEOUT_SECONDS = 3.0

Check = Callable[[], Awaitable[bool]]
# A probe: the backend's name, kind and check, or None when the instance does not use it.
Probe = Callable[[State], tuple[str, str, Check] | None]


def control_store(state: State) -> tuple[str, str, Check]:
    stores: Stores = state.stores
    kind = "postgresql" if stores.settings.database_url else "sqlite"
    return "control_store", kind, lambda: run_in_threadpool(stores.control.ping)


def event_store(state: State) -> tuple[str, str, Check]:
    stores: Stores = state.stores
    kind = "clickhouse" if stores.settings.clickhouse_url else "chdb"
    return "event_store", kind, lambda: run_in_threadpool(stores.events.ping)


def mail(state: State) -> tuple[str, str, Check] | None:
    settings = state.settings
    if not settings.smtp_host:
        return None
    return "mail", "smtp", lambda: smtp_answers(settings, PROBE_TIMEOUT_SECONDS)


def _redis_answers(url: str) -> bool:
    client = redis_client(url)
    try:
        return bool(client.ping())
    finally:
        client.close()


def shared_state(state: State) -> tuple[str, str, Check] | None:
    """The shared mode's Redis (visits, API limits), when JETRACK_REDIS_URL is set."""
    url = state.settings.redis_url
    if not url:
        return None
    return "shared_state", "redis", lambda: run_in_threadpool(_redis_answers, url)


# Every backend /api/health reports, in the answer's order.
PROBES: list[Probe] = [control_store, event_store, mail, shared_state]


async def _measured(check: Check) -> dict[str, Any]:
    started = time.perf_counter()
    try:
        ok = await asyncio.wait_for(check(), PROBE_TIMEOUT_SECONDS)
    except Exception:  # a probe that raises or hangs: the backend is down
        ok = False
    return {
        "status": "ok" if ok else "down",
        "latency_ms": round((time.perf_counter() - started) * 1000, 1),
    }


async def health(request: Request) -> JSONResponse:
    stores: Stores = request.app.state.stores
    used = [found for probe in PROBES if (found := probe(request.app.state)) is not None]
    results = await asyncio.gather(*(_measured(check) for _, _, check in used))
    backends = {
        name: {"kind": kind, **result}
        for (name, kind, _), result in zip(used, results, strict=True)
    }
    up = all(result["status"] == "ok" for result in results)
    body = {
        "status": "ok" if up else "unavailable",
        "backends": backends,
        "encrypted_at_rest": stores.encrypted,
    }
    return JSONResponse(body, status_code=200 if up else 503)


routes: list[BaseRoute] = [Route("/api/health", health, methods=["GET"])]
