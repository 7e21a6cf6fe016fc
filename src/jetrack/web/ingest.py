"""POST /api/event (Plausible-compatible) and POST /api/events (batches from servers): the
one place that decides the answer of an event request, whichever way it came in.

`answer_head` decides what is known before the body (the method, a declared size above
the limit) and `answer_body` everything after it; both ways in read the request and call
them, nothing else:
- `IngestFastPath` is the outermost layer of the app (`jetrack.app.create_app`): an event
  request is answered past the middleware and the router, which at thousands of events a
  second cost more than the pipeline itself (granian, tests on the app, and the requests
  uvicorn's parser leaves to ASGI take this way);
- under uvicorn, `jetrack.web.ingest_protocol` (the one module with uvicorn-private code)
  answers the common case from the HTTP parser's callbacks, before ASGI is reached.
The routes below name the endpoints for the resource policy, the docs and the OpenAPI
check; their endpoint is the fast path's own, so a request that reached it would get the
same answer."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import orjson
from starlette.concurrency import run_in_threadpool
from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp, Receive, Scope, Send

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

# path -> batch endpoint?
EVENT_PATHS = {"/api/event": False, "/api/events": True}

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
DISCONNECTED = _bad("body", "the client disconnected before sending it")


def wanted_headers(raw: Iterable[tuple[bytes, bytes]]) -> dict[str, str]:
    """The request headers the endpoints read; the first occurrence wins, as in Starlette."""
    headers: dict[str, str] = {}
    for name, value in raw:
        if name in WANTED:
            headers.setdefault(name.decode("latin-1"), value.decode("latin-1"))
    return headers


def answer_head(method: str, headers: Mapping[str, str]) -> Answer | None:
    """The answer decided before the body is read, or None: read it (at most
    MAX_BODY_BYTES of it) and call `answer_body`. A 413 here closes the connection: its
    body is not read."""
    if method != "POST":
        return PREFLIGHT_ANSWER if method == "OPTIONS" else METHOD_NOT_ALLOWED
    declared = headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        return TOO_LARGE
    return None


def check_request(headers: Mapping[str, str], body: bytes, batch: bool) -> list[WireEvent] | Answer:
    """The request's events, or the 4xx answer naming what is wrong with it."""
    try:
        raw = decode_json(body)
        events = parse_batch(raw) if batch else [parse_event(raw)]
    except WireError as exc:
        return _bad(exc.field, str(exc))
    if not headers.get("user-agent"):
        return _bad("User-Agent", "header is required")
    return events


Respond = Callable[[Answer], None]


def answer_body(
    service: IngestService,
    peer: str | None,
    headers: Mapping[str, str],
    body: bytes | None,
    respond: Respond,
    *,
    batch: bool,
) -> asyncio.Task[None] | None:
    """Decide the answer of a POST whose body was read (None: it passed MAX_BODY_BYTES)
    and hand it to `respond`: at once, when the group commit has journaled the accepted
    rows, or from the returned task (an unknown domain: the site cache is read again
    first; the caller keeps the task). Never raises: a failure is a 500 that names
    nothing of the request. `respond` must ignore a second call."""
    try:
        if body is None:
            service.refused["too_large"] += 1
            respond(TOO_LARGE)
            return None
        checked = check_request(headers, body, batch)
        if isinstance(checked, Answer):
            service.refused["bad_request"] += 1
            respond(checked)
            return None
        if unknown_site_due(service, checked):  # rare: a site added seconds ago?
            refresh = _accept_after_refresh(service, peer, headers, checked, respond, batch)
            return asyncio.get_running_loop().create_task(refresh)
        accept(service, peer, headers, checked, _encoded(respond), batch=batch)
    except Exception as exc:
        _failed(respond, exc)
    return None


async def _accept_after_refresh(
    service: IngestService,
    peer: str | None,
    headers: Mapping[str, str],
    events: list[WireEvent],
    respond: Respond,
    batch: bool,
) -> None:
    try:
        await run_in_threadpool(service.pipeline.sites.refresh)
        accept(service, peer, headers, events, _encoded(respond), batch=batch)
    except Exception as exc:
        _failed(respond, exc)


def _encoded(respond: Respond) -> Callable[[Outcome], None]:
    return lambda outcome: respond(answer_for(outcome))


def _failed(respond: Respond, exc: Exception) -> None:
    # Never a traceback to the client, never the request's data in the log.
    log.error("internal error on an event request: %s", type(exc).__name__)
    respond(SERVER_ERROR)


async def _read_body(receive: Receive) -> bytes | None:
    """The body; None once it passes MAX_BODY_BYTES (the rest is not read)."""
    chunks, size = [], 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise WireError("body", "the client disconnected before sending it")
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            return None
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


async def answer_asgi(scope: Scope, receive: Receive, batch: bool) -> Answer:
    """An event request's answer, read through ASGI."""
    headers = wanted_headers(scope["headers"])
    head = answer_head(scope["method"], headers)
    if head is not None:
        return head
    try:
        body = await _read_body(receive)
    except WireError:
        return DISCONNECTED
    client: Any = scope.get("client")
    service: IngestService = scope["app"].state.ingest
    answered: asyncio.Future[Answer] = asyncio.get_running_loop().create_future()

    def respond(answer: Answer) -> None:
        if not answered.done():  # the request may have been cancelled meanwhile
            answered.set_result(answer)

    refresh = answer_body(
        service, client[0] if client else None, headers, body, respond, batch=batch
    )
    answer = await answered
    if refresh is not None:
        await refresh  # it answered as its last act
    return answer


async def _send(send: Send, answer: Answer) -> None:
    await send(
        {"type": "http.response.start", "status": answer.status, "headers": answer.headers()}
    )
    await send({"type": "http.response.body", "body": answer.body})


class EventEndpoint:
    """The ASGI endpoint of one event path (`batch`: a JSON array of events)."""

    def __init__(self, *, batch: bool) -> None:
        self.batch = batch

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await _send(send, await answer_asgi(scope, receive, self.batch))


class IngestFastPath:
    """The app's outermost layer: event requests answered here, everything else passed on
    to the app's middleware and router."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        batch = EVENT_PATHS.get(scope["path"]) if scope["type"] == "http" else None
        if batch is None:
            await self.app(scope, receive, send)
            return
        await _send(send, await answer_asgi(scope, receive, batch))


routes: list[BaseRoute] = [
    *(Route(path, EventEndpoint(batch=batch)) for path, batch in EVENT_PATHS.items()),
]
