"""The event store: owns the ClickHouse connection (embedded chDB or a server) and the one
choke point every analytics query goes through (time limit, row cap, timing)."""

from __future__ import annotations

import ctypes
import hashlib
import logging
import os
import shutil
import sys
import tempfile
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import unquote, urlsplit

import pyarrow as pa

from jetrack.store.memory import THREAD_SETTINGS, EngineMemory, server_config_xml

log = logging.getLogger("jetrack.events")

ENCRYPTED_POLICY = "jetrack_encrypted"
# Probes of a connection after a failed statement before it is reopened (one suffices in
# chDB 4.4; see ChdbEventStore._recover).
RECOVERY_PROBES = 3


class EventStoreError(Exception):
    """A query or insert failed; the message is safe to show an operator."""


class QueryLimitExceeded(EventStoreError):
    """A query ran past its time limit or row cap."""


@dataclass(frozen=True)
class QueryResult:
    columns: list[str]
    rows: list[tuple[Any, ...]]
    elapsed_ms: float


@dataclass(frozen=True)
class Limits:
    timeout_seconds: float = 30.0
    max_rows: int = 100_000


class EventStore(Protocol):
    """What the rest of Jetrack may do with the event store."""

    limits: Limits
    storage_settings: str
    # A ClickHouse cluster's name: tables are Distributed over NAME_local tables
    # (store/event_schema.py); statements that change rows in place name those.
    cluster: str | None

    def query(
        self, sql: str, params: Mapping[str, Any] | None = None, *, limits: Limits | None = None
    ) -> QueryResult: ...

    def query_arrow(
        self, sql: str, params: Mapping[str, Any] | None = None, *, limits: Limits | None = None
    ) -> pa.Table:
        """The result as Arrow, as the engine wrote it (to copy rows between stores)."""
        ...

    def command(self, sql: str, params: Mapping[str, Any] | None = None) -> None: ...

    def insert_arrow(self, table: str, data: pa.Table, dedup_token: str | None = None) -> None: ...

    def ping(self) -> bool: ...

    def close(self) -> None: ...


# ClickHouse compiles an expression to machine code the third time it sees it, inside that
# query: 100-300 ms of CPU on a dashboard query that otherwise takes 20. Measured on
# bench/query.py: dashboard p95 437 -> 251 ms and p50 263 -> 234 ms without it, and no
# gain from it on dashboards read from the tables (1090-1256 ms with, 1170 without).
NO_JIT = {
    "compile_expressions": 0,
    "compile_aggregate_expressions": 0,
    "compile_sort_description": 0,
}


# `session_id IN (SELECT ...)` (the visits a page or goal filter finds) would build its set
# for the sessions table's key too, where session_id is the third column and no granule is
# skipped: 20 ms of 103 on a 20M-event site's filtered panel (bench/query.py).
NO_INDEX_FOR_IN = {"use_index_for_in_with_subqueries": 0}


def _limit_settings(limits: Limits) -> dict[str, Any]:
    return {
        "max_execution_time": limits.timeout_seconds,
        "max_result_rows": limits.max_rows,
        "result_overflow_mode": "throw",
        **NO_JIT,
        **NO_INDEX_FOR_IN,
    }


# chDB reads string parameters in ClickHouse's escaped text format, as a server would after
# clickhouse-connect escaped them; the embedded engine gets them raw, so escape here.
_TEXT_ESCAPES = str.maketrans(
    {"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r", "'": "\\'", "\b": "\\b"}
)


def _chdb_params(params: Mapping[str, Any] | None) -> dict[str, Any]:
    return {
        k: v.translate(_TEXT_ESCAPES) if isinstance(v, str) else v
        for k, v in (params or {}).items()
    }


def _arrow_table(result: Any) -> pa.Table:
    """A query's Arrow output as a table. chDB's own "ArrowTable" conversion imports pandas
    on every call, which would load it into the server for nothing."""
    if len(result) == 0:
        return pa.Table.from_batches([], schema=pa.schema([]))
    return pa.ipc.open_file(result.get_memview().view()).read_all()


def _query_result(sql: str, table: pa.Table, started: float) -> QueryResult:
    """Rows of a query's Arrow output, the same Python values from either backend."""
    elapsed = (time.perf_counter() - started) * 1000
    columns = [c.to_pylist() for c in table.columns]
    rows = list(zip(*columns, strict=True)) if columns else []
    _log_timing(sql, elapsed, len(rows))
    return QueryResult(list(table.column_names), rows, elapsed)


def _translate(exc: Exception) -> EventStoreError:
    text = str(exc)
    if "TIMEOUT_EXCEEDED" in text or "TOO_MANY_ROWS" in text:
        return QueryLimitExceeded(text.split("(", 1)[0].strip()[:300])
    return EventStoreError(text[:500])


def _engine_config(base: Path, key: bytes | None, memory: EngineMemory | None) -> str:
    """The embedded engine's config file: its thread pools, its memory settings under a
    limit, and with a key
    the encrypted disk (a `local` disk declared before the `encrypted` one over it)."""
    body = server_config_xml(THREAD_SETTINGS | (memory.server_settings() if memory else {}))
    if key is not None:
        plain = base / "disks" / "plain"
        plain.mkdir(parents=True, exist_ok=True)
        body += f"""  <storage_configuration>
    <disks>
      <jetrack_plain><type>local</type><path>{plain}/</path></jetrack_plain>
      <jetrack_encrypted>
        <type>encrypted</type><disk>jetrack_plain</disk><path>encrypted/</path>
        <algorithm>AES_256_CTR</algorithm><key_hex>{key.hex()}</key_hex>
      </jetrack_encrypted>
    </disks>
    <policies>
      <{ENCRYPTED_POLICY}><volumes><main><disk>jetrack_encrypted</disk></main></volumes></{ENCRYPTED_POLICY}>
    </policies>
  </storage_configuration>
"""
    return f"""<clickhouse>
  <logger><level>error</level><console>0</console></logger>
{body}</clickhouse>
"""


# The libraries the embedded store loads: chDB's 555 MB one and pyarrow's (Arrow inserts).
_STORE_LIBRARIES = ("/chdb/", "/pyarrow/")
# When idle: every shared library's and the geo databases' clean pages (the DB-IP
# databases, the IPv4 range table): what the next request needs comes back from the page
# cache.
_IDLE_MAPPINGS = (".so", ".mmdb", ".ranges")
_MADV_DONTNEED = 4
_MADV_RANDOM = 1
_released_library_pages = False
_pages_singly = False  # a server: its libraries' pages come back one at a time


def map_library_pages_singly() -> None:
    """Have this process's store map its libraries' code back one page at a time
    (`_map_pages_singly`): for a server, whose memory under load counts; before the store
    opens."""
    global _pages_singly
    _pages_singly = True


def _release_library_pages(
    libraries: Sequence[str] = _STORE_LIBRARIES, *, again: bool = False
) -> None:
    """Drop the start-up pages of the store's shared libraries from this process's RSS.

    Loading chDB's 555 MB library runs its static initializers all over its code, which
    leaves ~270 MB of its text and read-only data resident that the process never touches
    again (pyarrow's libraries: ~40 MB the same way).
    These are clean pages of a private file mapping: MADV_DONTNEED unmaps them and a later
    access maps them again from the page cache (madvise(2)), so nothing changes but RSS.
    Only mappings without a written page (`Anonymous: 0`, not writable) are touched: the
    relocated read-only segment (RELRO) holds written pages and is left alone. Once per
    process unless `again` (an idle server gives back what its queries paged in); Linux
    only, and any failure leaves the pages where they are.

    The first time, in a server, the pages come back one at a time too (`_map_pages_singly`).
    """
    global _released_library_pages
    if (_released_library_pages and not again) or not sys.platform.startswith("linux"):
        return
    _released_library_pages = True
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        madvise = libc.madvise
        madvise.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
        read_only: list[tuple[int, int, str]] = []  # the libraries' mappings
        candidates: list[tuple[int, int]] = []  # of those, the ones without a written page
        current: tuple[int, int] | None = None
        with open("/proc/self/smaps") as smaps:
            for line in smaps:
                head = line.split(None, 5)
                if head[0].endswith(":"):
                    if current is not None and head[0] == "Anonymous:" and head[1] == "0":
                        candidates.append(current)
                    continue
                current = None
                if (
                    len(head) == 6
                    and "w" not in head[1]
                    and any(lib in head[5] for lib in libraries)
                ):
                    start, end = (int(x, 16) for x in head[0].split("-"))
                    current = (start, end)
                    read_only.append((start, end, head[5].strip()))
        for start, end in candidates:
            madvise(start, end - start, _MADV_DONTNEED)
        if _pages_singly and not again:
            _map_pages_singly(madvise, read_only)
    except (OSError, ValueError):
        return


def _map_pages_singly(madvise: Any, mappings: Sequence[tuple[int, int, str]]) -> None:
    """Have the libraries' pages mapped back one at a time, not in large blocks.

    The page cache may hold a library in large folios (pip wrote the file in one go, or
    readahead read it), and on Linux 6.x a fault maps the whole folio around the page it
    needs: under ingest, chDB's library was 136-188 MB resident instead of ~100 MB
    (docs/benchmarks.md, "Session 18" and "Session 19"). So the libraries' read-only
    mappings get no readahead (MADV_RANDOM: a fault reads the one page it needs), and their
    files' cached pages that no process maps are dropped (`_drop_cached_pages`), so that
    what this server runs comes back a page at a time."""
    for start, end, _ in mappings:
        madvise(start, end - start, _MADV_RANDOM)
    _drop_cached_pages(sorted({path for _, _, path in mappings}))


def _drop_cached_pages(paths: Sequence[str]) -> None:
    """Drop the files' cached pages that no process maps (POSIX_FADV_DONTNEED): a file no
    other process maps, and any file the first time since boot for this version of it (a
    mark in a private temp directory says it was done). Where other processes keep loading
    the library (the test suite: hundreds of them), dropping it at every server start
    would make each read it from disk again."""
    boot = Path("/proc/sys/kernel/random/boot_id").read_text().strip()
    marks = Path(tempfile.gettempdir()) / f"jetrack-{os.getuid()}-library-pages"
    marks.mkdir(mode=0o700, exist_ok=True)
    if marks.stat().st_uid != os.getuid():
        return
    for old in marks.iterdir():  # marks of an earlier boot
        if not old.name.startswith(boot):
            old.unlink(missing_ok=True)
    marked_before = []
    for path in paths:
        stat = os.stat(path)
        version = f"{path} {stat.st_dev} {stat.st_ino} {stat.st_size} {stat.st_mtime_ns}"
        mark = marks / f"{boot}-{hashlib.sha256(version.encode()).hexdigest()[:24]}"
        try:
            os.close(os.open(mark, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        except FileExistsError:
            marked_before.append(path)
    kept = _mapped_elsewhere(marked_before) if marked_before else set()
    for path in paths:
        if path not in kept:
            fd = os.open(path, os.O_RDONLY)
            try:
                os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
            finally:
                os.close(fd)


def _mapped_elsewhere(paths: Sequence[str]) -> set[str]:
    """Those of the files that another process maps, as far as this one may read their
    mappings (one it may not would at worst read some pages back from disk)."""
    me, wanted, found = str(os.getpid()), set(paths), set()
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit() or entry.name == me:
            continue
        try:
            with open(f"/proc/{entry.name}/maps") as maps:
                for line in maps:
                    fields = line.split(None, 5)
                    if len(fields) == 6 and (path := fields[5].rstrip("\n")) in wanted:
                        found.add(path)
        except OSError:  # ended meanwhile, or not ours to read
            continue
    return found


class ChdbEventStore:
    """Embedded ClickHouse (chDB) in this process. Queries run one at a time."""

    def __init__(
        self, path: Path, key: bytes | None, limits: Limits, memory: EngineMemory | None = None
    ) -> None:
        self.limits = limits
        self.memory = memory
        self.last_used = time.monotonic()
        self._lock = threading.Lock()
        path.mkdir(parents=True, exist_ok=True)
        self.storage_settings = f", storage_policy = '{ENCRYPTED_POLICY}'" if key else ""
        self.cluster: str | None = None
        self._path, self._key = path.resolve(), key
        self._closed = False
        self._conn = self._connect()
        _release_library_pages()

    def _connect(self) -> Any:
        import chdb

        dsn = f"file:{self._path}/db"
        # The config may hold the disk key: keep it in a private temp dir only while connecting.
        private = Path(tempfile.mkdtemp(prefix="jetrack-ch-"))
        try:
            config = private / "config.xml"
            fd = os.open(config, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as handle:
                handle.write(_engine_config(self._path, self._key, self.memory))
            # Settings in the DSN hold for every statement of the connection (inserts and
            # commands too); the config file's are the engine's own.
            session = self.memory.query_settings() if self.memory else {}
            options = "".join(f"&{name}={value}" for name, value in session.items())
            return chdb.connect(f"{dsn}?config-file={config}{options}")  # type: ignore[no-untyped-call]
        finally:
            shutil.rmtree(private, ignore_errors=True)

    def _run(self, sql: str, output: str, params: Mapping[str, Any] | None) -> Any:
        """One statement on the connection; after a failure, the connection made clean again."""
        with self._lock:
            self._check_open()
            self.last_used = time.monotonic()
            try:
                return self._conn.query(sql, output, params=_chdb_params(params))
            except Exception as exc:
                self._recover()
                raise _translate(exc) from None

    def _check_open(self) -> None:
        # A thread still busy when the stores close (a job past the runner's stop wait) must
        # not reopen the connection: chDB has one embedded server per process, and a
        # reopened one would keep this data dir and refuse the next store's.
        if self._closed:
            raise EventStoreError("the event store is closed")

    def _recover(self) -> None:
        # chDB 4.4 keeps what a statement that failed while running (a bad regexp, a time
        # limit) had already written, and hands it to the NEXT statement as its result:
        # another client's query then fails ("Unexpected empty message in IPC file
        # format"). A probe takes that leftover; a connection still not clean is reopened.
        for _ in range(RECOVERY_PROBES):
            try:
                if self._conn.query("SELECT 1", "CSV").bytes() == b"1\n":
                    return
            except Exception:  # the probe only asks "clean yet?"
                continue
        log.warning("event store connection still unclean after an error: reopening it")
        self._conn.close()
        self._conn = self._connect()

    def query(
        self, sql: str, params: Mapping[str, Any] | None = None, *, limits: Limits | None = None
    ) -> QueryResult:
        started = time.perf_counter()
        return _query_result(sql, self.query_arrow(sql, params, limits=limits), started)

    def query_arrow(
        self, sql: str, params: Mapping[str, Any] | None = None, *, limits: Limits | None = None
    ) -> pa.Table:
        settings = _limit_settings(limits or self.limits)
        suffix = " SETTINGS " + ", ".join(f"{k} = {v!r}" for k, v in settings.items())
        return _arrow_table(self._run(sql + suffix, "Arrow", params))

    def command(self, sql: str, params: Mapping[str, Any] | None = None) -> None:
        self._run(sql, "CSV", params)

    def insert_arrow(self, table: str, data: pa.Table, dedup_token: str | None = None) -> None:
        # Columns by name, not position: the Arrow table may list them in any order.
        names = ", ".join(f"`{name}`" for name in data.column_names)
        settings = ""
        if dedup_token:
            token = dedup_token.translate(_TEXT_ESCAPES)
            settings = f" SETTINGS insert_deduplication_token = '{token}'"
        # The rows go as Arrow IPC bytes: chDB's Python() table function would import
        # pandas (~40 MB of memory, store/memory.py) to look at the object.
        sink = pa.BufferOutputStream()
        with pa.ipc.new_stream(sink, data.schema) as writer:
            writer.write_table(data)
        payload = sink.getvalue().to_pybytes()
        with self._lock:
            self._check_open()
            self.last_used = time.monotonic()
            try:
                with self._conn.send_insert(
                    f"INSERT INTO {table} ({names}){settings}", "ArrowStream"
                ) as inserter:
                    inserter.append(payload)
                    inserter.finish()
            except Exception as exc:
                self._recover()
                raise _translate(exc) from None

    def ping(self) -> bool:
        try:
            self.command("SELECT 1")
        except EventStoreError:
            return False
        return True

    def release_memory(self) -> None:
        """Give back what the engine and its libraries hold and no statement uses now: the
        allocator's freed pages and the library code that queries paged in. Any statement
        after it runs as before (the code pages come back from the page cache)."""
        with self._lock:
            if self._closed:
                return
            try:
                self._conn.query("SYSTEM JEMALLOC PURGE", "CSV")
            except Exception:  # an engine built without jemalloc: nothing to purge
                self._recover()
        _release_library_pages(_IDLE_MAPPINGS, again=True)

    def close(self) -> None:
        with self._lock:
            self._closed = True
            self._conn.close()


class ServerEventStore:
    """A ClickHouse server or cluster through clickhouse-connect's HTTP client: the same SQL
    as embedded, bound server-side ({name:Type} placeholders, `param_*` values), results
    as Arrow like the embedded engine's (the same Python values), inserts as Arrow."""

    def __init__(self, url: str, limits: Limits, cluster: str | None = None) -> None:
        import clickhouse_connect

        self.limits = limits
        self.storage_settings = ""
        self.cluster = cluster
        parts = urlsplit(url)
        secure = parts.scheme in ("https", "clickhouses")
        self._client = clickhouse_connect.get_client(
            host=parts.hostname or "localhost",
            port=parts.port or (8443 if secure else 8123),
            username=unquote(parts.username or "default"),
            password=unquote(parts.password or ""),
            database=unquote((parts.path or "/default").strip("/")) or "default",
            secure=secure,
            # One client serves every thread of the process: a session would make a
            # server refuse a second statement while one runs (SESSION_IS_LOCKED), and
            # nothing here keeps state between statements.
            autogenerate_session_id=False,
        )

    def query(
        self, sql: str, params: Mapping[str, Any] | None = None, *, limits: Limits | None = None
    ) -> QueryResult:
        started = time.perf_counter()
        return _query_result(sql, self.query_arrow(sql, params, limits=limits), started)

    def query_arrow(
        self, sql: str, params: Mapping[str, Any] | None = None, *, limits: Limits | None = None
    ) -> pa.Table:
        try:
            return self._client.query_arrow(
                sql, parameters=dict(params or {}), settings=_limit_settings(limits or self.limits)
            )
        except Exception as exc:
            raise _translate(exc) from None

    def command(self, sql: str, params: Mapping[str, Any] | None = None) -> None:
        try:
            self._client.command(sql, parameters=dict(params or {}))
        except Exception as exc:
            raise _translate(exc) from None

    def insert_arrow(self, table: str, data: pa.Table, dedup_token: str | None = None) -> None:
        settings = {"insert_deduplication_token": dedup_token} if dedup_token else None
        try:
            self._client.insert_arrow(table, data, settings=settings)
        except Exception as exc:
            raise _translate(exc) from None

    def ping(self) -> bool:
        return bool(self._client.ping())

    def close(self) -> None:
        self._client.close()


class LimitedEventStore:
    """The same store, its queries with other limits by default (e.g. tighter for anonymous
    readers of a shared link)."""

    def __init__(self, inner: EventStore, limits: Limits) -> None:
        self.inner, self.limits = inner, limits
        self.storage_settings = inner.storage_settings
        self.cluster = inner.cluster

    def query(
        self, sql: str, params: Mapping[str, Any] | None = None, *, limits: Limits | None = None
    ) -> QueryResult:
        return self.inner.query(sql, params, limits=limits or self.limits)

    def query_arrow(
        self, sql: str, params: Mapping[str, Any] | None = None, *, limits: Limits | None = None
    ) -> pa.Table:
        return self.inner.query_arrow(sql, params, limits=limits or self.limits)

    def command(self, sql: str, params: Mapping[str, Any] | None = None) -> None:
        self.inner.command(sql, params)

    def insert_arrow(self, table: str, data: pa.Table, dedup_token: str | None = None) -> None:
        self.inner.insert_arrow(table, data, dedup_token)

    def ping(self) -> bool:
        return self.inner.ping()

    def close(self) -> None:
        self.inner.close()


def _log_timing(sql: str, elapsed_ms: float, rows: int) -> None:
    if elapsed_ms > 1000:
        log.warning(
            "slow query %.0f ms, %d rows: %s", elapsed_ms, rows, " ".join(sql.split())[:200]
        )
    else:
        log.debug("query %.1f ms, %d rows", elapsed_ms, rows)


def open_event_store(
    *,
    events_dir: Path,
    clickhouse_url: str | None,
    key: bytes | None,
    limits: Limits,
    memory_limit: int | None = None,
    cluster: str | None = None,
) -> EventStore:
    if clickhouse_url:
        return ServerEventStore(clickhouse_url, limits, cluster)
    memory = EngineMemory.for_limit(memory_limit) if memory_limit else None
    return ChdbEventStore(events_dir, key, limits, memory)


def table_to_change(events: EventStore, table: str) -> str:
    """What an ALTER (mutation, partition) or DELETE names to change `table`'s rows: on a
    cluster every node's local table, ON CLUSTER (a Distributed table holds no rows)."""
    return f"{table}_local ON CLUSTER {events.cluster}" if events.cluster else table


def local_table(events: EventStore, table: str) -> str:
    """`table`'s name in system.parts and system.mutations (of the node connected to)."""
    return f"{table}_local" if events.cluster else table


def rows_as_dicts(result: QueryResult) -> list[dict[str, Any]]:
    return [dict(zip(result.columns, row, strict=True)) for row in result.rows]


def first_value(result: QueryResult, default: Any = None) -> Any:
    return result.rows[0][0] if result.rows else default


__all__: Sequence[str] = [
    "ChdbEventStore",
    "EventStore",
    "EventStoreError",
    "LimitedEventStore",
    "Limits",
    "QueryLimitExceeded",
    "QueryResult",
    "ServerEventStore",
    "first_value",
    "local_table",
    "open_event_store",
    "rows_as_dicts",
    "table_to_change",
]
