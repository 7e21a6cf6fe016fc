"""The dashboard's segments: list, save, change and delete a site's saved filters.

Routes (JSON; session cookie, and `X-CSRF-Token` on writes, as the dashboard's queries):
- `GET /api/dashboard/{domain}/segments`: the account's personal segments and the site's.
- `POST /api/dashboard/{domain}/segments`: `{name, type, filters}` -> 201, the segment.
- `PATCH /api/dashboard/{domain}/segments/{segment_id}`: any of `name`, `type`, `filters`.
- `DELETE /api/dashboard/{domain}/segments/{segment_id}`.
- `GET /api/share/{slug}/segments`: a shared link's site segments (read-only).
Who may do what: jetrack.sites.segments. A query names a segment with the Stats API's
`["is", "segment", [id]]` filter (web/segment_filters.py).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from jetrack.sites import segments
from jetrack.stats.errors import QueryError
from jetrack.stats.query import SiteInfo
from jetrack.stats.segments import check_saved_filters
from jetrack.store.events import EventStore
from jetrack.store.models import Segment, Site, User, as_utc
from jetrack.web.auth import require_user

# The dashboard's readers: who reads which site (404, restriction, a link's password).
from jetrack.web.dashboard import HEADERS, _account_reader, _api, _link_reader
from jetrack.web.db import in_session
from jetrack.web.forms import number
from jetrack.web.json_io import json_object


def segment_json(segment: Segment, account_id: int | None, may_manage: bool) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": segment.id,
        "name": segment.name,
        "type": segment.type,
        "filters": segment.filters,
        "updated_at": as_utc(segment.updated_at).isoformat(),
    }
    if account_id is not None:
        out["saved_by_you"] = segment.owner_id == account_id
        out["can_edit"] = segment.type == segments.PERSONAL or may_manage
    return out


def _listing(session: Session, site_id: int, user: User | None) -> dict[str, Any]:
    site = session.get(Site, site_id)
    if site is None:
        raise HTTPException(404, "no such site")
    account_id = user.id if user is not None else None
    may = user is not None and segments.may_manage_site_segments(session, user, site)
    rows = segments.visible_segments(session, site, account_id)
    return {
        "segments": [segment_json(row, account_id, may) for row in rows],
        "can_manage_site_segments": may,
    }


async def _account_listing(request: Request, site: SiteInfo, _events: EventStore) -> Any:
    return await in_session(request, _listing, site.id, await require_user(request))


async def _shared_listing(request: Request, site: SiteInfo, _events: EventStore) -> Any:
    return await in_session(request, _listing, site.id, None)


def _filters(value: Any) -> list[Any]:
    try:
        return check_saved_filters(value)
    except QueryError as exc:
        raise HTTPException(exc.status, exc.message) from None


def _refused(exc: segments.SegmentError) -> HTTPException:
    return HTTPException(exc.status, f"{exc.field}: {exc.translated()}")


def _site(session: Session, site_id: int) -> Site:
    site = session.get(Site, site_id)
    if site is None:
        raise HTTPException(404, "no such site")
    return site


async def create(request: Request) -> Response:
    site, _ = await _account_reader(request)
    user = await require_user(request)
    body = await json_object(request)
    filters = _filters(body.get("filters"))

    def save(session: Session) -> dict[str, Any]:
        row = segments.create_segment(
            session, _site(session, site.id), user, body.get("name"), body.get("type"), filters
        )
        may = segments.may_manage_site_segments(session, user, _site(session, site.id))
        return segment_json(row, user.id, may)

    try:
        return JSONResponse(await in_session(request, save), 201, headers=HEADERS)
    except segments.SegmentError as exc:
        raise _refused(exc) from None


async def change(request: Request) -> Response:
    site, _ = await _account_reader(request)
    user = await require_user(request)
    segment_id = number(request.path_params["segment_id"]) or 0
    body = await json_object(request)
    if not {"name", "type", "filters"} & body.keys():
        raise HTTPException(400, "nothing to change: send name, type or filters")
    filters = _filters(body["filters"]) if "filters" in body else None

    def save(session: Session) -> dict[str, Any]:
        row = segments.update_segment(
            session,
            _site(session, site.id),
            user,
            segment_id,
            name=body.get("name"),
            kind=body.get("type"),
            filters=filters,
        )
        may = segments.may_manage_site_segments(session, user, _site(session, site.id))
        return segment_json(row, user.id, may)

    try:
        return JSONResponse(await in_session(request, save), headers=HEADERS)
    except segments.SegmentError as exc:
        raise _refused(exc) from None


async def remove(request: Request) -> Response:
    site, _ = await _account_reader(request)
    user = await require_user(request)
    segment_id = number(request.path_params["segment_id"]) or 0

    def drop(session: Session) -> None:
        segments.delete_segment(session, _site(session, site.id), user, segment_id)

    try:
        await in_session(request, drop)
    except segments.SegmentError as exc:
        raise _refused(exc) from None
    return JSONResponse({"deleted": segment_id}, headers=HEADERS)


routes: list[BaseRoute] = [
    Route(
        "/api/dashboard/{domain}/segments", _api(_account_reader, _account_listing), methods=["GET"]
    ),
    Route("/api/dashboard/{domain}/segments", create, methods=["POST"]),
    Route("/api/dashboard/{domain}/segments/{segment_id}", change, methods=["PATCH"]),
    Route("/api/dashboard/{domain}/segments/{segment_id}", remove, methods=["DELETE"]),
    Route("/api/share/{slug}/segments", _api(_link_reader, _shared_listing), methods=["GET"]),
]
