"""The operator console (/admin): users, sites and usage, tickets, jobs, the privacy audit
and the log of operator actions. Instance admins only; 404 for everyone else."""

from __future__ import annotations

from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from jetrack.accounts.permissions import can
from jetrack.privacy import operator
from jetrack.privacy.audit import audit_checks
from jetrack.store.job_queue import recent_jobs
from jetrack.store.models import User
from jetrack.store.stores import Stores
from jetrack.support.tickets import list_tickets
from jetrack.web.auth import current_user
from jetrack.web.csrf import read_form
from jetrack.web.db import in_session
from jetrack.web.forms import number
from jetrack.web.templating import render


async def require_admin(request: Request) -> User:
    user = await current_user(request)
    if user is None or not await in_session(request, can, user, "admin_instance", None):
        raise HTTPException(404, "not found")
    return user


async def _page(request: Request, section: str, context: dict[str, Any]) -> Response:
    return await render(
        request, f"admin/{section}.html", {"nav": "admin", "section": section, **context}
    )


async def overview(request: Request) -> Response:
    await require_admin(request)
    stores: Stores = request.app.state.stores
    checks = await run_in_threadpool(
        audit_checks, stores.settings, stores.control, stores.events, []
    )
    log = await in_session(request, operator.audit_log)
    return await _page(request, "overview", {"checks": checks, "log": log})


async def users(request: Request) -> Response:
    await require_admin(request)
    rows = await in_session(request, operator.list_users)
    return await _page(request, "users", {"rows": rows})


async def sites(request: Request) -> Response:
    await require_admin(request)
    stores: Stores = request.app.state.stores
    rows = await in_session(request, operator.sites_with_owners)
    usage = await run_in_threadpool(operator.usage_by_site, stores.events)
    return await _page(request, "sites", {"rows": rows, "usage": usage})


async def tickets(request: Request) -> Response:
    await require_admin(request)
    rows = await in_session(request, list_tickets)
    return await _page(request, "tickets", {"rows": rows})


async def jobs(request: Request) -> Response:
    await require_admin(request)
    rows = await in_session(request, recent_jobs)
    return await _page(request, "jobs", {"rows": rows})


def _action(name: str, section: str) -> Any:
    """A POST that acts on one id from the path, records it, and goes back to the list."""

    async def endpoint(request: Request) -> Response:
        actor = await require_admin(request)
        await read_form(request)
        target = number(request.path_params["target"])
        if target is None:
            raise HTTPException(404, "not found")
        work = {
            "lock": lambda s: operator.set_locked(s, actor, target, True),
            "unlock": lambda s: operator.set_locked(s, actor, target, False),
            "pause": lambda s: operator.set_paused(s, actor, target, True),
            "resume": lambda s: operator.set_paused(s, actor, target, False),
            "close": lambda s: operator.close(s, actor, target),
            "retry": lambda s: operator.retry_job(s, actor, target),
        }[name]
        if not await in_session(request, work):
            raise HTTPException(404, "not found, or nothing to do")
        return RedirectResponse(f"/admin/{section}", 303)

    return endpoint


routes: list[BaseRoute] = [
    Route("/admin", overview, methods=["GET"]),
    Route("/admin/users", users, methods=["GET"]),
    Route("/admin/users/{target}/lock", _action("lock", "users"), methods=["POST"]),
    Route("/admin/users/{target}/unlock", _action("unlock", "users"), methods=["POST"]),
    Route("/admin/sites", sites, methods=["GET"]),
    Route("/admin/sites/{target}/pause", _action("pause", "sites"), methods=["POST"]),
    Route("/admin/sites/{target}/resume", _action("resume", "sites"), methods=["POST"]),
    Route("/admin/tickets", tickets, methods=["GET"]),
    Route("/admin/tickets/{target}/close", _action("close", "tickets"), methods=["POST"]),
    Route("/admin/jobs", jobs, methods=["GET"]),
    Route("/admin/jobs/{target}/retry", _action("retry", "jobs"), methods=["POST"]),
]
