"""Picks each request's language before its handler runs: the signed-in account's choice
(Account page), else the browser's Accept-Language, else English (jetrack.i18n.catalogs)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from jetrack.i18n.catalogs import negotiate, set_language
from jetrack.web.auth import SESSION_COOKIE, session_of

# Answers that show no words: no need to look up the account for them.
_WORDLESS = ("/static/", "/api/event", "/js/", "/favicon")


class LanguageMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and not scope["path"].startswith(_WORDLESS):
            request = Request(scope)
            saved = None
            if request.cookies.get(SESSION_COOKIE):
                found = await session_of(request)
                saved = found.user.locale if found is not None else None
            set_language(negotiate(saved, request.headers.get("accept-language")))
        await self.app(scope, receive, send)
