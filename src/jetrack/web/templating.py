"""Server-rendered pages: one Jinja environment, one base layout, the shared context."""

from __future__ import annotations

from typing import Any

from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import HTMLResponse

from jetrack.notify.templates import template_environment
from jetrack.web.auth import session_of, theme_of
from jetrack.web.static_files import page_script

environment = template_environment()
# A page's TypeScript module, built with the dashboard: `page_script('src/pages/x.ts')`.
environment.globals["page_script"] = page_script

# Short notices carried in `?notice=` after a redirect (no flash cookie needed).
NOTICES = {
    "saved": "Saved.",
    "site-added": "Site added. Copy the snippet below into your site's <head>.",
    "site-deleted": "The site and its settings were deleted.",
    "logged-out": "You are logged out.",
    "password-changed": "Your password was changed; your other sessions were ended.",
    "password-reset": "Your password was reset. Log in with the new one.",
    "verified": "Your email address is confirmed. Welcome!",
    "email-change-sent": "We sent a confirmation link to the new address.",
    "email-changed": "Your email address was changed.",
    "session-revoked": "The session was ended.",
    "2fa-enabled": "Two-factor authentication is on.",
    "2fa-disabled": "Two-factor authentication is off.",
    "key-revoked": "The API key was revoked.",
    "invited": "Invitation sent.",
    "invitation-revoked": "The invitation was withdrawn.",
    "member-removed": "Access removed.",
    "role-changed": "Role changed.",
    "signed-up-without-mail": (
        "Your account is ready and you are logged in. This server sends no mail"
        " (no SMTP server is configured), so your address was not confirmed by mail."
    ),
    "joined": "You joined. The shared sites are listed below.",
    "link-revoked": "The shared link was revoked.",
    "link-created": "Shared link created.",
    "goal-added": "Goal added. Events already received count for it too.",
    "goal-renamed": "Goal renamed.",
    "goal-deleted": "Goal deleted. Its events stay.",
    "funnel-added": "Funnel added. Visits already recorded count for it too.",
    "funnel-renamed": "Funnel renamed.",
    "funnel-deleted": "Funnel deleted. Its goals and events stay.",
    "recipient-added": "A confirmation mail is on its way; nothing else goes to that address"
    " until it is confirmed.",
    "recipient-removed": "That address gets nothing more.",
}


async def render(
    request: Request,
    template: str,
    context: dict[str, Any] | None = None,
    *,
    status: int = 200,
    background: BackgroundTask | None = None,
) -> HTMLResponse:
    """Render a page with the signed-in user, CSRF token and theme filled in."""
    found = await session_of(request)
    full: dict[str, Any] = {
        "request": request,
        "user": found.user if found is not None and not found.pending_2fa else None,
        "csrf_token": found.csrf_token if found is not None else "",
        "theme": theme_of(request),
        "notice": NOTICES.get(request.query_params.get("notice", "")),
        "errors": {},
        "values": {},
        "nav": "",
    }
    full.update(context or {})
    html = environment.get_template(template).render(full)
    headers = {"Cache-Control": "no-store"}  # framing and CSP: web/security_headers.py
    return HTMLResponse(html, status_code=status, headers=headers, background=background)
