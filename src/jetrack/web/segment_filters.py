"""The saved segments a query names, looked up for its asker and handed to the engine as
values (SiteInfo.segments), so that parsing stays free of I/O (jetrack.stats.segments)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from sqlalchemy.orm import Session
from starlette.exceptions import HTTPException
from starlette.requests import Request

from jetrack.sites.segments import usable_segments
from jetrack.stats.errors import QueryError
from jetrack.stats.query import SiteInfo
from jetrack.stats.segments import requested_ids, saved_segment
from jetrack.web.db import in_session


def _lookup(
    session: Session, site: SiteInfo, account_id: int | None, ids: Sequence[int]
) -> SiteInfo:
    rows = usable_segments(session, site.id, account_id, ids)
    return replace(site, segments=tuple(saved_segment(r.id, r.name, r.filters) for r in rows))


async def with_segments(
    request: Request, site: SiteInfo, filters: Any, *, account_id: int | None
) -> SiteInfo:
    """`site` with the segments `filters` name that the asker may use: the site's segments
    and, for a signed-in account (`account_id`), its own personal ones; a shared link's
    visitor (None) uses site segments only. Ids it may not use are left for the engine to
    refuse by number. A request without a segment filter costs no lookup."""
    ids = requested_ids(filters)
    if not ids:
        return site
    try:
        return await in_session(request, _lookup, site, account_id, ids)
    except QueryError as exc:
        raise HTTPException(exc.status, exc.message) from None
