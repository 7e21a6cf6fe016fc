"""Drive the ASGI app directly, to see how much of a streamed body a route reads."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from starlette.applications import Starlette
from starlette.types import Message, Scope

CHUNK = 64 * 1024


@dataclass
class Outcome:
    status: int = 0
    chunks_read: int = 0
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""


async def stream(
    app: Starlette, method: str, path: str, headers: dict[str, str], chunks: int
) -> Outcome:
    """Send a body of `chunks` x 64 KB, chunked (no Content-Length), one chunk per receive."""
    outcome = Outcome()

    async def receive() -> Message:
        if outcome.chunks_read < chunks:
            outcome.chunks_read += 1
            more = outcome.chunks_read < chunks
            return {"type": "http.request", "body": b"x" * CHUNK, "more_body": more}
        await asyncio.sleep(3600)  # the client stays connected
        return {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        if message["type"] == "http.response.start":
            outcome.status = message["status"]
            outcome.headers = {k.decode(): v.decode() for k, v in message.get("headers", [])}
        elif message["type"] == "http.response.body":
            outcome.body += message.get("body", b"")

    raw_path, _, query = path.partition("?")
    scope: Scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": raw_path,
        "raw_path": raw_path.encode(),
        "query_string": query.encode(),
        "root_path": "",
        "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
    }
    await asyncio.wait_for(app(scope, receive, send), timeout=60)
    return outcome
