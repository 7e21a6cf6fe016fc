"""The account's privacy page (export, restriction), downloads, undoing an erasure, and the
dashboard's ZIP export."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from jetrack.i18n.catalogs import gettext_noop
from jetrack.privacy import erasure, export, restriction
from jetrack.privacy.dashboard_export import dashboard_zip
from jetrack.stats.query import SiteInfo
from jetrack.store.models import DataExport, User, as_utc
from jetrack.web.auth import require_user
from jetrack.web.csrf import check_csrf, read_form
from jetrack.web.db import in_session
from jetrack.web.forms import checked, number, text
from jetrack.web.json_io import computed, json_object
from jetrack.web.segment_filters import with_segments
from jetrack.web.templating import render

NOTICES = {
    "export-started": "Your export is being prepared. We mail you a download link when it is ready.",
    "restricted": "Processing is restricted: your sites' data is stored but not reported to others.",
    "unrestricted": "Processing is no longer restricted.",
}


def _export_row(row: DataExport) -> dict[str, Any]:
    return {
        "id": row.id,
        "state": row.state,
        "progress": row.progress,
        "size_bytes": row.size_bytes,
        "created_at": as_utc(row.created_at).isoformat(),
        "expires_at": as_utc(row.expires_at).isoformat(),
    }


def _privacy_state(session: Session, user: User) -> dict[str, Any]:
    return {
        "exports": [_export_row(row) for row in export.exports_of(session, user)],
        "restricted": restriction.is_restricted(session, user.id),
    }


async def privacy_page(request: Request) -> Response:
    user = await require_user(request)
    state = await in_session(request, _privacy_state, user)
    notice = NOTICES.get(request.query_params.get("notice", ""))
    context = {"nav": "account", "notice": notice, **state}
    return await render(request, "privacy/account_privacy.html", context)


async def export_submit(request: Request) -> Response:
    user = await require_user(request)
    await read_form(request)
    await in_session(request, export.request_export, user)
    return RedirectResponse("/account/privacy?notice=export-started", 303)


async def exports_status(request: Request) -> Response:
    """The account's exports with their progress, for the page to poll."""
    user = await require_user(request)
    state = await in_session(request, _privacy_state, user)
    return JSONResponse({"exports": state["exports"]}, headers={"Cache-Control": "no-store"})


async def export_download(request: Request) -> Response:
    user = await require_user(request)
    stores = request.app.state.stores
    token = request.path_params["token"][:100]
    path = await in_session(request, lambda s: export.download_path(stores, s, user, token))
    if path is None:
        raise HTTPException(404, "no such export (links work for their owner for 7 days)")
    return FileResponse(
        path,
        media_type="application/zip",
        filename=export.ZIP_NAME,
        headers={"Cache-Control": "no-store"},
    )


async def restriction_submit(request: Request) -> Response:
    user = await require_user(request)
    form = await read_form(request)
    restricted = checked(form, "restrict")
    await in_session(request, restriction.set_restricted, user, restricted)
    notice = "restricted" if restricted else "unrestricted"
    return RedirectResponse(f"/account/privacy?notice={notice}", 303)


# --- Undoing an account erasure from the mailed link ----------------------------------------


def _undo_target(session: Session, request_id: int | None, signature: str) -> int | None:
    if request_id is None:
        return None
    found = erasure.pending_request(session, request_id, signature)
    return found.user_id if found is not None else None


def _undo(session: Session, request_id: int | None, signature: str) -> bool:
    user_id = _undo_target(session, request_id, signature)
    return user_id is not None and erasure.cancel_account_erasure(session, user_id)


async def undo_view(request: Request) -> Response:
    request_id = number(request.query_params.get("request"))
    signature = request.query_params.get("sig", "")[:128]
    if await in_session(request, _undo_target, request_id, signature) is None:
        raise HTTPException(404, "this link is not valid, or the deletion can no longer be undone")
    context = {"request_id": request_id, "sig": signature}
    return await render(request, "privacy/undo_erasure.html", context)


async def undo_submit(request: Request) -> Response:
    form = await read_form(request)
    request_id, signature = number(text(form, "request", 20)), text(form, "sig", 128)
    if not await in_session(request, _undo, request_id, signature):
        raise HTTPException(404, "this link is not valid, or the deletion can no longer be undone")
    context = {
        "title": gettext_noop("Account kept"),
        "message": gettext_noop(
            "The deletion is cancelled and your account is unlocked. API keys stay "
            "revoked; create new ones if you need them."
        ),
        "href": "/login",
        "action": gettext_noop("Log in"),
    }
    return await render(request, "message.html", context)


# --- The dashboard's ZIP of CSVs -------------------------------------------------------------


def _exportable_site(session: Session, user: User, domain: str) -> SiteInfo:
    site = restriction.readable_site(session, user, domain)
    if site is None:
        raise HTTPException(404, "no such site")
    return SiteInfo.from_site(site)


async def dashboard_export(request: Request) -> Response:
    await check_csrf(request)
    user = await require_user(request)
    body = await json_object(request, empty_is={})
    site = await in_session(request, _exportable_site, user, request.path_params["domain"])
    site = await with_segments(request, site, body.get("filters"), account_id=user.id)
    events = request.app.state.stores.events
    data = await computed(dashboard_zip, events, site, site.domain, body)
    name = f"{site.domain}-dashboard.zip"
    headers = {"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"}
    return Response(data, media_type="application/zip", headers=headers)


routes: list[BaseRoute] = [
    Route("/account/privacy", privacy_page, methods=["GET"]),
    Route("/account/privacy/export", export_submit, methods=["POST"]),
    Route("/account/privacy/restriction", restriction_submit, methods=["POST"]),
    Route("/api/account/exports", exports_status, methods=["GET"]),
    Route("/exports/{token}", export_download, methods=["GET"]),
    Route("/account/erasure/undo", undo_view, methods=["GET"]),
    Route("/account/erasure/undo", undo_submit, methods=["POST"]),
    Route("/api/dashboard/{domain}/export", dashboard_export, methods=["POST"]),
]
