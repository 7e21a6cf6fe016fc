"""Event requests answered from uvicorn's parser (`IngestProtocol`), spoken to over a real
socket: keep-alive, pipelining, closing, the 4xx answers, the ASGI path it falls back to."""

from __future__ import annotations

import contextlib
import logging
import os
import random
import socket
import time
from collections.abc import Iterator

import orjson
import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.testclient import TestClient
from starlette.types import Receive, Scope, Send

from jetrack.app import create_app
from jetrack.config import Settings
from jetrack.ingest.wire import MAX_BODY_BYTES
from jetrack.sites.sites import add_site
from jetrack.store.models import User
from jetrack.store.stores import Stores
from jetrack.web.ingest import EVENT_PATHS
from jetrack.web.ingest_protocol import ingest_protocol
from tests.conftest import free_port, served_in_thread
from tests.ingest.conftest import CHROME, VISITOR, clear_of_a_minutes_end, odd_requests, stored
from tests.web.test_ingest_fast_path import failing_step

BOT = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"


@contextlib.contextmanager
def serving(settings: Settings, stores: Stores, keep_alive: int = 5) -> Iterator[Starlette]:
    """uvicorn with Jetrack's protocol in a thread of the test; the write buffer is flushed
    when the block ends."""
    app = create_app(settings, stores)
    port = free_port()
    # Counts the event requests that reach ASGI: the protocol should answer them before.
    app.state.asgi_event_requests = 0

    async def counted(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] in EVENT_PATHS:
            app.state.asgi_event_requests += 1
        await app(scope, receive, send)

    config = uvicorn.Config(
        counted,
        host="127.0.0.1",
        port=port,
        http=ingest_protocol(app.state),
        log_config=None,
        access_log=False,
        lifespan="on",
        timeout_keep_alive=keep_alive,
    )
    with served_in_thread(config):
        app.state.port = port
        yield app


def event_request(
    body: bytes | dict[str, object] | list[dict[str, object]],
    *,
    path: str = "/api/event",
    user_agent: str = CHROME,
    version: str = "1.1",
    extra: str = "",
) -> bytes:
    data = body if isinstance(body, bytes) else orjson.dumps(body)
    agent = f"User-Agent: {user_agent}\r\n" if user_agent else ""
    head = (
        f"POST {path} HTTP/{version}\r\nHost: 127.0.0.1\r\n{agent}"
        f"Content-Type: text/plain\r\nContent-Length: {len(data)}\r\n{extra}\r\n"
    )
    return head.encode() + data


def chunked(*parts: bytes) -> bytes:
    """An event request whose body is sent with `Transfer-Encoding: chunked`, in these parts."""
    head = (
        f"POST /api/event HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: {CHROME}\r\n"
        "Transfer-Encoding: chunked\r\n\r\n"
    )
    body = b"".join(b"%x\r\n%s\r\n" % (len(part), part) for part in parts)
    return head.encode() + body + b"0\r\n\r\n"


def pageview(domain: str = "example.com", page: str = "/") -> dict[str, object]:
    return {"n": "pageview", "u": f"https://{domain}{page}", "d": domain}


class Answers:
    """Reads HTTP/1.1 answers, one after another, off one connection."""

    def __init__(self, connection: socket.socket) -> None:
        self.connection = connection
        self.buffer = b""

    def _fill(self) -> bool:
        chunk = self.connection.recv(65536)
        self.buffer += chunk
        return bool(chunk)

    def next(self) -> tuple[int, dict[str, str], bytes]:
        while b"\r\n\r\n" not in self.buffer:
            assert self._fill(), f"connection closed; read {self.buffer!r}"
        head, self.buffer = self.buffer.split(b"\r\n\r\n", 1)
        status_line, *lines = head.decode("latin-1").split("\r\n")
        headers = {}
        for line in lines:
            name, value = line.split(":", 1)
            headers[name.lower()] = value.strip()
        length = int(headers.get("content-length", "0"))
        while len(self.buffer) < length:
            assert self._fill(), "connection closed inside a body"
        body, self.buffer = self.buffer[:length], self.buffer[length:]
        return int(status_line.split()[1]), headers, body

    def closed(self) -> bool:
        self.connection.settimeout(5)
        return not self.buffer and not self._fill()


@contextlib.contextmanager
def connect(port: int) -> Iterator[tuple[socket.socket, Answers]]:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as connection:
        yield connection, Answers(connection)


def test_keep_alive_and_pipelined_requests_are_answered_in_order(
    settings: Settings, site_stores: Stores
) -> None:
    batch = [pageview(page="/batch-1"), pageview("other.org", "/batch-2")]
    with serving(settings, site_stores) as app, connect(app.state.port) as (connection, answers):
        connection.sendall(
            event_request(pageview(page="/a"))
            + b"GET /api/health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"  # the ASGI path
            + event_request(pageview(page="/b"))
            + event_request(orjson.dumps(batch), path="/api/events")
        )
        statuses = []
        for _ in range(4):
            status, headers, body = answers.next()
            statuses.append((status, body[:2]))
            if status == 202:
                assert headers["access-control-allow-origin"] == "*"
                assert "date" in headers and "x-jetrack-dropped" not in headers
        assert statuses == [(202, b"ok"), (200, b'{"'), (202, b"ok"), (202, b"ok")]
        # The two behind the health check waited in uvicorn's queue and went through ASGI.
        assert app.state.asgi_event_requests == 2
        # The same connection goes on serving; the protocol answers a lone event itself.
        connection.sendall(event_request(pageview(page="/c")))
        assert answers.next()[0] == 202
        assert app.state.asgi_event_requests == 2
    pages = sorted(row["pathname"] for row in stored(site_stores))
    assert pages == ["/a", "/b", "/batch-1", "/batch-2", "/c"]


@pytest.mark.slow
def test_an_idle_connection_is_closed_after_the_keep_alive_time(
    settings: Settings, site_stores: Stores
) -> None:
    with (
        serving(settings, site_stores, keep_alive=1) as app,
        connect(app.state.port) as (connection, answers),
    ):
        connection.sendall(event_request(pageview()))
        assert answers.next()[0] == 202
        started = time.monotonic()
        assert answers.closed()  # the server closes it (the read times out after 5 s)
        assert time.monotonic() - started < 4


@pytest.mark.parametrize(
    ("version", "extra"), [("1.1", "Connection: close\r\n"), ("1.0", "")], ids=["close", "http10"]
)
def test_a_connection_not_kept_alive_is_closed_after_the_answer(
    settings: Settings, site_stores: Stores, version: str, extra: str
) -> None:
    with serving(settings, site_stores) as app, connect(app.state.port) as (connection, answers):
        connection.sendall(event_request(pageview(), version=version, extra=extra))
        status, headers, _ = answers.next()
        assert status == 202 and headers["connection"] == "close"
        assert answers.closed()
    assert len(stored(site_stores)) == 1


def test_bad_requests_get_a_4xx_naming_the_problem_and_the_connection_goes_on(
    settings: Settings, site_stores: Stores
) -> None:
    # Sent in chunks, its size is known only once read: a 413, and the connection goes on.
    too_big = chunked(
        b'{"n":"pageview","u":"https://example.com/","d":"example.com","p":"',
        b"x" * 1_000_100,
        b'"}',
    )
    cases = [
        (event_request(b"{not json"), 400, "body"),
        (event_request(pageview(), user_agent=""), 400, "User-Agent"),
        (event_request({"n": "pageview", "d": "example.com"}), 400, "url"),
        (too_big, 413, "body"),
        (event_request(b"[]", path="/api/events"), 400, "body"),
    ]
    with serving(settings, site_stores) as app, connect(app.state.port) as (connection, answers):
        for request, status, field in cases:
            connection.sendall(request)
            got, headers, body = answers.next()
            assert (got, headers["content-type"]) == (status, "application/json")
            assert orjson.loads(body)["field"] == field
        connection.sendall(event_request(pageview()))
        assert answers.next()[0] == 202
    assert len(stored(site_stores)) == 1


def test_a_chunked_body_is_read_whole(settings: Settings, site_stores: Stores) -> None:
    body = orjson.dumps(pageview(page="/chunked"))
    with serving(settings, site_stores) as app, connect(app.state.port) as (connection, answers):
        connection.sendall(chunked(body[:10], body[10:]))
        assert answers.next()[0] == 202
        assert app.state.asgi_event_requests == 0
    assert [row["pathname"] for row in stored(site_stores)] == ["/chunked"]


def test_a_request_that_is_not_http_gets_a_400(settings: Settings, site_stores: Stores) -> None:
    with serving(settings, site_stores) as app, connect(app.state.port) as (connection, answers):
        connection.sendall(b"POST /api/event HTTP/1.1\r\nContent-Length: x\r\n\r\n")
        assert answers.next()[0] == 400
        assert answers.closed()


def test_nothing_a_client_sends_causes_a_500(settings: Settings, site_stores: Stores) -> None:
    with serving(settings, site_stores) as app, connect(app.state.port) as (connection, answers):
        for path, raw, headers in odd_requests(random.Random(11), 400):
            lines = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
            connection.sendall(event_request(raw, path=path, extra=lines))
            status, _, body = answers.next()
            assert status in (202, 400, 413), body
        connection.sendall(event_request(pageview(page="/kept")))
        assert answers.next()[0] == 202
        assert app.state.asgi_event_requests == 0
    assert [row["pathname"] for row in stored(site_stores)][-1] == "/kept"


def test_a_declared_body_above_the_limit_is_refused_before_it_is_read(
    settings: Settings, site_stores: Stores
) -> None:
    head = (
        f"POST /api/event HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: {CHROME}\r\n"
        "Content-Length: 50000000\r\n\r\n"
    )
    with serving(settings, site_stores) as app, connect(app.state.port) as (connection, answers):
        connection.sendall(head.encode() + b'{"n":"pageview","u":"https://example.com/","d":')
        status, headers, body = answers.next()
        assert (status, headers["connection"]) == (413, "close")
        assert orjson.loads(body)["field"] == "body"
        assert answers.closed()
    assert stored(site_stores) == []


def test_a_client_that_sends_the_refused_body_anyway_gets_to_read_the_answer(
    settings: Settings, site_stores: Stores
) -> None:
    """Most clients send the whole body before they read. The 413 answered at the head
    waits for them: the server reads the body by and closes after it, not in its middle,
    where its kernel would reset the connection (and a client could lose the answer)."""
    size = 8 * MAX_BODY_BYTES
    head = (
        f"POST /api/event HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: {CHROME}\r\n"
        f"Content-Length: {size}\r\n\r\n"
    )
    with serving(settings, site_stores) as app, connect(app.state.port) as (connection, answers):
        connection.sendall(head.encode())
        status, headers, _ = answers.next()
        assert (status, headers["connection"]) == (413, "close")
        connection.sendall(b"x" * size)  # ConnectionResetError if the server had closed
        assert answers.closed()
    assert stored(site_stores) == []


def test_dropped_events_are_acknowledged_with_their_reason(
    settings: Settings, site_stores: Stores
) -> None:
    with serving(settings, site_stores) as app, connect(app.state.port) as (connection, answers):
        connection.sendall(event_request(pageview(), user_agent=BOT))
        status, headers, _ = answers.next()
        assert (status, headers["x-jetrack-dropped"]) == (202, "bot_ua")
        connection.sendall(event_request(pageview("nowhere.example")))
        assert answers.next()[1]["x-jetrack-dropped"] == "unknown_site"
    assert stored(site_stores) == []


def test_expect_100_continue_is_served_through_asgi(
    settings: Settings, site_stores: Stores
) -> None:
    request = event_request(pageview(page="/continued"), extra="Expect: 100-continue\r\n")
    head, body = request.split(b"\r\n\r\n", 1)
    with serving(settings, site_stores) as app, connect(app.state.port) as (connection, answers):
        connection.sendall(head + b"\r\n\r\n")
        assert connection.recv(100).startswith(b"HTTP/1.1 100 Continue")
        connection.sendall(body)
        assert answers.next()[0] == 202
        assert app.state.asgi_event_requests == 1
    assert [row["pathname"] for row in stored(site_stores)] == ["/continued"]


def test_a_site_added_while_serving_is_found(settings: Settings, site_stores: Stores) -> None:
    with serving(settings, site_stores) as app, connect(app.state.port) as (connection, answers):
        with site_stores.control.session() as session:
            owner = session.query(User).first()
            assert owner is not None
            add_site(session, owner, "added.example")
        connection.sendall(event_request(pageview("added.example", "/new")))
        status, headers, _ = answers.next()
        assert status == 202 and "x-jetrack-dropped" not in headers
    assert [row["pathname"] for row in stored(site_stores)] == ["/new"]


def test_a_journal_that_cannot_be_written_acknowledges_nothing(
    settings: Settings, site_stores: Stores, caplog: pytest.LogCaptureFixture
) -> None:
    with serving(settings, site_stores) as app, connect(app.state.port) as (connection, answers):
        connection.sendall(event_request(pageview(page="/kept")))
        assert answers.next()[0] == 202
        segment = app.state.ingest.buffer._segment
        real_fd = segment._fd
        segment._fd = os.open(os.devnull, os.O_RDONLY)  # write() fails: as a full disk would
        try:
            with caplog.at_level(logging.ERROR):
                connection.sendall(event_request(pageview(page="/refused")))
                status, _, body = answers.next()
        finally:
            os.close(segment._fd)
            segment._fd = real_fd
        assert status == 503 and b"send them again" in body
        # The error names no client address (uvicorn's start-up lines, INFO, name the
        # listening one: at load they arrive while the test runs).
        errors = "\n".join(r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR)
        assert "journal write failed" in errors and "127.0.0.1" not in errors
    assert [row["pathname"] for row in stored(site_stores)] == ["/kept"]


def test_a_batch_over_its_budget_gets_a_429_and_the_connection_goes_on(
    settings: Settings, site_stores: Stores
) -> None:
    strict = settings.model_copy(update={"batch_events_per_minute": 4})
    with serving(strict, site_stores) as app:
        clear_of_a_minutes_end()
        with connect(app.state.port) as (connection, answers):
            connection.sendall(event_request([pageview()] * 3, path="/api/events"))
            assert answers.next()[0] == 202
            connection.sendall(event_request([pageview(page="/late")] * 2, path="/api/events"))
            status, headers, body = answers.next()
            assert (status, 1 <= int(headers["retry-after"]) <= 60) == (429, True)
            assert b"JETRACK_BATCH_EVENTS_PER_MINUTE" in body
            assert app.state.asgi_event_requests == 0  # answered from the parser
            connection.sendall(event_request(pageview(page="/single")))  # no batch budget
            assert answers.next()[0] == 202
    assert sorted(row["pathname"] for row in stored(site_stores)) == ["/", "/", "/", "/single"]


# One request each: (method, path, body, headers). Each way in must answer it alike.
WAYS_IN_CASES: list[tuple[str, str, bytes, dict[str, str]]] = [
    ("POST", "/api/event", orjson.dumps(pageview(page="/ways")), {}),
    ("POST", "/api/events", orjson.dumps([pageview(), pageview("other.org")]), {}),
    ("POST", "/api/event", b"{not json", {}),
    ("POST", "/api/event", orjson.dumps(pageview()), {"User-Agent": ""}),
    ("POST", "/api/event", orjson.dumps({"n": "pageview", "d": "example.com"}), {}),
    ("POST", "/api/events", b"[]", {}),
    ("POST", "/api/event", orjson.dumps(pageview()), {"User-Agent": BOT}),
    ("POST", "/api/event", orjson.dumps(pageview("nowhere.example")), {}),
    ("POST", "/api/event", b'{"n":"pageview","p":"' + b"x" * 1_000_100 + b'"}', {}),
    ("GET", "/api/event", b"", {}),
    ("OPTIONS", "/api/event", b"", {"Access-Control-Request-Method": "POST"}),
]


def _what_counts(status: int, headers: dict[str, str], body: bytes) -> tuple[object, ...]:
    named = orjson.loads(body).get("field") if body.startswith(b"{") else body
    kept = ("content-type", "access-control-allow-origin", "x-jetrack-dropped", "allow")
    return status, named, tuple(headers.get(name) for name in kept)


def _raw(method: str, path: str, body: bytes, headers: dict[str, str], extra: str = "") -> bytes:
    lines = {"Host": "127.0.0.1", "User-Agent": CHROME, **headers}
    head = "".join(f"{name}: {value}\r\n" for name, value in lines.items() if value)
    length = f"Content-Length: {len(body)}\r\n" if body or method == "POST" else ""
    return f"{method} {path} HTTP/1.1\r\n{head}{length}{extra}\r\n".encode() + body


def test_every_way_in_answers_alike(settings: Settings, site_stores: Stores) -> None:
    """The parser's callbacks, uvicorn's ASGI path (`Expect: 100-continue`) and the app
    itself (granian, tests) reach the same decisions: the same status, named field,
    drop reason and headers for every case."""
    answers_by_way: dict[str, list[tuple[object, ...]]] = {"app": [], "parser": [], "asgi": []}
    client = TestClient(create_app(settings, site_stores), client=VISITOR)
    with client:
        for method, path, body, headers in WAYS_IN_CASES:
            response = client.request(
                method, path, content=body, headers={"User-Agent": CHROME, **headers}
            )
            answers_by_way["app"].append(
                _what_counts(response.status_code, dict(response.headers), response.content)
            )
    with serving(settings, site_stores) as app:
        for way, extra in (("parser", ""), ("asgi", "Expect: 100-continue\r\n")):
            for method, path, body, headers in WAYS_IN_CASES:
                with connect(app.state.port) as (connection, answers):
                    connection.sendall(_raw(method, path, body, headers, extra))
                    status, got, content = answers.next()
                    if status == 100:  # the interim answer of Expect: 100-continue
                        status, got, content = answers.next()
                    answers_by_way[way].append(_what_counts(status, got, content))
        assert app.state.asgi_event_requests == len(WAYS_IN_CASES) + 2  # GET, OPTIONS
    assert answers_by_way["parser"] == answers_by_way["app"]
    assert answers_by_way["asgi"] == answers_by_way["app"]
    statuses = [answer[0] for answer in answers_by_way["app"]]
    assert statuses == [202, 202, 400, 400, 400, 400, 202, 202, 413, 405, 204]
    pages = [row["pathname"] for row in stored(site_stores)]
    assert pages.count("/ways") == 3 and len(pages) == 9  # three ways, three events each


@pytest.mark.parametrize("expect", ["", "Expect: 100-continue\r\n"], ids=["parser", "asgi"])
def test_a_failure_answers_500_once_and_the_connection_goes_on(
    settings: Settings, site_stores: Stores, caplog: pytest.LogCaptureFixture, expect: str
) -> None:
    with serving(settings, site_stores) as app, connect(app.state.port) as (connection, answers):
        pipeline = app.state.ingest.pipeline
        steps = pipeline.steps
        pipeline.steps = [*steps, failing_step]
        with caplog.at_level(logging.ERROR):
            connection.sendall(event_request(pageview(page="/failed"), extra=expect))
            status, _, body = answers.next()
            if status == 100:
                status, _, body = answers.next()
        assert (status, orjson.loads(body)) == (500, {"error": "internal error"})
        pipeline.steps = steps
        connection.sendall(event_request(pageview(page="/after")))
        assert answers.next()[0] == 202
    assert "internal error on an event request: RuntimeError" in caplog.text
    assert "203.0.113" not in caplog.text
    assert [row["pathname"] for row in stored(site_stores)] == ["/after"]
