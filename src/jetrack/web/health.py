"""GET /api/health: each store's status; 503 when one is down."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import BaseRoute, Route

from jetrack.store.stores import Stores


async def health(request: Request) -> JSONResponse:
    stores: Stores = request.app.state.stores
    control_ok = await run_in_threadpool(stores.control.ping)
    events_ok = await run_in_threadpool(stores.events.ping)
    body = {
        "status": "ok" if control_ok and events_ok else "unavailable",
        "control_store": "ok" if control_ok else "down",
        "event_store": "ok" if events_ok else "down",
        "encrypted_at_rest": stores.encrypted,
    }
    return JSONResponse(body, status_code=200 if control_ok and events_ok else 503)


routes: list[BaseRoute] = [Route("/api/health", health, methods=["GET"])]
