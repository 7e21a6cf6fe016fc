"""Logging set-up, and the access log that never records a client address, a path's
values (tokens, slugs) or a control character a client sent."""

from __future__ import annotations

import logging
import re
import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

access_log = logging.getLogger("jetrack.access")


# Where the routing layer leaves the matched route's template (web/policy_middleware.py).
ROUTE_KEY = "jetrack.route"
UNROUTED = "(no route)"

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def escape_controls(text: str) -> str:
    """A line break or other control character becomes \\xNN: no one can forge a log line."""
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


class EscapingFormatter(logging.Formatter):
    """Escapes control characters in every message (tracebacks keep their lines)."""

    def formatMessage(self, record: logging.LogRecord) -> str:
        record.message = escape_controls(record.message)
        return super().formatMessage(record)


def configure_logging(level: str) -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(EscapingFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logging.basicConfig(level=level.upper(), handlers=[handler], force=True)
    # The servers' own access logs print the client address: they stay off.
    for name in ("uvicorn.access", "granian.access"):
        logging.getLogger(name).disabled = True
    logging.getLogger("alembic").setLevel(logging.WARNING)


# Event ingestion is counted at /metrics instead: a line per event would be noise and cost.
QUIET_PATHS = frozenset({"/api/event", "/api/events"})


class StatusNoted:
    """`send` that notes the answer's status (500 until one is sent)."""

    def __init__(self, send: Send) -> None:
        self.send = send
        self.status = 500

    async def __call__(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.status = message["status"]
        await self.send(message)


class AccessLogMiddleware:
    """Logs method, route template (`/share/{slug}`, not the slug), status and duration.
    No client address, no path values, no query string."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in QUIET_PATHS:
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        noted = StatusNoted(send)
        try:
            await self.app(scope, receive, noted)
        finally:
            if access_log.isEnabledFor(logging.INFO):
                access_log.info(
                    "%s %s %d %.1fms",
                    escape_controls(scope["method"]),
                    escape_controls(scope.get(ROUTE_KEY) or UNROUTED),
                    noted.status,
                    (time.perf_counter() - started) * 1000,
                )


class HstsMiddleware:
    """Adds Strict-Transport-Security when Jetrack terminates TLS itself."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers.append(
                    (b"strict-transport-security", b"max-age=31536000; includeSubDomains")
                )
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_wrapper if scope["type"] == "http" else send)
