"""POST /api/event (Plausible-compatible) and POST /api/events (batches from servers)."""

from __future__ import annotations

import time

from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from jetrack.ingest.client_ip import client_address
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

CORS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Methods": "POST, OPTIONS",
    "Access-Control-Allow-Headers": "Content-Type",
    "Access-Control-Max-Age": "86400",
}


class BodyTooLarge(Exception):
    pass


async def _read_body(request: Request) -> bytes:
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise BodyTooLarge
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise BodyTooLarge
        chunks.append(chunk)
    return b"".join(chunks)


def _bad(field: str, message: str, status: int = 400) -> JSONResponse:
    return JSONResponse(
        {"error": f"{field}: {message}", "field": field}, status_code=status, headers=CORS
    )


async def _accept(request: Request, events: list[WireEvent]) -> Response:
    user_agent = request.headers.get("user-agent", "")
    if not user_agent:
        return _bad("User-Agent", "header is required")
    service: IngestService = request.app.state.ingest
    peer = request.client.host if request.client else None
    ip = client_address(peer, request.headers, service.trusted_proxies)
    language = request.headers.get("accept-language", "")
    now = time.time()
    rows: list[Row] = []
    dropped: list[str] = []
    for wire in events:
        for domain in wire.domains:
            if service.pipeline.sites.get(domain) is None:
                await service.refresh_sites_on_miss()
            try:
                rows.append(
                    service.pipeline.run(Incoming(wire, domain, ip, user_agent, language, now))
                )
            except Dropped as drop:
                dropped.append(drop.reason.value)
    if rows:
        service.buffer.append(rows)  # journaled before the 202 below
    headers = dict(CORS)
    if dropped:
        headers["X-Jetrack-Dropped"] = ",".join(sorted(set(dropped)))
    return PlainTextResponse("ok", status_code=202, headers=headers)


async def event(request: Request) -> Response:
    try:
        body = await _read_body(request)
        wire = parse_event(decode_json(body))
    except BodyTooLarge:
        return _bad("body", f"must be at most {MAX_BODY_BYTES} bytes", status=413)
    except WireError as exc:
        return _bad(exc.field, str(exc))
    except ClientDisconnect:
        return Response(status_code=400)
    return await _accept(request, [wire])


async def events_batch(request: Request) -> Response:
    try:
        body = await _read_body(request)
        batch = parse_batch(decode_json(body))
    except BodyTooLarge:
        return _bad("body", f"must be at most {MAX_BODY_BYTES} bytes", status=413)
    except WireError as exc:
        return _bad(exc.field, str(exc))
    except ClientDisconnect:
        return Response(status_code=400)
    return await _accept(request, batch)


async def preflight(request: Request) -> Response:
    return Response(status_code=204, headers=CORS)


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


routes: list[BaseRoute] = [
    Route("/api/event", event, methods=["POST"]),
    Route("/api/event", preflight, methods=["OPTIONS"]),
    Route("/api/events", events_batch, methods=["POST"]),
    Route("/api/events", preflight, methods=["OPTIONS"]),
    Route("/metrics", counters, methods=["GET"]),
]
