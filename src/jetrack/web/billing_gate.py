"""What a team's plan means for the pages: the answers to a plan's refusal (402, naming
the plan and the upgrade page) and to a locked dashboard (402 "over quota, upgrade"), and
the banners of the sites list and the dashboard (jetrack.billing decides; this renders)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from jetrack.accounts.permissions import teams_of
from jetrack.billing.banners import Banner, banners_for, team_banners
from jetrack.billing.limits import PlanLimitError, upgrade_path
from jetrack.billing.quota import QuotaLocked, require_unlocked
from jetrack.config import Settings
from jetrack.store.models import Site, User, utcnow

HEADERS = {"Cache-Control": "no-store"}


def _wants_page(request: Request) -> bool:
    return not request.url.path.startswith("/api/") and "text/html" in request.headers.get(
        "accept", ""
    )


async def plan_refused(request: Request, exc: Exception) -> Response:
    """A plan's refusal: JSON for APIs, a page naming the plan and the upgrade for browsers."""
    assert isinstance(exc, PlanLimitError)
    if not _wants_page(request):
        return JSONResponse(exc.body(), status_code=exc.status, headers=HEADERS)
    from jetrack.web.templating import render

    context = {"message": exc.translated(), "upgrade_url": exc.upgrade_url, "plan": exc.plan}
    return await render(request, "billing_refused.html", context, status=exc.status)


async def quota_locked(request: Request, exc: Exception) -> Response:
    """A locked team's dashboard or Stats API: 402 with what happened and how to unlock."""
    assert isinstance(exc, QuotaLocked)
    standing = exc.standing
    if not _wants_page(request):
        body = {
            "error": str(exc),
            "plan": standing.plan.key,
            "used": standing.used,
            "quota": standing.plan.monthly_pageviews,
            "upgrade_url": upgrade_path(exc.team_id),
        }
        return JSONResponse(body, status_code=exc.status, headers=HEADERS)
    from jetrack.web.templating import render

    context = {"standing": standing, "upgrade_url": upgrade_path(exc.team_id)}
    return await render(request, "billing_locked.html", context, status=exc.status)


def billing_of(request: Request) -> bool:
    settings: Settings = request.app.state.settings
    return settings.billing


def site_unlocked(session: Session, site: Site, billing: bool, now: datetime | None = None) -> None:
    """Raise QuotaLocked when the site's team is locked (with billing on). Called for every
    dashboard and Stats API query: with billing off it loads nothing."""
    if billing:
        require_unlocked(session, site.team, billing, now or utcnow())


def site_banners(session: Session, site: Site, billing: bool) -> list[Banner]:
    return team_banners(session, site.team, billing, utcnow()) if site.team is not None else []


def account_banners(session: Session, user: User, billing: bool) -> list[Banner]:
    """The banners of every team the account is in."""
    return banners_for(session, teams_of(session, user), billing, utcnow())
