"""CSRF protection for every state-changing request of the dashboard and account pages.

Two checks, both on every POST/PUT/PATCH/DELETE that a browser session can make:
1. Origin: a request that carries `Origin` (every current browser does on POST) must come
   from this site: the origin of JETRACK_BASE_URL or one of JETRACK_EXTRA_ORIGINS (never
   one derived from the request's Host header, which the client picks). `Sec-Fetch-Site:
   cross-site` is refused as well.
2. Token: when the request carries a session cookie, it must carry that session's CSRF
   token, as the form field `csrf_token` (server-rendered forms) or the header
   `X-CSRF-Token` (the dashboard's fetch calls). The token lives server-side with the
   session; pages render it into `<meta name="csrf-token">` and `GET /api/account/me`
   returns it. It is no cookie, so the dashboard keeps to its two cookie kinds.
Signed-out forms (sign up, log in, reset) have no session to bind a token to; the Origin
check protects them.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request

from jetrack.accounts.tokens import same
from jetrack.config import Settings
from jetrack.web.auth import SESSION_COOKIE, session_of

FORM_FIELD = "csrf_token"
HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class CsrfRejected(HTTPException):
    def __init__(self, reason: str) -> None:
        super().__init__(403, f"request refused (CSRF protection): {reason}")


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def check_origin(request: Request) -> None:
    if request.headers.get("sec-fetch-site", "") == "cross-site":
        raise CsrfRejected("the request came from another site")
    origin = request.headers.get("origin")
    if origin is None:
        return
    settings: Settings = request.app.state.settings
    # The Host header is the client's to choose: only configured origins count.
    allowed = {_origin(settings.base_url), *settings.extra_origins}
    if origin.lower() not in allowed:
        raise CsrfRejected("the request came from another origin")


async def csrf_token(request: Request) -> str:
    """The token to render into forms and the page; empty when signed out."""
    found = await session_of(request)
    return found.csrf_token if found is not None else ""


async def check_csrf(request: Request, submitted: str | None = None) -> None:
    """Raise 403 unless the request passes both checks. `submitted` is the form field;
    without it the `X-CSRF-Token` header is used."""
    if request.method in SAFE_METHODS:
        return
    check_origin(request)
    if SESSION_COOKIE not in request.cookies:
        return
    found = await session_of(request)
    if found is None:
        return  # a stale cookie grants nothing; the handler treats the request as signed out
    token = submitted if submitted is not None else request.headers.get(HEADER, "")
    if not token or not same(token, found.csrf_token):
        raise CsrfRejected("missing or wrong CSRF token; reload the page and try again")


async def read_form(request: Request) -> FormData:
    """The submitted form, after the CSRF checks."""
    try:
        form = await request.form(max_files=0, max_fields=200)
    except HTTPException:
        raise  # the body cap's 413 (web/policy_middleware.py)
    except Exception:
        raise HTTPException(400, "the form could not be read") from None
    token = form.get(FORM_FIELD)
    await check_csrf(request, token if isinstance(token, str) else "")
    return form
