"""The dashboard's annotations: dated notes drawn on the main graph.

Routes (JSON; session cookie, and `X-CSRF-Token` on writes):
- `GET /api/dashboard/{domain}/annotations`: the site's notes, oldest first, and whether
  the account may add and delete them (`edit_site`: editors, admins, owners).
- `POST /api/dashboard/{domain}/annotations`: `{date, time?, text}` -> 201, the note.
- `DELETE /api/dashboard/{domain}/annotations/{annotation_id}`.
- `GET /api/share/{slug}/annotations`: the same notes on a shared link, read-only.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from jetrack.accounts.permissions import can, site_for
from jetrack.sites import annotations as notes
from jetrack.stats.query import SiteInfo
from jetrack.store.events import EventStore
from jetrack.store.models import Annotation, Site, User
from jetrack.web.auth import require_user
from jetrack.web.csrf import check_csrf

# The dashboard's readers: who reads which site (404, restriction, a link's password).
from jetrack.web.dashboard import HEADERS, _account_reader, _api, _link_reader
from jetrack.web.db import in_session
from jetrack.web.forms import number
from jetrack.web.json_io import json_object

EDIT = "edit_site"


def annotation_json(note: Annotation, may_edit: bool) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": note.id,
        "date": note.day.isoformat(),
        "time": note.time,
        "text": note.text,
    }
    if may_edit:
        out["can_delete"] = True
    return out


def _listing(session: Session, site_id: int, user: User | None) -> dict[str, Any]:
    site = session.get(Site, site_id)
    if site is None:
        raise HTTPException(404, "no such site")
    may = user is not None and can(session, user, EDIT, site)
    rows = notes.list_annotations(session, site)
    return {"annotations": [annotation_json(n, may) for n in rows], "can_edit": may}


async def _account_listing(request: Request, site: SiteInfo, _events: EventStore) -> Any:
    return await in_session(request, _listing, site.id, await require_user(request))


async def _shared_listing(request: Request, site: SiteInfo, _events: EventStore) -> Any:
    return await in_session(request, _listing, site.id, None)


async def create(request: Request) -> Response:
    await check_csrf(request)
    user = await require_user(request)
    domain = request.path_params["domain"]
    body = await json_object(request)

    def save(session: Session) -> dict[str, Any]:
        site = site_for(session, user, domain, EDIT)
        spec = notes.annotation_spec(body.get("date"), body.get("time"), body.get("text"))
        return annotation_json(notes.create_annotation(session, site, user, spec), True)

    try:
        return JSONResponse(await in_session(request, save), 201, headers=HEADERS)
    except notes.AnnotationError as exc:
        raise HTTPException(400, f"{exc.field}: {exc.translated()}") from None


async def remove(request: Request) -> Response:
    await check_csrf(request)
    user = await require_user(request)
    domain = request.path_params["domain"]
    note_id = number(request.path_params["annotation_id"]) or 0

    def drop(session: Session) -> bool:
        return notes.delete_annotation(session, site_for(session, user, domain, EDIT), note_id)

    if not await in_session(request, drop):
        raise HTTPException(404, "no such annotation")
    return JSONResponse({"deleted": note_id}, headers=HEADERS)


routes: list[BaseRoute] = [
    Route(
        "/api/dashboard/{domain}/annotations",
        _api(_account_reader, _account_listing),
        methods=["GET"],
    ),
    Route("/api/dashboard/{domain}/annotations", create, methods=["POST"]),
    Route("/api/dashboard/{domain}/annotations/{annotation_id}", remove, methods=["DELETE"]),
    Route("/api/share/{slug}/annotations", _api(_link_reader, _shared_listing), methods=["GET"]),
]
