"""The saved funnel a request names, for the dashboard's and the Stats API's funnel routes."""

from __future__ import annotations

from sqlalchemy.orm import Session
from starlette.exceptions import HTTPException
from starlette.requests import Request

from jetrack.sites.funnels import find_funnel
from jetrack.stats.funnel import FunnelInfo
from jetrack.web.db import in_session


def _saved_funnel(session: Session, site_id: int, funnel_id: int) -> FunnelInfo:
    funnel = find_funnel(session, site_id, funnel_id)
    if funnel is None:
        raise HTTPException(404, f"funnel_id: this site has no funnel {funnel_id}")
    return FunnelInfo.from_funnel(funnel)


async def saved_funnel(request: Request, site_id: int, funnel_id: int) -> FunnelInfo:
    """The site's funnel `funnel_id` as the engine counts it; 404 for another site's."""
    return await in_session(request, _saved_funnel, site_id, funnel_id)
