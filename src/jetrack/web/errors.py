"""Error answers: JSON for APIs, a page for browsers; a 4xx names what is wrong, and a 500
reveals nothing."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Mapping

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from jetrack.i18n.catalogs import gettext_noop
from jetrack.logs import ROUTE_KEY, UNROUTED
from jetrack.web.security_headers import headers_for

log = logging.getLogger("jetrack.web")

PAGE_TEXT = {
    403: (
        gettext_noop("Not allowed"),
        gettext_noop("This request was refused. Reload the page and try again."),
    ),
    404: (gettext_noop("Not found"), gettext_noop("There is nothing here, or you may not see it.")),
    405: (
        gettext_noop("Not allowed"),
        gettext_noop("This address does not take that kind of request."),
    ),
    429: (
        gettext_noop("Slow down"),
        gettext_noop("Too many requests; wait a moment and try again."),
    ),
    500: (
        gettext_noop("Something went wrong"),
        gettext_noop("The error was logged. Please try again in a moment."),
    ),
}


def error_response(status: int, message: str, **extra: object) -> JSONResponse:
    return JSONResponse({"error": message, **extra}, status_code=status)


def _wants_page(request: Request) -> bool:
    return not request.url.path.startswith(
        ("/api/", "/js/", "/metrics")
    ) and "text/html" in request.headers.get("accept", "")


async def _page(
    request: Request, status: int, headers: Mapping[str, str] | None = None
) -> Response:
    from jetrack.web.templating import render

    title, message = PAGE_TEXT.get(
        status, (gettext_noop("Error"), gettext_noop("The request could not be completed."))
    )
    response = await render(
        request,
        "message.html",
        {"title": title, "message": message, "href": "/", "action": gettext_noop("Home")},
        status=status,
    )
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


async def http_exception(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if exc.status_code in (204, 304):
        return Response(status_code=exc.status_code, headers=exc.headers)
    if _wants_page(request):
        return await _page(request, exc.status_code, exc.headers)
    return JSONResponse({"error": exc.detail}, status_code=exc.status_code, headers=exc.headers)


async def server_error(request: Request, exc: Exception) -> Response:
    # The exception type and where it was raised: request data may hold personal data.
    trace = exc.__traceback__
    while trace is not None and trace.tb_next is not None:
        trace = trace.tb_next
    where = f"{trace.tb_frame.f_code.co_filename}:{trace.tb_lineno}" if trace is not None else "?"
    # The route's template, not the path: a path can hold a token or a slug.
    log.error(
        "internal error on %s %s: %s at %s",
        request.method,
        request.scope.get(ROUTE_KEY) or UNROUTED,
        type(exc).__name__,
        where,
    )
    response: Response | None = None
    if _wants_page(request):
        # The page itself failing falls back to plain JSON.
        with contextlib.suppress(Exception):
            response = await _page(request, 500)
    if response is None:
        response = JSONResponse({"error": "internal error"}, status_code=500)
    # Starlette answers a 500 from outside every middleware: the security headers go on here.
    content_type = response.headers.get("content-type", "").encode()
    for name, value in headers_for(content_type, None):
        response.headers[name.decode()] = value.decode()
    return response
