"""POST /api/event (Plausible-compatible) and POST /api/events (batches from servers).

The hot path is a plain ASGI endpoint: no Request/Response objects, one pass over the
headers, so Python spends its time on the pipeline rather than on the framework."""

from __future__ import annotations

import time
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute, Route
from starlette.types import Receive, Scope, Send

from jetrack.ingest.buffer import Counted
from jetrack.ingest.client_ip import resolve_client
from jetrack.ingest.pipeline import Dropped, Incoming
from jetrack.ingest.rows import Row
from jetrack.ingest.service import IngestService
from jetrack.ingest.wire import (
    MAX_BODY_BYTES,
    WireError,
    WireEvent,
    decode_json,
    parse_batch,
    parse_event,
)

# A POST from the tracker is a CORS "simple" request: the origin header is all a browser
# reads from its answer. The others matter only to a preflight (OPTIONS).
ALLOW_ORIGIN = (b"access-control-allow-origin", b"*")
PREFLIGHT = [
    (b"access-control-allow-methods", b"POST, OPTIONS"),
    (b"access-control-allow-headers", b"Content-Type"),
    (b"access-control-max-age", b"86400"),
]
_TEXT = b"text/plain; charset=utf-8"
_ACCEPTED = [(b"content-type", _TEXT), (b"content-length", b"2"), ALLOW_ORIGIN]
WANTED = {
    b"user-agent",
    b"accept-language",
    b"content-length",
    b"x-forwarded-for",
    b"forwarded",
    b"x-real-ip",
}


class BodyTooLarge(Exception):
    pass


async def _read_body(receive: Receive, declared: str) -> bytes:
    if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
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


async def _answer(
    send: Send, status: int, body: bytes, extra: list[tuple[bytes, bytes]] | None = None
) -> None:
    content_type = b"application/json" if body.startswith(b"{") else _TEXT
    headers = [
        (b"content-type", content_type),
        (b"content-length", str(len(body)).encode()),
        ALLOW_ORIGIN,
    ]
    if extra:
        headers.extend(extra)
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def _accepted(send: Send) -> None:
    # The common answer, its headers built once (copied: middleware may add to the list).
    await send({"type": "http.response.start", "status": 202, "headers": _ACCEPTED.copy()})
    await send({"type": "http.response.body", "body": b"ok"})


async def _bad(send: Send, field: str, message: str, status: int = 400) -> None:
    await _answer(send, status, orjson.dumps({"error": f"{field}: {message}", "field": field}))


class EventEndpoint:
    """One event (`batch=False`) or a JSON array of events (`batch=True`)."""

    def __init__(self, *, batch: bool) -> None:
        self.batch = batch

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        method = scope["method"]
        if method == "OPTIONS":
            await _answer(send, 204, b"", PREFLIGHT)
            return
        if method != "POST":
            await _answer(
                send,
                405,
                b'{"error": "method not allowed: use POST"}',
                [(b"allow", b"POST, OPTIONS")],
            )
            return
        headers: dict[str, str] = {}
        for name, value in scope["headers"]:
            if name in WANTED:  # the first occurrence wins, as in Starlette's Headers.get
                headers.setdefault(name.decode("latin-1"), value.decode("latin-1"))
        try:
            body = await _read_body(receive, headers.get("content-length", ""))
            raw = decode_json(body)
            events = parse_batch(raw) if self.batch else [parse_event(raw)]
        except BodyTooLarge:
            await _bad(send, "body", f"must be at most {MAX_BODY_BYTES} bytes", status=413)
            return
        except WireError as exc:
            await _bad(send, exc.field, str(exc))
            return
        if not headers.get("user-agent"):
            await _bad(send, "User-Agent", "header is required")
            return
        dropped = await _accept(scope, headers, events)
        if dropped:
            reasons = ",".join(sorted(set(dropped))).encode()
            await _answer(send, 202, b"ok", [(b"x-jetrack-dropped", reasons)])
        else:
            await _accepted(send)


async def _accept(scope: Scope, headers: dict[str, str], events: list[WireEvent]) -> list[str]:
    """Run the pipeline; journal accepted rows before returning. Returns drop reasons."""
    service: IngestService = scope["app"].state.ingest
    client: Any = scope.get("client")
    ip = resolve_client(client[0] if client else None, headers, service.trusted_proxies)
    user_agent, language = headers["user-agent"], headers.get("accept-language", "")
    now = time.time()
    rows: list[Row] = []
    counted: list[Counted] = []
    dropped: list[str] = []
    for wire in events:
        for domain in wire.domains:
            if service.pipeline.sites.get(domain) is None:
                await service.refresh_sites_on_miss()
            incoming = Incoming(wire, domain, ip, user_agent, language, now)
            try:
                row = service.pipeline.run(incoming)
            except Dropped as drop:
                dropped.append(drop.reason.value)
                continue
            rows.append(row)
            if incoming.counted_in is not None:
                counted.append((row, incoming.counted_in))
    if rows:
        await service.buffer.commit(rows, counted)  # journaled before the 202 is sent
    return dropped


async def counters(request: Request) -> Response:
    """Prometheus text: accepted events and drops per reason, buffer state. No visitor data."""
    service: IngestService = request.app.state.ingest
    lines = ["# TYPE jetrack_events_total counter"]
    for outcome, count in sorted(service.pipeline.counts.items()):
        lines.append(f'jetrack_events_total{{outcome="{outcome}"}} {count}')
    lines += [
        "# TYPE jetrack_events_stored_total counter",
        f"jetrack_events_stored_total {service.buffer.stored}",
        "# TYPE jetrack_write_buffer_pending gauge",
        f"jetrack_write_buffer_pending {service.buffer.pending}",
        "# TYPE jetrack_live_visits gauge",
        f"jetrack_live_visits {len(service.pipeline.sessions)}",
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
