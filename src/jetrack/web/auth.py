"""The signed-in account of a request, from the essential session cookie `jt_session`."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote

from sqlalchemy.orm import Session
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from jetrack.accounts.login_sessions import SESSION_LIFETIME, find_session
from jetrack.config import Settings
from jetrack.store.models import User
from jetrack.web.db import in_session

SESSION_COOKIE = "jt_session"
THEME_COOKIE = "jt_theme"
THEMES = ("light", "dark", "system")


@dataclass(frozen=True)
class SignedIn:
    user: User
    session_id: int
    csrf_token: str
    pending_2fa: bool


class LoginRequired(HTTPException):
    """A page that needs an account: 303 to /login, coming back afterwards."""

    def __init__(self, path: str) -> None:
        super().__init__(303, "log in first", headers={"Location": f"/login?next={quote(path)}"})


def _lookup(session: Session, token: str) -> SignedIn | None:
    found = find_session(session, token)
    if found is None:
        return None
    row, user = found
    return SignedIn(user, row.id, row.csrf_token, row.pending_2fa)


async def session_of(request: Request) -> SignedIn | None:
    """The request's session (including one still waiting for its second factor)."""
    if not hasattr(request.state, "jetrack_session"):
        token = request.cookies.get(SESSION_COOKIE, "")
        request.state.jetrack_session = await in_session(request, _lookup, token) if token else None
    found: SignedIn | None = request.state.jetrack_session
    return found


async def signed_in(request: Request) -> SignedIn | None:
    """The fully signed-in session (second factor done), else None."""
    found = await session_of(request)
    return found if found is not None and not found.pending_2fa else None


async def current_user(request: Request) -> User | None:
    """The signed-in account, or None (no cookie, unknown, expired, pending 2FA, locked)."""
    found = await signed_in(request)
    return found.user if found is not None else None


async def require_user(request: Request) -> User:
    """The signed-in account; otherwise 401 JSON under /api/ and a redirect to /login for pages."""
    user = await current_user(request)
    if user is not None:
        return user
    if request.url.path.startswith("/api/"):
        raise HTTPException(401, "log in first: this endpoint needs a signed-in session")
    path = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    raise LoginRequired(path)


def cookie_secure(request: Request) -> bool:
    """Secure cookies whenever the browser talks TLS (directly or through a TLS proxy)."""
    settings: Settings = request.app.state.settings
    return settings.tls or settings.base_url.startswith("https://") or request.url.scheme == "https"


def set_session_cookie(request: Request, response: Response, token: str) -> None:
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=int(SESSION_LIFETIME.total_seconds()),
        path="/",
        secure=cookie_secure(request),
        httponly=True,
        samesite="lax",
    )


def clear_session_cookie(request: Request, response: Response) -> None:
    response.delete_cookie(
        SESSION_COOKIE, path="/", secure=cookie_secure(request), httponly=True, samesite="lax"
    )


def theme_of(request: Request) -> str:
    theme = request.cookies.get(THEME_COOKIE, "system")
    return theme if theme in THEMES else "system"


def set_theme_cookie(request: Request, response: Response, theme: str) -> None:
    # Not HttpOnly: the dashboard script reads it to switch themes without a reload.
    response.set_cookie(
        THEME_COOKIE,
        theme,
        max_age=365 * 24 * 3600,
        path="/",
        secure=cookie_secure(request),
        httponly=False,
        samesite="lax",
    )
