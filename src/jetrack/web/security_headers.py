"""The security headers of every answer, in one place: CSP, nosniff, Referrer-Policy and
framing. Pages are framed nowhere, except a shared link by the origins its owner lists."""

from __future__ import annotations

from collections.abc import Iterable

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

# Where a handler leaves the origins that may frame its answer (allow_framing).
FRAME_KEY = "jetrack.frame_ancestors"
# Where a handler leaves the sources its forms' redirects may lead to (allow_form_targets).
FORM_KEY = "jetrack.form_targets"

# Pages and the dashboard load only their own scripts and styles: the templates have no
# inline script or style attribute, the dashboard's bootstrap is JSON (not executed) and
# Preact sets styles through the CSSOM, which CSP does not restrict.
PAGE_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'"
)
# JSON, text and files: nothing in them is ever to run or load anything.
RESOURCE_POLICY = "default-src 'none'; base-uri 'none'; form-action 'none'"

SAME_FOR_ALL = [
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
]
OWNED = {b"content-security-policy", b"x-frame-options", b"x-content-type-options"}
OWNED |= {b"referrer-policy"}


def allow_framing(request: Request, origins: Iterable[str]) -> None:
    """Let these origins (`https://host[:port]`) frame this answer; none leaves it unframable."""
    request.scope[FRAME_KEY] = [origin for origin in origins if origin]


def allow_form_targets(request: Request, sources: Iterable[str]) -> None:
    """Let this page's forms lead to these CSP sources too: browsers apply `form-action` to
    the redirect that answers a form (billing's checkout and portal buttons, which are
    answered 303 to the payment provider's pages)."""
    request.scope[FORM_KEY] = [source for source in sources if source]


def headers_for(
    content_type: bytes, frame_ancestors: list[str] | None, form_targets: list[str] | None = None
) -> list[tuple[bytes, bytes]]:
    is_page = content_type.startswith(b"text/html")
    policy = PAGE_POLICY if is_page else RESOURCE_POLICY
    if is_page and form_targets:
        policy += " " + " ".join(form_targets)
    headers = list(SAME_FOR_ALL)
    if frame_ancestors:
        policy += "; frame-ancestors " + " ".join(frame_ancestors)
    else:
        policy += "; frame-ancestors 'none'"
        headers.append((b"x-frame-options", b"DENY"))
    headers.append((b"content-security-policy", policy.encode()))
    return headers


class SecurityHeadersMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                kept = [(k, v) for k, v in message.get("headers", []) if k.lower() not in OWNED]
                content_type = next((v for k, v in kept if k.lower() == b"content-type"), b"")
                message["headers"] = kept + headers_for(
                    content_type, scope.get(FRAME_KEY), scope.get(FORM_KEY)
                )
            await send(message)

        await self.app(scope, receive, send_with_headers)
