"""A site's imports page: upload an export (streamed to the data dir's imports folder, the
`import` job runs it), the CLI command of the kinds that are not uploaded, the list of
imports with their progress (polled as JSON) and days, and delete an import."""

from __future__ import annotations

import os
import re
import secrets
from pathlib import Path
from typing import Any, BinaryIO

from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from jetrack.accounts.permissions import site_for
from jetrack.billing.limits import require
from jetrack.i18n.catalogs import gettext, gettext_noop
from jetrack.imports import messages, registry
from jetrack.imports.kinds import IMPORTERS, ImportBusy, remove_import
from jetrack.store.models import Site, SiteImport, User
from jetrack.web.auth import require_user
from jetrack.web.billing_gate import billing_of
from jetrack.web.csrf import check_csrf, read_form
from jetrack.web.db import in_session
from jetrack.web.forms import number
from jetrack.web.policy import IMPORT_UPLOAD_CAP
from jetrack.web.templating import render

ACTION = "manage_imports"
# What the page calls each kind (the importers of jetrack.imports.kinds.IMPORTERS).
KIND_LABELS = {
    "plausible": gettext_noop("Plausible (CSV export)"),
    "access-log": gettext_noop("Server access logs"),
    "goatcounter": gettext_noop("GoatCounter (CSV export)"),
    "umami": gettext_noop("Umami (its database)"),
}
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
WRITE_BATCH = 1024 * 1024
UPLOAD_CAP = IMPORT_UPLOAD_CAP


def _row(record: SiteImport) -> dict[str, Any]:
    percent = int(record.done * 100 / record.total) if record.total else 0
    return {
        "id": record.id,
        "kind": record.kind,
        "source": record.source,
        "status": record.status,
        "percent": 100 if record.status == registry.DONE else min(percent, 99),
        "first_day": record.first_day.isoformat() if record.first_day else None,
        "last_day": record.last_day.isoformat() if record.last_day else None,
        "rows": record.rows,
        "error": messages.translated(record.error),
        "created_at": record.created_at.isoformat(),
    }


def _listing(session: Session, user: User, domain: str) -> dict[str, Any]:
    site = site_for(session, user, domain, ACTION)
    return {"site": site, "imports": [_row(r) for r in registry.list_imports(session, site.id)]}


async def imports_page(request: Request, errors: dict[str, str] | None = None) -> Response:
    user = await require_user(request)
    context = await in_session(request, _listing, user, request.path_params["domain"])
    domain = context["site"].domain
    context.update(
        nav="sites",
        errors=errors or {},
        uploadable=[(k, KIND_LABELS.get(k, k)) for k, i in IMPORTERS.items() if i.uploadable],
        commands=[
            (KIND_LABELS.get(k, k), i.command.format(domain=domain))
            for k, i in IMPORTERS.items()
            if not i.uploadable
        ],
        labels=KIND_LABELS,
        upload_cap_mb=UPLOAD_CAP // (1024 * 1024),
    )
    return await render(request, "site_imports.html", context, status=409 if errors else 200)


async def imports_api(request: Request) -> Response:
    """The site's imports with their progress, for the page's progress bars."""
    user = await require_user(request)
    context = await in_session(request, _listing, user, request.path_params["domain"])
    return JSONResponse({"imports": context["imports"]})


def _file_name(name: str) -> str:
    cleaned = _UNSAFE.sub("_", Path(name).name).strip("._")[:120]
    if not cleaned:
        raise HTTPException(400, "name: the uploaded file's name, e.g. name=export.zip")
    return cleaned


def _imports_allowed(session: Session, site_id: int, billing: bool) -> None:
    """402 (JSON, before a byte of the file is read) when the plan lacks imports."""
    site = session.get(Site, site_id)
    if site is not None and site.team is not None:
        require(session, site.team, billing, "imports", "kind")


async def upload(request: Request) -> Response:
    """The request body is the file (`?kind=plausible&name=export.zip`), written to disk as
    it arrives; the import is queued once the whole file is there."""
    user = await require_user(request)
    await check_csrf(request)  # X-CSRF-Token: before a byte of the body is read
    site = await in_session(request, site_for, user, request.path_params["domain"], ACTION)
    await in_session(request, _imports_allowed, site.id, billing_of(request))
    kind = request.query_params.get("kind", "")
    importer = IMPORTERS.get(kind)
    if importer is None or not importer.uploadable:
        choices = ", ".join(k for k, i in IMPORTERS.items() if i.uploadable)
        raise HTTPException(400, f"kind: one of {choices} (the others are imported with the CLI)")
    name = _file_name(request.query_params.get("name", ""))
    folder = registry.imports_dir(request.app.state.settings)
    path = folder / f"{secrets.token_hex(8)}-{name}"
    size = await _receive(request, path)
    if size == 0:
        path.unlink(missing_ok=True)
        raise HTTPException(400, "body: empty; send the file's bytes as the request body")
    record = await in_session(
        request, registry.create_import, site.id, kind, name, {"path": str(path)}
    )
    return JSONResponse({"id": record.id, "status": record.status, "bytes": size}, 201)


async def _receive(request: Request, path: Path) -> int:
    """Stream the body into `path` (0600); a failure (the body cap's 413) leaves no file."""
    size = 0
    handle = await run_in_threadpool(_private, path)
    try:
        pending = bytearray()
        async for chunk in request.stream():
            pending += chunk
            size += len(chunk)
            if len(pending) >= WRITE_BATCH:
                await run_in_threadpool(handle.write, bytes(pending))
                pending.clear()
        await run_in_threadpool(handle.write, bytes(pending))
    except BaseException:
        handle.close()
        path.unlink(missing_ok=True)
        raise
    handle.close()
    return size


def _private(path: Path) -> BinaryIO:
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    return os.fdopen(descriptor, "wb")


async def delete_submit(request: Request) -> Response:
    """Delete an import's numbers (the rows it wrote) and its record."""
    user = await require_user(request)
    await read_form(request)
    domain, import_id = request.path_params["domain"], number(request.path_params["import_id"])
    site = await in_session(request, site_for, user, domain, ACTION)
    try:
        found = await run_in_threadpool(
            remove_import, request.app.state.stores, site.id, import_id or 0
        )
    except ImportBusy:
        message = gettext("This import is running: delete it once it is over.")
        return await imports_page(request, {"form": message})
    if not found:
        raise HTTPException(404, "no such import")
    return RedirectResponse(f"/sites/{site.domain}/imports?notice=import-deleted", 303)


routes: list[BaseRoute] = [
    Route("/sites/{domain}/imports", imports_page, methods=["GET"]),
    Route("/sites/{domain}/imports/{import_id}/delete", delete_submit, methods=["POST"]),
    Route("/api/sites/{domain}/imports", imports_api, methods=["GET"]),
    Route("/api/sites/{domain}/imports", upload, methods=["POST"]),
]
