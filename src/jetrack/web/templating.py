"""Server-rendered pages: one Jinja environment, one base layout, the shared context."""

from __future__ import annotations

from typing import Any

from markupsafe import Markup
from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import HTMLResponse

from jetrack.config import Settings
from jetrack.i18n import formatting
from jetrack.i18n.catalogs import current_language, gettext, gettext_noop, ngettext
from jetrack.i18n.errors import translated_errors
from jetrack.notify.templates import template_environment
from jetrack.web.auth import session_of, theme_of
from jetrack.web.static_files import page_script


def _page_gettext(msgid: str, **params: Any) -> str:
    """`_()` in a page: a value that is markup (`{% set x %}<strong>..</strong>{% endset %}`)
    stays markup in the escaped translation, so a sentence with an element inside is still
    one message."""
    if not any(isinstance(value, Markup) for value in params.values()):
        return gettext(msgid, **params)
    return Markup.escape(gettext(msgid)).format(**params)


environment = template_environment()
# A page's TypeScript module, built with the dashboard: `page_script('src/pages/x.ts')`.
environment.globals["page_script"] = page_script
# The request's language (web/language.py): `_("...")`, `ngettext(...)`, `lang()`, and
# numbers and dates written its way.
environment.globals.update(
    _=_page_gettext, gettext=_page_gettext, ngettext=ngettext, lang=current_language
)
environment.filters.update(
    number=formatting.number,
    day=formatting.day,
    moment=formatting.moment,
    currency_name=formatting.currency_name,
    percent=formatting.percent,
    money=formatting.money,
)

# The roles' names, as the team and access pages show them (`_(role)`).
ROLE_NAMES = (
    gettext_noop("owner"),
    gettext_noop("admin"),
    gettext_noop("viewer"),
    gettext_noop("editor"),
)

# Short notices carried in `?notice=` after a redirect (no flash cookie needed).
NOTICES = {
    "saved": gettext_noop("Saved."),
    "site-added": gettext_noop("Site added. Copy the snippet below into your site's <head>."),
    "site-deleted": gettext_noop("The site and its settings were deleted."),
    "logged-out": gettext_noop("You are logged out."),
    "password-changed": gettext_noop("Your password was changed; your other sessions were ended."),
    "password-reset": gettext_noop("Your password was reset. Log in with the new one."),
    "verified": gettext_noop("Your email address is confirmed. Welcome!"),
    "email-change-sent": gettext_noop("We sent a confirmation link to the new address."),
    "email-changed": gettext_noop("Your email address was changed."),
    "session-revoked": gettext_noop("The session was ended."),
    "2fa-enabled": gettext_noop("Two-factor authentication is on."),
    "2fa-disabled": gettext_noop("Two-factor authentication is off."),
    "key-revoked": gettext_noop("The API key was revoked."),
    "invited": gettext_noop("Invitation sent."),
    "invitation-revoked": gettext_noop("The invitation was withdrawn."),
    "member-removed": gettext_noop("Access removed."),
    "role-changed": gettext_noop("Role changed."),
    "signed-up-without-mail": gettext_noop(
        "Your account is ready and you are logged in. This server sends no mail"
        " (no SMTP server is configured), so your address was not confirmed by mail."
    ),
    "joined": gettext_noop("You joined. The shared sites are listed below."),
    "link-revoked": gettext_noop("The shared link was revoked."),
    "link-created": gettext_noop("Shared link created."),
    "goal-added": gettext_noop("Goal added. Events already received count for it too."),
    "goal-renamed": gettext_noop("Goal renamed."),
    "goal-deleted": gettext_noop("Goal deleted. Its events stay."),
    "funnel-added": gettext_noop("Funnel added. Visits already recorded count for it too."),
    "funnel-renamed": gettext_noop("Funnel renamed."),
    "funnel-deleted": gettext_noop("Funnel deleted. Its goals and events stay."),
    "recipient-added": gettext_noop(
        "A confirmation mail is on its way; nothing else goes to that address"
        " until it is confirmed."
    ),
    "recipient-removed": gettext_noop("That address gets nothing more."),
    "import-deleted": gettext_noop("The import and its numbers were deleted."),
    "checkout-done": gettext_noop(
        "Thank you! The payment provider confirmed your checkout; the plan below is the"
        " team's from now on (reload in a moment if it has not changed yet)."
    ),
    "checkout-cancelled": gettext_noop("Checkout cancelled: nothing was charged or changed."),
    "billing-cancelled": gettext_noop(
        "The subscription ends with the paid period; the team keeps its plan until then."
    ),
    "billing-resumed": gettext_noop("The subscription goes on."),
    "switched": gettext_noop(
        "Plan switched. Any difference for the rest of the paid period is on the next invoice."
    ),
    "switch-pending": gettext_noop(
        "The plan switches at the end of the paid period; nothing is charged now."
    ),
    "switch-undone": gettext_noop("The planned switch is cancelled: the plan stays."),
}


def _notice(key: str) -> str | None:
    found = NOTICES.get(key)
    return gettext(found) if found else None


def _billing_on(request: Request) -> bool:
    """Billing links and sections appear only with JETRACK_BILLING on."""
    settings: Settings | None = getattr(request.app.state, "settings", None)
    return settings is not None and settings.billing


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
        "notice": _notice(request.query_params.get("notice", "")),
        "errors": {},
        "values": {},
        "nav": "",
        "billing_on": _billing_on(request),
    }
    full.update(context or {})
    # Form problems from the domain code are English with their msgid: shown translated.
    if isinstance(full["errors"], dict):
        full["errors"] = translated_errors(full["errors"])
    html = environment.get_template(template).render(full)
    headers = {"Cache-Control": "no-store"}  # framing and CSP: web/security_headers.py
    return HTMLResponse(html, status_code=status, headers=headers, background=background)
