"""A loopback ClickHouse HTTP interface that runs every request on chDB (test code only).

No ClickHouse server can be installed on the machines that run the tests, so the server
backend (store/events.py ServerEventStore, clickhouse-connect) is tested against this: the
product's real client, SQL, migrations and wire formats, answered by the same engine a
server runs (chDB is ClickHouse in a library). It implements the part of the HTTP
interface a client uses:

- the statement from the `query` URL parameter, the body, or both (joined by a newline),
  or from a multipart/form-data body (`query` and `param_*` fields, which clickhouse-connect
  sends when bound parameters are long);
- `param_NAME` bound to `{NAME:Type}` placeholders (server-side binding, text values);
- every other URL parameter as a setting of that request (`SET` on the connection, undone
  afterwards), `database`, `default_format`, `query_id`, `session_id` (+ `session_timeout`,
  `session_check`: a session keeps its `USE`/`SET` state; a second request while one runs
  is refused with SESSION_IS_LOCKED, as a server does), user and password (Basic auth,
  `X-ClickHouse-User/Key` or URL parameters);
- request bodies compressed with gzip, deflate, br, zstd or lz4 (Content-Encoding), and
  answers compressed with gzip, deflate, zstd or lz4 when `enable_http_compression` is on
  (the request's setting, else the engine's default) and Accept-Encoding names one;
- `INSERT ... FORMAT F` followed by data in format F (Arrow, Native, RowBinary, TSV, ...;
  the data starts after the first newline following the format name, as in ClickHouse's
  parser), plain chunked or sized bodies;
- any output format ClickHouse has (the statement's FORMAT clause, else `default_format`,
  else TabSeparated), with X-ClickHouse-Format, -Query-Id, -Summary, -Timezone and
  -Server-Display-Name headers;
- errors as ClickHouse sends them: the exception text (`Code: N. DB::Exception: ...
  (NAME) (version V)`) with X-ClickHouse-Exception-Code and the HTTP status ClickHouse
  gives that error (400 parse errors, 404 unknown objects, 403 authentication, ...);
- `GET /ping` and `GET /` answering `Ok.`.

Not implemented (answered with NOT_IMPLEMENTED, 501): `decompress=1` (ClickHouse's own
block compression of the body) and `compress=1` answers; progress headers are not sent.

In-process for a test (`ClickHouseHttpServer(path).start()`) or as a process of its own,
which several Jetrack processes can share:
`python -m tests.support.clickhouse_http --port P --path DIR` (prints the URL when ready).
chDB allows one data dir per process: a test process that also opens the embedded store
must start the endpoint as a separate process (`spawn_endpoint`).
"""

from __future__ import annotations

import argparse
import base64
import gzip
import json
import re
import socket
import subprocess
import sys
import threading
import time
import uuid
import zlib
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

SERVER_NAME = "jetrack-test-clickhouse"
# URL parameters that are not settings (HTTPHandler's reserved names).
TRANSPORT_PARAMS = {
    "query",
    "database",
    "default_format",
    "user",
    "password",
    "quota_key",
    "query_id",
    "session_id",
    "session_timeout",
    "session_check",
    "compress",
    "decompress",
    "buffer_size",
    "wait_end_of_query",
    "client_protocol_version",
    "role",
    "stacktrace",
}
# Settings of the HTTP layer itself: read here, not passed to the engine.
HTTP_SETTINGS = {
    "enable_http_compression",
    "send_progress_in_http_headers",
    "http_headers_progress_interval_ms",
    "cancel_http_readonly_queries_on_client_close",
    "http_zlib_compression_level",
}
# The HTTP status ClickHouse's HTTP handler gives an exception, by the error's name.
_BAD_REQUEST = """CANNOT_PARSE_TEXT CANNOT_PARSE_ESCAPE_SEQUENCE CANNOT_PARSE_QUOTED_STRING
CANNOT_PARSE_DATE CANNOT_PARSE_DATETIME CANNOT_PARSE_NUMBER CANNOT_PARSE_DOMAIN_VALUE_FROM_STRING
CANNOT_PARSE_IPV4 CANNOT_PARSE_IPV6 CANNOT_PARSE_INPUT_ASSERTION_FAILED CANNOT_PARSE_UUID
DUPLICATE_COLUMN ILLEGAL_COLUMN UNKNOWN_ELEMENT_IN_AST UNKNOWN_TYPE_OF_AST_NODE TOO_DEEP_AST
TOO_BIG_AST UNEXPECTED_AST_STRUCTURE SYNTAX_ERROR INCORRECT_DATA TYPE_MISMATCH
VALUE_IS_OUT_OF_RANGE_OF_DATA_TYPE UNKNOWN_QUERY_PARAMETER BAD_QUERY_PARAMETER"""
_NOT_FOUND = """UNKNOWN_TABLE UNKNOWN_FUNCTION UNKNOWN_IDENTIFIER UNKNOWN_TYPE UNKNOWN_STORAGE
UNKNOWN_DATABASE UNKNOWN_SETTING UNKNOWN_DIRECTION_OF_SORTING UNKNOWN_AGGREGATE_FUNCTION
UNKNOWN_FORMAT UNKNOWN_DATABASE_ENGINE UNKNOWN_TYPE_OF_QUERY UNKNOWN_ROLE"""
HTTP_STATUS = {
    **dict.fromkeys(_BAD_REQUEST.split(), 400),
    **dict.fromkeys(_NOT_FOUND.split(), 404),
    **dict.fromkeys(["UNKNOWN_USER", "WRONG_PASSWORD", "AUTHENTICATION_FAILED"], 403),
    "REQUIRED_PASSWORD": 401,
    "ACCESS_DENIED": 403,
    "QUERY_IS_TOO_LARGE": 413,
    "NOT_IMPLEMENTED": 501,
    "SOCKET_TIMEOUT": 503,
    "CANNOT_OPEN_FILE": 503,
}
# Codes of the errors this endpoint raises itself (ClickHouse's numbers).
CODES = {
    "BAD_ARGUMENTS": 36,
    "NOT_IMPLEMENTED": 48,
    "UNKNOWN_SETTING": 115,
    "CANNOT_DECOMPRESS": 271,
    "SESSION_NOT_FOUND": 372,
    "SESSION_IS_LOCKED": 373,
    "AUTHENTICATION_FAILED": 516,
}
_CODE_RE = re.compile(r"Code: (\d+)\.")
_NAME_RE = re.compile(r"\(([A-Z][A-Z0-9_]+)\)(?: \(version [^)]*\))?\s*$")
_SETTING_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_INSERT_RE = re.compile(rb"\s*(?:(?:--[^\n]*\n|/\*.*?\*/)\s*)*INSERT\b", re.I | re.S)
_FORMAT_RE = re.compile(rb"\bFORMAT\s+([A-Za-z][A-Za-z0-9_]*)", re.I)
_TRAILING_FORMAT = re.compile(r"\bFORMAT\s+([A-Za-z][A-Za-z0-9_]*)\s*;?\s*\Z", re.I)
_SESSION_STATEMENT = re.compile(r"\s*(SET|USE)\b", re.I)
_TEXT_FORMATS = {"TabSeparated", "TSV", "TabSeparatedWithNames", "TSVWithNames", "CSV"}


class ClickHouseError(Exception):
    """An error to answer as ClickHouse would: its code, name and message."""

    def __init__(self, name: str, message: str, code: int | None = None) -> None:
        self.name = name
        self.code = code if code is not None else CODES.get(name, 1000)
        super().__init__(f"Code: {self.code}. DB::Exception: {message}. ({name})")

    @classmethod
    def from_engine(cls, exc: Exception) -> ClickHouseError:
        text = str(exc).strip()
        code = _CODE_RE.search(text)
        name = _NAME_RE.search(text)
        error = cls.__new__(cls)
        Exception.__init__(error, text)
        error.code = int(code.group(1)) if code else 1000
        error.name = name.group(1) if name else "STD_EXCEPTION"
        return error

    @property
    def status(self) -> int:
        return HTTP_STATUS.get(self.name, 500)


@dataclass
class Answer:
    status: int
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class _Conn:
    """A chDB connection and the state this endpoint gave it (database, settings)."""

    conn: Any
    database: str = "default"
    settings: dict[str, str] = field(default_factory=dict)


@dataclass
class _Session:
    conn: _Conn
    lock: threading.Lock
    timeout: float
    last_used: float


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("'", "\\'")


def _decompress(data: bytes, encoding: str) -> bytes:
    encoding = encoding.strip().lower()
    try:
        if encoding in ("", "identity"):
            return data
        if encoding == "gzip":
            return gzip.decompress(data)
        if encoding == "deflate":
            return zlib.decompress(data)
        if encoding == "zstd":
            from backports import zstd

            return bytes(zstd.decompress(data))
        if encoding == "lz4":
            import lz4.frame

            return bytes(lz4.frame.decompress(data))
        if encoding == "br":
            import brotli

            return bytes(brotli.decompress(data))
    except ImportError:
        pass
    except Exception as exc:
        raise ClickHouseError(
            "CANNOT_DECOMPRESS", f"Cannot decompress {encoding} body: {exc}"
        ) from None
    raise ClickHouseError("NOT_IMPLEMENTED", f"Unknown Content-Encoding: {encoding}")


def _compressor(accept: str) -> tuple[str, Any] | None:
    """The first encoding of Accept-Encoding this endpoint can write, with its function."""
    for entry in accept.split(","):
        name = entry.split(";", 1)[0].strip().lower()
        if name == "gzip":
            return name, gzip.compress
        if name == "deflate":
            return name, zlib.compress
        if name == "zstd":
            from backports import zstd

            return name, zstd.compress
        if name == "lz4":
            import lz4.frame

            return name, lz4.frame.compress
    return None


def _content_type(fmt: str) -> str:
    if fmt in _TEXT_FORMATS or fmt.startswith("TabSeparated") or fmt.startswith("TSV"):
        return "text/tab-separated-values; charset=UTF-8"
    if fmt.startswith("CSV"):
        return "text/csv; charset=UTF-8"
    if fmt.startswith("JSON"):
        return "application/json; charset=UTF-8"
    return "application/octet-stream"


def _split_insert(statement: bytes) -> tuple[str, str, bytes] | None:
    """(INSERT without its FORMAT clause, format, data) of `INSERT ... FORMAT F <data>`;
    None for any other statement (INSERT ... VALUES/SELECT runs as it is)."""
    if not _INSERT_RE.match(statement):
        return None
    found = _FORMAT_RE.search(statement)
    if found is None:
        return None
    # ClickHouse's parser: data starts after the first newline, if there is one, or after
    # all the whitespace characters otherwise.
    pos = found.end()
    while pos < len(statement) and statement[pos : pos + 1] in (b" ", b"\t", b"\r"):
        pos += 1
    if statement[pos : pos + 1] == b"\n":
        pos += 1
    head = statement[: found.start()].decode()
    return head, found.group(1).decode(), statement[pos:]


class ChdbEngine:
    """chDB connections on one data dir: a pool for requests without a session, one per
    session."""

    def __init__(self, path: Path) -> None:
        import chdb

        path.mkdir(parents=True, exist_ok=True)
        self._chdb = chdb
        self._dsn = f"file:{path.resolve()}/db"
        self._pool: list[_Conn] = []
        self._sessions: dict[str, _Session] = {}
        self._lock = threading.Lock()
        first = self._connect()
        self.version, self.timezone = (
            first.query("SELECT version(), timezone()", "TSV").bytes().decode().split()
        )
        # The engine's default for answers: a client that sees it on sends no setting.
        self.http_compression = first.query(
            "SELECT getSetting('enable_http_compression')", "TSV"
        ).bytes().strip() in (b"1", b"true")
        self._pool.append(_Conn(first))

    def _connect(self) -> Any:
        return self._chdb.connect(self._dsn)  # type: ignore[no-untyped-call]

    @contextmanager
    def connection(self, params: Mapping[str, str]) -> Iterator[tuple[_Conn, bool]]:
        """A connection for one request and whether it belongs to a session."""
        session_id = params.get("session_id")
        if not session_id:
            with self._lock:
                conn = self._pool.pop() if self._pool else None
            conn = conn or _Conn(self._connect())
            try:
                yield conn, False
            except BaseException:
                conn.conn.close()  # state unknown after a failure: a fresh one next time
                raise
            with self._lock:
                self._pool.append(conn)
            return
        session = self._session(session_id, params)
        if not session.lock.acquire(blocking=False):
            raise ClickHouseError(
                "SESSION_IS_LOCKED", f"Session {session_id} is locked by a concurrent client"
            )
        try:
            yield session.conn, True
        finally:
            session.last_used = time.monotonic()
            session.lock.release()

    def _session(self, session_id: str, params: Mapping[str, str]) -> _Session:
        now = time.monotonic()
        with self._lock:
            for key, old in list(self._sessions.items()):
                if now - old.last_used > old.timeout and not old.lock.locked():
                    old.conn.conn.close()
                    del self._sessions[key]
            session = self._sessions.get(session_id)
            if session is None:
                if params.get("session_check") == "1":
                    raise ClickHouseError("SESSION_NOT_FOUND", f"Session {session_id} not found")
                timeout = float(params.get("session_timeout") or 60)
                session = _Session(_Conn(self._connect()), threading.Lock(), timeout, now)
                self._sessions[session_id] = session
            return session

    def close(self) -> None:
        with self._lock:
            for conn in self._pool:
                conn.conn.close()
            for session in self._sessions.values():
                session.conn.conn.close()
            self._pool.clear()
            self._sessions.clear()

    def execute(
        self, statement: bytes, params: Mapping[str, str], fmt: str
    ) -> tuple[bytes, dict[str, Any], str]:
        """Run one statement: (output, summary, output format)."""
        settings = {
            k: v for k, v in params.items() if k not in TRANSPORT_PARAMS and k not in HTTP_SETTINGS
        }
        settings = {k: v for k, v in settings.items() if not k.startswith("param_")}
        binds = {k[6:]: v for k, v in params.items() if k.startswith("param_")}
        insert = _split_insert(statement)
        with self.connection(params) as (state, in_session):
            conn = state.conn
            text = "" if insert else statement.decode(errors="strict")
            database = params.get("database") or ("" if in_session else "default")
            if database and database != state.database:
                self._run(conn, f"USE `{database}`")
                state.database = database
            restore = self._apply(state, settings, in_session)
            try:
                if insert is not None:
                    head, in_fmt, data = insert
                    try:
                        with conn.send_insert(head, in_fmt) as inserter:
                            if data:
                                inserter.append(data)
                            done = inserter.finish()
                    except Exception as exc:
                        self._recover(conn)
                        raise ClickHouseError.from_engine(exc) from None
                    summary = {
                        "written_rows": done.rows_written,
                        "written_bytes": done.bytes_written,
                    }
                    return b"", summary, fmt
                trailing = _TRAILING_FORMAT.search(text)
                out_fmt = trailing.group(1) if trailing else fmt
                result = self._run(conn, text, out_fmt, binds)
                summary = {
                    "read_rows": result.rows_read(),
                    "read_bytes": result.bytes_read(),
                    "written_rows": result.rows_written(),
                    "written_bytes": result.bytes_written(),
                }
                if _SESSION_STATEMENT.match(text):
                    if not in_session:  # its state would outlive the request
                        raise _Discard(result.bytes(), summary, out_fmt)
                    state.database = ""  # a USE of the session's own: unknown now
                return result.bytes(), summary, out_fmt
            finally:
                if restore:
                    self._run(conn, restore)

    def _apply(self, state: _Conn, settings: Mapping[str, str], in_session: bool) -> str:
        """SET the request's settings; returns the statement that undoes them (sessions).

        A pooled connection keeps the settings of its last request: only those that
        differ are SET, and those the request does not name go back to their defaults,
        so each request sees exactly its own settings."""
        for name in settings:
            if not _SETTING_NAME.match(name):
                raise ClickHouseError("UNKNOWN_SETTING", f"Unknown setting '{name}'")
        if not in_session:
            changes = [
                f"{name} = '{_escape(value)}'"
                for name, value in settings.items()
                if state.settings.get(name) != value
            ]
            changes += [f"{name} = DEFAULT" for name in state.settings if name not in settings]
            if changes:
                state.settings = {}  # unknown until the SET went through
                self._run(state.conn, "SET " + ", ".join(changes))
                state.settings = dict(settings)
            return ""
        if not settings:
            return ""
        names = ", ".join(f"'{_escape(n)}'" for n in settings)
        found = self._run(
            state.conn,
            f"SELECT name, value, changed FROM system.settings WHERE name IN ({names})",
            "JSONCompactEachRow",
        )
        before: dict[str, str | None] = dict.fromkeys(settings)
        for line in found.bytes().decode().splitlines():
            name, value, changed = json.loads(line)
            before[name] = value if changed else None
        self._run(
            state.conn,
            "SET " + ", ".join(f"{name} = '{_escape(value)}'" for name, value in settings.items()),
        )
        return "SET " + ", ".join(
            f"{name} = " + ("DEFAULT" if old is None else f"'{_escape(old)}'")
            for name, old in before.items()
        )

    def _run(
        self, conn: Any, sql: str, fmt: str = "TSV", binds: Mapping[str, str] | None = None
    ) -> Any:
        try:
            return conn.query(sql, fmt, params=dict(binds or {}))
        except Exception as exc:
            self._recover(conn)
            raise ClickHouseError.from_engine(exc) from None

    @staticmethod
    def _recover(conn: Any) -> None:
        # chDB hands what a failed statement had written to the next statement of the
        # connection (store/events.py ChdbEventStore._recover): take it with a probe.
        for _ in range(3):
            try:
                if conn.query("SELECT 1", "CSV").bytes() == b"1\n":
                    return
            except Exception:  # only asks "clean yet?"
                continue


class _Discard(Exception):
    """A SET/USE outside a session: answered, then its connection is not reused."""

    def __init__(self, body: bytes, summary: dict[str, Any], fmt: str) -> None:
        self.body, self.summary, self.fmt = body, summary, fmt


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: ClickHouseHttpServer

    def log_message(self, format: str, *args: Any) -> None:
        if self.server.verbose:
            super().log_message(format, *args)

    def setup(self) -> None:
        super().setup()
        # The answer's headers and body go out in two writes: without this, the second
        # waits for the client's delayed ACK (40 ms a request).
        self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def do_GET(self) -> None:
        self._handle()

    def do_POST(self) -> None:
        self._handle()

    def _handle(self) -> None:
        query_id = str(uuid.uuid4())
        try:
            body = self._read_body()
            answer = self.server.answer(self.command, self.path, self.headers, body)
        except ClickHouseError as exc:
            answer = self.server.error_answer(exc)
        except Exception as exc:  # the endpoint's own bug: still an HTTP answer
            answer = self.server.error_answer(ClickHouseError("LOGICAL_ERROR", repr(exc), 49))
        answer.headers.setdefault("X-ClickHouse-Query-Id", query_id)
        self.send_response(answer.status)
        for name, value in answer.headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(answer.body)))
        self.end_headers()
        self.wfile.write(answer.body)

    def _read_body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";", 1)[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    break
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
            return b"".join(chunks)
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""


class ClickHouseHttpServer(ThreadingHTTPServer):
    """The endpoint on 127.0.0.1:`port` (0: any free port) over chDB in `path`."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(
        self,
        path: Path,
        port: int = 0,
        *,
        user: str = "default",
        password: str = "",
        verbose: bool = False,
    ) -> None:
        self.engine = ChdbEngine(path)
        self.user, self.password, self.verbose = user, password, verbose
        self._thread: threading.Thread | None = None
        super().__init__(("127.0.0.1", port), Handler)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def start(self) -> ClickHouseHttpServer:
        self._thread = threading.Thread(target=self.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self.shutdown()
        self.server_close()
        self.engine.close()

    def error_answer(self, exc: ClickHouseError) -> Answer:
        text = str(exc)
        if "(version " not in text:
            text += f" (version {self.engine.version})"
        return Answer(
            exc.status,
            (text + "\n").encode(),
            {
                "Content-Type": "text/plain; charset=UTF-8",
                "X-ClickHouse-Exception-Code": str(exc.code),
                "X-ClickHouse-Server-Display-Name": SERVER_NAME,
            },
        )

    def answer(self, method: str, target: str, headers: Any, body: bytes) -> Answer:
        url = urlsplit(target)
        if url.path.rstrip("/") == "/ping" or (
            method == "GET" and url.path == "/" and not url.query
        ):
            return Answer(200, b"Ok.\n", {"Content-Type": "text/html; charset=UTF-8"})
        if url.path.rstrip("/") not in ("", "/query"):
            raise ClickHouseError("BAD_ARGUMENTS", f"There is no handler for {url.path}", 36)
        params = dict(parse_qsl(url.query, keep_blank_values=True))
        self._authenticate(headers, params)
        if params.get("decompress") == "1" or params.get("compress") == "1":
            raise ClickHouseError(
                "NOT_IMPLEMENTED", "this test endpoint has no ClickHouse block compression"
            )
        body = _decompress(body, headers.get("Content-Encoding", ""))
        content_type = headers.get("Content-Type", "")
        if content_type.startswith("multipart/form-data"):
            body = self._form_fields(content_type, body, params)
        url_query = params.get("query", "")
        statement = (
            (url_query.encode() + b"\n" + body)
            if url_query and body
            else (url_query.encode() or body)
        )
        if not statement.strip():
            raise ClickHouseError("BAD_ARGUMENTS", "Empty query", 36)
        query_id = params.get("query_id") or str(uuid.uuid4())
        started = time.perf_counter()
        try:
            out, summary, fmt = self.engine.execute(
                statement, params, params.get("default_format") or "TabSeparated"
            )
        except _Discard as done:
            out, summary, fmt = done.body, done.summary, done.fmt
        elapsed_ns = int((time.perf_counter() - started) * 1e9)
        headers_out = {
            "Content-Type": _content_type(fmt),
            "X-ClickHouse-Format": fmt,
            "X-ClickHouse-Query-Id": query_id,
            "X-ClickHouse-Timezone": self.engine.timezone,
            "X-ClickHouse-Server-Display-Name": SERVER_NAME,
            "X-ClickHouse-Summary": json.dumps(
                {
                    "read_rows": str(summary.get("read_rows", 0)),
                    "read_bytes": str(summary.get("read_bytes", 0)),
                    "written_rows": str(summary.get("written_rows", 0)),
                    "written_bytes": str(summary.get("written_bytes", 0)),
                    "total_rows_to_read": str(summary.get("read_rows", 0)),
                    "result_rows": "0",
                    "result_bytes": "0",
                    "elapsed_ns": str(elapsed_ns),
                },
                separators=(",", ":"),
            ),
            "Keep-Alive": "timeout=10",
        }
        if params.get("session_id"):
            headers_out["X-ClickHouse-Session-Id"] = params["session_id"]
        compress = params.get("enable_http_compression")
        if compress == "1" or (compress is None and self.engine.http_compression):
            chosen = _compressor(headers.get("Accept-Encoding", ""))
            if chosen is not None:
                headers_out["Content-Encoding"] = chosen[0]
                out = chosen[1](out)
        return Answer(200, out, headers_out)

    def _authenticate(self, headers: Any, params: dict[str, str]) -> None:
        user, password = params.pop("user", None), params.pop("password", None)
        auth = headers.get("Authorization", "")
        if auth.startswith("Basic "):
            user, _, password = base64.b64decode(auth[6:]).decode().partition(":")
        user = headers.get("X-ClickHouse-User", user) or "default"
        password = headers.get("X-ClickHouse-Key", password) or ""
        if (user, password) != (self.user, self.password):
            raise ClickHouseError(
                "AUTHENTICATION_FAILED",
                f"{user}: Authentication failed: password is incorrect, or there is no user "
                "with such name",
            )

    @staticmethod
    def _form_fields(content_type: str, body: bytes, params: dict[str, str]) -> bytes:
        """`query` and `param_*` fields of a multipart/form-data body into `params`; the
        body that is left (none) is returned."""
        message = BytesParser(policy=HTTP).parsebytes(
            b"Content-Type: " + content_type.encode() + b"\r\n\r\n" + body
        )
        for part in message.iter_parts():
            name = part.get_param("name", header="content-disposition")
            if not isinstance(name, str):
                continue
            payload = part.get_payload(decode=True)
            value = payload.decode() if isinstance(payload, bytes) else str(payload)
            if name == "query" or name.startswith("param_"):
                params[name] = value
            else:
                raise ClickHouseError(
                    "NOT_IMPLEMENTED", f"this test endpoint has no external data ({name})"
                )
        return b""


@dataclass
class SpawnedEndpoint:
    """The endpoint as a child process (see spawn_endpoint)."""

    url: str
    process: subprocess.Popen[bytes]

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def spawn_endpoint(path: Path, port: int = 0, timeout: float = 60) -> SpawnedEndpoint:
    """Start `python -m tests.support.clickhouse_http` and wait for its URL (its output
    goes to `path`/endpoint.log)."""
    root = Path(__file__).resolve().parents[2]
    path.mkdir(parents=True, exist_ok=True)
    log = path / "endpoint.log"
    with open(log, "wb") as handle:  # the child keeps its own descriptor
        process = subprocess.Popen(
            [sys.executable, "-m", "tests.support.clickhouse_http", "--port", str(port),
             "--path", str(path / "chdb")],
            cwd=root,
            stdout=handle,
            stderr=subprocess.STDOUT,
        )  # fmt: skip
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        first = log.read_text(errors="replace").split("\n", 1)
        if len(first) == 2 and first[0].startswith("http://"):
            return SpawnedEndpoint(first[0].strip(), process)
        if process.poll() is not None:
            break
        time.sleep(0.05)
    process.kill()
    process.wait()
    raise RuntimeError(f"the ClickHouse test endpoint did not start: {log.read_text()[-2000:]}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (0: any free)")
    parser.add_argument("--path", type=Path, required=True, help="chDB data dir")
    parser.add_argument("--user", default="default")
    parser.add_argument("--password", default="")
    parser.add_argument("--verbose", action="store_true", help="log every request")
    args = parser.parse_args(argv)
    server = ClickHouseHttpServer(
        args.path, args.port, user=args.user, password=args.password, verbose=args.verbose
    )
    print(server.url, flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
        server.engine.close()


if __name__ == "__main__":
    import signal

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    main()
