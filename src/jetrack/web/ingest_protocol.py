"""Event requests answered from uvicorn's HTTP parser, before ASGI is reached: the one
module that knows uvicorn's private parts, and `ingest_protocol` its one seam (the
server's `http` setting).

At thousands of events a second, the ASGI machinery of one request (a task, the scope,
the receive and send calls, the checks of the answer's headers) costs more CPU than the
pipeline itself: the same answer from the parser's callbacks reached 61,000 requests/s
here against 19,600 through ASGI (docs/benchmarks.md). So `IngestProtocol` is uvicorn's
own HTTP/1.1 protocol (httptools) with one change: a POST to /api/event or /api/events is
read here and answered by `jetrack.web.ingest` (`answer_head`, `answer_body`: the code
that decides the answer on every way in), its 202 written once the group commit has
journaled its rows. Everything else, and anything unusual (`Expect: 100-continue`, an
upgrade, a request pipelined behind one still running), takes uvicorn's ASGI path as
before, where the app's `IngestFastPath` answers event requests with the same code.
uvicorn is pinned in the lock file: this subclass relies on its request cycle's
attributes (`response_complete`, `keep_alive`, `disconnected`, `message_event`).
"""

from __future__ import annotations

import asyncio
from typing import Any, ClassVar

from starlette.datastructures import State
from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol

from jetrack.ingest.service import IngestService
from jetrack.ingest.wire import MAX_BODY_BYTES
from jetrack.web.ingest import (
    ACCEPTED,
    EVENT_PATHS,
    Answer,
    answer_body,
    answer_head,
    wanted_headers,
)

# raw path -> batch endpoint?
RAW_EVENT_PATHS = {path.encode(): batch for path, batch in EVENT_PATHS.items()}


class _EventRequest:
    """One event request answered here. It stands in for uvicorn's request cycle while it
    runs, so uvicorn's bookkeeping (requests pipelined behind it, shutdown, a lost
    connection) sees a response in progress."""

    __slots__ = (
        "batch",
        "chunks",
        "disconnected",
        "headers",
        "keep_alive",
        "response_complete",
        "size",
    )

    def __init__(self, batch: bool, keep_alive: bool, headers: dict[str, str]) -> None:
        self.batch = batch
        self.keep_alive = keep_alive
        self.headers = headers
        self.chunks: list[bytes] = []
        self.size = 0
        self.response_complete = False
        self.disconnected = False

    @property
    def message_event(self) -> _EventRequest:
        return self  # uvicorn wakes the cycle's reader on a lost connection; none waits here

    def set(self) -> None:
        pass


class IngestProtocol(HttpToolsProtocol):
    """See the module's text. `ingest_protocol(state)` makes the class for one app."""

    jetrack_state: ClassVar[State]
    _event: _EventRequest | None = None
    # The 202 of a keep-alive request, rendered once per `default_headers` (its date
    # changes each second).
    _accepted_for: ClassVar[tuple[object, bytes]] = (None, b"")

    def on_message_begin(self) -> None:
        # What uvicorn resets per request, without its ASGI scope: that is built only for
        # a request that takes the ASGI path (`_asgi_headers_complete`).
        self._event = None
        self.url = b""
        self.expect_100_continue = False
        self.headers = []

    def _asgi_headers_complete(self) -> None:
        url, headers, expect_100_continue = self.url, self.headers, self.expect_100_continue
        super().on_message_begin()  # the scope, over a new `self.headers` list
        self.url, self.expect_100_continue = url, expect_100_continue
        self.headers.extend(headers)
        super().on_headers_complete()

    def on_headers_complete(self) -> None:
        batch = RAW_EVENT_PATHS.get(self.url.split(b"?", 1)[0])
        parser = self.parser
        if (
            batch is None
            or parser.get_method() != b"POST"
            or self.expect_100_continue
            or parser.should_upgrade()
            or (self.cycle is not None and not self.cycle.response_complete)
        ):
            self._asgi_headers_complete()
            return
        keep_alive = parser.get_http_version() != "1.0" and parser.should_keep_alive()
        event = self._event = _EventRequest(batch, keep_alive, wanted_headers(self.headers))
        self.cycle = event  # type: ignore[assignment]
        refused = answer_head("POST", event.headers)
        if refused is not None:
            # Answered before the body is read (a declared size above the limit); the
            # connection closes once the body has gone by unread (`_respond`).
            event.keep_alive = False
            self._respond(event, refused)

    def on_body(self, body: bytes) -> None:
        event = self._event
        if event is None:
            super().on_body(body)
            return
        event.size += len(body)
        # Beyond the limit, or answered already: counted only (the answer is a 413).
        if event.size <= MAX_BODY_BYTES and not event.response_complete:
            event.chunks.append(body)

    def on_message_complete(self) -> None:
        event = self._event
        if event is None:
            super().on_message_complete()
            return
        self._event = None
        if event.response_complete:  # answered already (a declared size above the limit)
            self.transport.close()
            return
        body = b"".join(event.chunks) if event.size <= MAX_BODY_BYTES else None
        service: IngestService = self.jetrack_state.ingest
        peer = self.client[0] if self.client else None
        refresh = answer_body(
            service,
            peer,
            event.headers,
            body,
            lambda answer: self._respond(event, answer),
            batch=event.batch,
        )
        if refresh is not None:  # uvicorn waits for its tasks at shutdown
            self.tasks.add(refresh)
            refresh.add_done_callback(self.tasks.discard)

    def _respond(self, event: _EventRequest, answer: Answer) -> None:
        if event.response_complete:
            return
        event.response_complete = True
        transport = self.transport
        if event.disconnected or transport.is_closing():
            return
        transport.write(self._render(answer, event.keep_alive))
        if not event.keep_alive:
            if self._event is event:  # answered before its body came
                self._close_after_body(transport)
            else:
                transport.close()
        self.on_response_complete()  # uvicorn: the next pipelined request, or keep-alive

    def _close_after_body(self, transport: asyncio.WriteTransport) -> None:
        """Close once the client has sent the body it was sending (`on_message_complete`),
        or after the keep-alive timeout. Closing at once would make this side's kernel
        answer the body's next bytes with a reset, and the client could lose the answer
        unread (RFC 9112, 9.6)."""
        if transport.can_write_eof():
            transport.write_eof()  # the answer, then the end of what this side sends
        self.loop.call_later(self.timeout_keep_alive, transport.close)

    def _render(self, answer: Answer, keep_alive: bool) -> bytes:
        defaults = self.server_state.default_headers  # the date (a new list each second)
        cls = type(self)
        if answer is ACCEPTED and keep_alive and cls._accepted_for[0] is defaults:
            return cls._accepted_for[1]
        lines: list[bytes] = [STATUS_LINE[answer.status]]
        for name, value in (*defaults, *answer.headers()):
            lines += (name, b": ", value, b"\r\n")
        if not keep_alive:
            lines.append(b"connection: close\r\n")
        lines += (b"\r\n", answer.body)
        rendered = b"".join(lines)
        if answer is ACCEPTED and keep_alive:
            cls._accepted_for = (defaults, rendered)
        return rendered


def ingest_protocol(app_state: State) -> type[IngestProtocol]:
    """The protocol class for uvicorn's `http` setting; `app_state.ingest` is read once the
    app's lifespan has started it (uvicorn serves only after that)."""
    attributes: dict[str, Any] = {"jetrack_state": app_state}
    return type("JetrackIngestProtocol", (IngestProtocol,), attributes)
