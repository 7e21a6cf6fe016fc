"""POST /api/event (Plausible-compatible) and POST /api/events (batches from servers).

The request's checks (`check_request`) and the answers (`Answer`, `answer_for` of what
`jetrack.ingest.accept` reports) are plain functions and values, shared by two ways in: under uvicorn,
`jetrack.web.ingest_protocol` calls them from the HTTP parser's callbacks; elsewhere
(granian, tests on the app) `EventEndpoint` is a plain ASGI endpoint, with no
Request/Response objects and one pass over the headers."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import orjson
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute, Route
from starlette.types import Receive, Scope, Send

from jetrack.ingest.accept import (
    Accepted,
    NotJournaled,
    Outcome,
    OverBudget,
    accept,
    unknown_site_due,
)
from jetrack.ingest.service import IngestService
from jetrack.ingest.wire import (
    MAX_BODY_BYTES,
    WireError,
    WireEvent,
    decode_json,
    parse_batch,
    parse_event,
)

log = logging.getLogger("jetrack")

# A POST from the tracker is a CORS "simple" request: the origin header is all a browser
# reads from its answer. The others matter only to a preflight (OPTIONS).
ALLOW_ORIGIN = (b"access-control-allow-origin", b"*")
PREFLIGHT = [
    (b"access-control-allow-methods", b"POST, OPTIONS"),
    (b"access-control-allow-headers", b"Content-Type"),
    (b"access-control-max-age", b"86400"),
]
_TEXT = b"text/plain; charset=utf-8"
_JSON = b"application/json"
WANTED = {
    b"user-agent",
    b"accept-language",
    b"content-length",
    b"x-forwarded-for",
    b"forwarded",
    b"x-real-ip",
}


@dataclass(frozen=True, slots=True)
class Answer:
    """An answer of the ingest endpoints: status, body, and headers beyond the usual three
    (content type, length, CORS origin)."""

    status: int
    body: bytes
    extra: tuple[tuple[bytes, bytes], ...] = ()

    def headers(self) -> list[tuple[bytes, bytes]]:
        content_type = _JSON if self.body.startswith(b"{") else _TEXT
        length = str(len(self.body)).encode()
        return [
            (b"content-type", content_type),
            (b"content-length", length),
            ALLOW_ORIGIN,
            *self.extra,
        ]


ACCEPTED = Answer(202, b"ok")
METHOD_NOT_ALLOWED = Answer(
    405, b'{"error": "method not allowed: use POST"}', ((b"allow", b"POST, OPTIONS"),)
)
PREFLIGHT_ANSWER = Answer(204, b"", tuple(PREFLIGHT))
# The journal could not take the events (a full disk): none was accepted; retry later.
JOURNAL_FAILED = Answer(503, b'{"error": "events could not be journaled; send them again later"}')
SERVER_ERROR = Answer(500, b'{"error": "internal error"}')


def answer_for(outcome: Outcome) -> Answer:
    """The HTTP answer of what `accept` reported."""
    if isinstance(outcome, Accepted):
        if not outcome.dropped:
            return ACCEPTED
        reasons = ",".join(sorted(set(outcome.dropped))).encode()
        return Answer(202, b"ok", ((b"x-jetrack-dropped", reasons),))
    if isinstance(outcome, OverBudget):
        message = (
            f"more than {outcome.limit} events a minute from one address "
            f"(JETRACK_BATCH_EVENTS_PER_MINUTE); nothing of this batch was accepted, "
            f"send it again in {outcome.retry_after} s"
        )
        return Answer(
            429,
            orjson.dumps({"error": f"body: {message}", "field": "body"}),
            ((b"retry-after", str(outcome.retry_after).encode()),),
        )
    assert isinstance(outcome, NotJournaled)
    return JOURNAL_FAILED


def _bad(field: str, message: str, status: int = 400) -> Answer:
    return Answer(status, orjson.dumps({"error": f"{field}: {message}", "field": field}))


TOO_LARGE = _bad("body", f"must be at most {MAX_BODY_BYTES} bytes", status=413)


def wanted_headers(raw: Iterable[tuple[bytes, bytes]]) -> dict[str, str]:
    """The request headers the endpoints read; the first occurrence wins, as in Starlette."""
    headers: dict[str, str] = {}
    for name, value in raw:
        if name in WANTED:
            headers.setdefault(name.decode("latin-1"), value.decode("latin-1"))
    return headers


def declared_too_large(headers: Mapping[str, str]) -> bool:
    declared = headers.get("content-length", "")
    return declared.isdigit() and int(declared) > MAX_BODY_BYTES


def check_request(headers: Mapping[str, str], body: bytes, batch: bool) -> list[WireEvent] | Answer:
    """The request's events, or the 4xx answer naming what is wrong with it. The body's
    size is the caller's to bound (above MAX_BODY_BYTES: TOO_LARGE) while reading it."""
    try:
        raw = decode_json(body)
        events = parse_batch(raw) if batch else [parse_event(raw)]
    except WireError as exc:
        return _bad(exc.field, str(exc))
    if not headers.get("user-agent"):
        return _bad("User-Agent", "header is required")
    return events


class BodyTooLarge(Exception):
    pass


async def _read_body(receive: Receive, headers: Mapping[str, str]) -> bytes:
    if declared_too_large(headers):
        raise BodyTooLarge
    chunks, size = [], 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise WireError("body", "the client disconnected before sending it")
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise BodyTooLarge
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


async def _send(send: Send, answer: Answer) -> None:
    await send(
        {"type": "http.response.start", "status": answer.status, "headers": answer.headers()}
    )
    await send({"type": "http.response.body", "body": answer.body})


async def ingest(
    service: IngestService,
    peer: str | None,
    headers: Mapping[str, str],
    events: list[WireEvent],
    *,
    batch: bool,
    refresh_sites: bool,
) -> Answer:
    """`accept`, awaited, and its answer. `refresh_sites`: read the site cache again first
    (`unknown_site_due` said so: a site added seconds ago?)."""
    if refresh_sites:
        await run_in_threadpool(service.pipeline.sites.refresh)
    answered: asyncio.Future[Answer] = asyncio.get_running_loop().create_future()

    def settle(outcome: Outcome) -> None:
        if not answered.done():  # the request may have been cancelled meanwhile
            answered.set_result(answer_for(outcome))

    accept(service, peer, headers, events, settle, batch=batch)
    return await answered


class EventEndpoint:
    """One event (`batch=False`) or a JSON array of events (`batch=True`), as ASGI. Under
    uvicorn, `jetrack.web.ingest_protocol` answers the common case before ASGI is reached."""

    def __init__(self, *, batch: bool) -> None:
        self.batch = batch

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await _send(send, await self.answer(scope, receive))

    async def answer(self, scope: Scope, receive: Receive) -> Answer:
        method = scope["method"]
        if method == "OPTIONS":
            return PREFLIGHT_ANSWER
        if method != "POST":
            return METHOD_NOT_ALLOWED
        headers = wanted_headers(scope["headers"])
        try:
            body = await _read_body(receive, headers)
        except BodyTooLarge:
            return TOO_LARGE
        except WireError as exc:
            return _bad(exc.field, str(exc))
        checked = check_request(headers, body, self.batch)
        if isinstance(checked, Answer):
            return checked
        client: Any = scope.get("client")
        service: IngestService = scope["app"].state.ingest
        peer = client[0] if client else None
        refresh = unknown_site_due(service, checked)
        return await ingest(
            service, peer, headers, checked, batch=self.batch, refresh_sites=refresh
        )


async def counters(request: Request) -> Response:
    """Prometheus text: accepted events and drops per reason, buffer state. No visitor data."""
    service: IngestService = request.app.state.ingest
    sessions = service.pipeline.sessions
    lines = ["# TYPE jetrack_events_total counter"]
    for outcome, count in sorted(service.pipeline.counts.items()):
        lines.append(f'jetrack_events_total{{outcome="{outcome}"}} {count}')
    lines += [
        "# TYPE jetrack_events_stored_total counter",
        f"jetrack_events_stored_total {service.buffer.stored}",
        "# TYPE jetrack_write_buffer_pending gauge",
        f"jetrack_write_buffer_pending {service.buffer.pending}",
        "# TYPE jetrack_batches_refused_total counter",
        f"jetrack_batches_refused_total {service.batches_refused}",
        "# TYPE jetrack_live_visits gauge",
        f"jetrack_live_visits {len(sessions)}",
        "# TYPE jetrack_packed_visits gauge",
        f"jetrack_packed_visits {sessions.packed}",
        "# TYPE jetrack_visits_packed_total counter",
        f"jetrack_visits_packed_total {sessions.packed_total}",
        "# TYPE jetrack_visits_forgotten_total counter",
        f"jetrack_visits_forgotten_total {sessions.forgotten}",
    ]
    return PlainTextResponse("\n".join(lines) + "\n", media_type="text/plain; version=0.0.4")


INGEST_ENDPOINTS = {
    "/api/event": EventEndpoint(batch=False),
    "/api/events": EventEndpoint(batch=True),
}

routes: list[BaseRoute] = [
    *(Route(path, endpoint) for path, endpoint in INGEST_ENDPOINTS.items()),
    Route("/metrics", counters, methods=["GET"]),
]
