"""Shared fixtures: a fresh migrated data dir per test, real engines only."""

from __future__ import annotations

import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any, TypeVar

import httpx
import psutil
import pytest
import uvicorn
from aiosmtpd.controller import Controller
from argon2 import PasswordHasher
from playwright.sync_api import expect
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session
from starlette.applications import Starlette
from starlette.datastructures import State
from starlette.testclient import TestClient

from jetrack.accounts import users
from jetrack.config import Settings, load_settings
from jetrack.store.control import ControlStore, migrate_control, open_control_store
from jetrack.store.datadir import LOCK_NAME
from jetrack.store.stores import Stores, open_stores
from tests.support.clickhouse_http import SpawnedEndpoint, spawn_endpoint

TEST_KEY = "7f" * 32
# /metrics is off without a token; the tests' settings and servers have this one.
METRICS_TOKEN = "test-metrics-token"
METRICS_AUTH = {"Authorization": f"Bearer {METRICS_TOKEN}"}
POSTGRES_ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
ROOT = Path(__file__).resolve().parents[1]
RowT = TypeVar("RowT")


def make_settings(data_dir: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "data_dir": data_dir,
        "encryption_key": TEST_KEY,
        "log_level": "warning",
        "metrics_token": METRICS_TOKEN,
    }
    values.update(overrides)
    return load_settings(**values)


# Argon2id at the product's cost (64 MiB, 3 passes, 4 lanes) takes ~0.2 s of CPU per hash
# and per check, and the tests make hundreds (every seeded user with a password, every
# log-in): in the tests' own process passwords are Argon2id at its lowest cost, through the
# same code. A check reads the cost from the hash, so a `jetrack serve` started on seeded
# data checks them cheaply too; what it hashes itself is at the product's cost.
# tests/accounts/test_password_cost.py keeps the product's cost.
PRODUCT_HASHER = users._hasher
users._hasher = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
users.DUMMY_HASH = users._hasher.hash("not a password anyone uses")


# Browser assertions wait up to 15 s, not Playwright's 5: with the browser files first on
# three workers, a dashboard's queries can take longer than 5 s to answer (only a failing
# assertion waits that long).
expect.set_options(timeout=15_000)


# Fixtures that start a `jetrack serve` process: their tests get the `server` marker, which
# `make check` leaves out. Tests that call start_server() themselves carry the marker.
SERVER_FIXTURES = {"live_server", "live_server_factory", "demo_server"}


# Files with browser, server and slow tests first: pytest-xdist hands out whole files
# (--dist loadfile) in this order (the Makefile turns off its own reordering by number of
# tests, --no-loadscope-reorder), so the long ones start at once instead of ending the run
# alone on one worker while the others are idle.
# Files that also run on the ClickHouse server backend (tests/stats, tests/ingest) come
# next: they hold a file's tests twice.
FIRST_MARKERS = ("browser", "server", "slow", "clickhouse_server")


def _file_rank(items: list[pytest.Item]) -> dict[str, int]:
    rank: dict[str, int] = {}
    for item in items:
        marks = {mark.name for mark in item.iter_markers()}
        last = len(FIRST_MARKERS)
        found = min((i for i, name in enumerate(FIRST_MARKERS) if name in marks), default=last)
        path = str(item.path)
        rank[path] = min(rank.get(path, last), found)
    return rank


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if SERVER_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.server)
    if any("demo_data" in getattr(item, "fixturenames", ()) for item in items):
        # Its seeded, rolled-up data is made by a process of its own while tests run.
        from tests.web.dashboard_world import shared_tmp, start_demo_data

        start_demo_data(shared_tmp(config._tmp_path_factory))  # type: ignore[attr-defined]
    rank = _file_rank(items)
    items.sort(key=lambda item: rank[str(item.path)])  # stable: a file's order is kept


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith("JETRACK_"):
            monkeypatch.delenv(name)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path / "data")


@pytest.fixture(scope="session")
def data_dir_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data dir with the test key, migrated once per test process (each xdist worker):
    a copy of it opens in half the time of migrating a new one (measured: 0.1 s of CPU
    instead of 0.2 s, and a third of the writes)."""
    path = tmp_path_factory.mktemp("template") / "data"
    open_stores(make_settings(path)).close()
    return path


def copy_template(template: Path, settings: Settings) -> None:
    """Put a copy of the migrated `template` at settings.data_dir when the settings are the
    template's (test key, embedded stores) and nothing is there yet; open_stores() then
    finds every migration applied (and still checks)."""
    key = settings.encryption_key
    if (
        settings.data_dir.exists()
        or settings.database_url
        or settings.clickhouse_url
        or not settings.encryption
        or settings.encryption_key_file is not None
        or key is None
        or key.get_secret_value() != TEST_KEY
    ):
        return
    copy_data_dir(template, settings.data_dir)


def copy_data_dir(source: Path, target: Path) -> None:
    """A copy of a closed data dir (chDB's links between its folders are relative)."""
    shutil.copytree(source, target, symlinks=True, ignore=shutil.ignore_patterns(LOCK_NAME))


class ClickHouseEndpoint:
    """The loopback ClickHouse HTTP endpoint of this test process (one per xdist worker,
    a process of its own: chDB allows one data dir per process); a fresh database each."""

    def __init__(self, spawned: SpawnedEndpoint) -> None:
        self.spawned = spawned
        self.url = spawned.url

    def run(self, sql: str) -> str:
        answer = httpx.post(self.url + "/", content=sql.encode(), timeout=60)
        assert answer.status_code == 200, answer.text
        return answer.text

    @contextmanager
    def database(self) -> Iterator[str]:
        """A new database, dropped afterwards; yields its JETRACK_CLICKHOUSE_URL."""
        name = f"jt_{uuid.uuid4().hex[:12]}"
        self.run(f"CREATE DATABASE {name}")
        try:
            yield f"{self.url}/{name}"
        finally:
            self.run(f"DROP DATABASE IF EXISTS {name} SYNC")


@pytest.fixture(scope="session")
def clickhouse_endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ClickHouseEndpoint]:
    spawned = spawn_endpoint(tmp_path_factory.mktemp("clickhouse-endpoint"))
    try:
        yield ClickHouseEndpoint(spawned)
    finally:
        spawned.stop()


# The event store backends a suite runs on (tests/stats, tests/ingest): embedded chDB and
# a ClickHouse server, the loopback endpoint of tests/support/clickhouse_http.py.
EVENT_BACKENDS = ["embedded", pytest.param("server", marks=pytest.mark.clickhouse_server)]


@contextmanager
def backend_settings(
    request: pytest.FixtureRequest, backend: str, data_dir: Path, **overrides: Any
) -> Iterator[Settings]:
    """make_settings() on the given event store backend."""
    if backend == "embedded":
        yield make_settings(data_dir, **overrides)
        return
    endpoint: ClickHouseEndpoint = request.getfixturevalue("clickhouse_endpoint")
    with endpoint.database() as url:
        yield make_settings(data_dir, clickhouse_url=url, **overrides)


@pytest.fixture
def stores(settings: Settings, data_dir_template: Path) -> Iterator[Stores]:
    copy_template(data_dir_template, settings)
    opened = open_stores(settings)
    yield opened
    opened.close()


@contextmanager
def postgres_database(template: str | None = None) -> Iterator[str]:
    """A new PostgreSQL database on the local server (a copy of `template` when given), its
    URL, and dropped afterwards."""
    name = f"jetrack_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    copy = f' TEMPLATE "{template}"' if template else ""
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"{copy}'))
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


REDIS_URL = "redis://127.0.0.1:6379/0"


@pytest.fixture
def redis_prefix() -> Iterator[str]:
    """A key prefix of its own on the local Redis (JETRACK_REDIS_PREFIX), its keys
    deleted afterwards."""
    import redis

    prefix = f"jetrack-test-{uuid.uuid4().hex[:12]}:"
    yield prefix
    client = redis.Redis.from_url(REDIS_URL)
    keys = list(client.scan_iter(match=prefix + "*", count=1000))
    if keys:
        client.delete(*keys)
    client.close()


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A fresh (empty) PostgreSQL database on the local server, dropped afterwards."""
    with postgres_database() as url:
        yield url


@pytest.fixture(scope="session")
def postgres_control_template(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A PostgreSQL database with the control store migrated, once per test process: the
    `control` fixture's databases are copies of it (CREATE DATABASE ... TEMPLATE), not
    migrated one by one."""
    with postgres_database() as url:
        store = open_control_store(
            data_dir=tmp_path_factory.mktemp("postgres-template"), database_url=url, key=None
        )
        migrate_control(store)
        store.close()  # a template must have no connections
        yield url.rsplit("/", 1)[1]


@pytest.fixture(scope="session")
def control_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The `control` fixture's SQLite file, migrated once per test process."""
    path = tmp_path_factory.mktemp("control-template")
    store = open_control_store(data_dir=path, database_url=None, key=bytes.fromhex(TEST_KEY))
    migrate_control(store)
    store.close()
    return path


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def control(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[ControlStore]:
    """The migrated control store alone (no event store), on SQLite and on PostgreSQL, each
    a copy of a template migrated once per test process (migrate_control() still checks)."""
    with ExitStack() as stack:
        if request.param == "sqlite":
            made: Path = request.getfixturevalue("control_template")
            for path in made.iterdir():
                shutil.copy2(path, tmp_path / path.name)
            store = open_control_store(
                data_dir=tmp_path, database_url=None, key=bytes.fromhex(TEST_KEY)
            )
        else:
            template: str = request.getfixturevalue("postgres_control_template")
            url = stack.enter_context(postgres_database(template))
            store = open_control_store(data_dir=tmp_path, database_url=url, key=None)
        stack.callback(store.close)
        migrate_control(store)
        yield store


def row(session: Session, model: type[RowT], key: int) -> RowT:
    """The row of `model` with primary key `key`, which the test knows exists."""
    found = session.get(model, key)
    assert found is not None, f"no {model.__name__} {key}"
    return found


def app_state(client: TestClient) -> State:
    """The state of the Starlette app a TestClient drives (to swap a throttle, say)."""
    assert isinstance(client.app, Starlette)
    return client.app.state


def kill_when_paused(process: subprocess.Popen[str], step: str) -> None:
    """Wait (2 minutes at most) until a command run with job_queue.PAUSE_AFTER_STEP_ENV
    says it paused after `step`, then SIGKILL it and reap it."""
    assert process.stderr is not None
    deadline, line = time.monotonic() + 120, ""
    while time.monotonic() < deadline and "job paused" not in line:
        line = process.stderr.readline()
        if not line and process.poll() is not None:
            break
    assert f"paused after step {step}" in line, process.stderr.read()
    process.kill()
    process.communicate(timeout=30)  # reaps it and closes the pipes


@contextmanager
def served_in_thread(config: uvicorn.Config) -> Iterator[uvicorn.Server]:
    """An app served by uvicorn in a thread of this process (it shares the test's state),
    started before the block and stopped after it."""
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "server did not start"
        time.sleep(0.02)
    try:
        yield server
    finally:
        server.should_exit = True
        thread.join(30)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class LiveServer:
    """A real `jetrack serve` process on loopback with its own data dir."""

    url: str
    data_dir: Path
    env: dict[str, str]
    process: subprocess.Popen[bytes]
    log_path: Path
    api_key: str = ""
    domains: list[str] = field(default_factory=list)

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self, sig: int | None = None) -> None:
        if self.process.poll() is not None:
            return
        if sig is None:
            self.process.terminate()
        else:
            self.process.send_signal(sig)
        self.process.wait(timeout=30)


def start_server(
    data_dir: Path, env_extra: dict[str, str] | None = None, port: int | None = None
) -> LiveServer:
    """Start `jetrack serve` and wait until it is healthy. Without a given port, a port that
    another process took between free_port() and the server's bind (tests run in parallel
    workers) is retried on a new port."""
    for _ in range(4 if port is None else 1):
        server = _launch_server(data_dir, env_extra, port or free_port())
        if server is not None:
            return server
    raise RuntimeError("no free port for the server after 4 tries")


def _launch_server(
    data_dir: Path, env_extra: dict[str, str] | None, port: int
) -> LiveServer | None:
    """A healthy server on `port`, or None when the port was taken before it could bind."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("JETRACK_")}
    env.update(
        {
            "JETRACK_DATA_DIR": str(data_dir),
            "JETRACK_ENCRYPTION_KEY": TEST_KEY,
            "JETRACK_PORT": str(port),
            "JETRACK_BASE_URL": f"http://127.0.0.1:{port}",
            "JETRACK_LOG_LEVEL": "info",
            "JETRACK_METRICS_TOKEN": METRICS_TOKEN,
        }
    )
    env.update(env_extra or {})
    log_path = data_dir.parent / f"server-{port}.log"
    with open(log_path, "ab") as handle:  # the child keeps its own descriptor
        process = subprocess.Popen(
            [sys.executable, "-m", "jetrack.cli", "serve"],
            env=env,
            stdout=handle,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            log = log_path.read_text(errors="replace")
            if "address already in use" in log.lower():
                return None
            raise RuntimeError(f"server exited {process.returncode}: {log[-2000:]}")
        try:
            healthy = httpx.get(url + "/api/health", timeout=1).status_code == 200
        except httpx.HTTPError:
            healthy = False
        # The answer may come from another worker's server on the same port, while this one
        # is still starting (it binds after its start-up): only its own socket counts.
        if healthy and _listens_on(process.pid, port):
            return LiveServer(url, data_dir, env, process, log_path)
        time.sleep(0.1)
    process.kill()
    raise RuntimeError(f"server did not become healthy: {log_path.read_text()[-2000:]}")


def _listens_on(pid: int, port: int) -> bool:
    try:
        process = psutil.Process(pid)
        sockets = [
            sock
            for each in (process, *process.children(recursive=True))
            for sock in each.net_connections(kind="tcp")
        ]
    except psutil.Error:  # exited meanwhile: the next poll reads why
        return False
    return any(sock.status == psutil.CONN_LISTEN and sock.laddr.port == port for sock in sockets)


@dataclass
class Inbox:
    """Mails the loopback SMTP server (the `smtp` fixture, aiosmtpd) received, in order."""

    messages: list[EmailMessage] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(message, EmailMessage)
        with self.lock:
            self.messages.append(message)
        return "250 Message accepted for delivery"

    def to(self, address: str) -> list[EmailMessage]:
        with self.lock:
            return [m for m in self.messages if m["To"] == address]

    def last_to(self, address: str) -> EmailMessage:
        found = self.to(address)
        assert found, f"no mail to {address}; got {[m['To'] for m in self.messages]}"
        return found[-1]

    @staticmethod
    def text(message: EmailMessage) -> str:
        part = message.get_body(preferencelist=("plain",))
        assert part is not None
        return str(part.get_content())

    @staticmethod
    def html(message: EmailMessage) -> str:
        part = message.get_body(preferencelist=("html",))
        assert part is not None
        return str(part.get_content())

    def link(self, address: str, path: str) -> str:
        """The first link in the last mail to `address` whose path starts with `path`."""
        text = self.text(self.last_to(address))
        match = re.search(r"https?://[^\s/]+(" + re.escape(path) + r"[^\s]*)", text)
        assert match, f"no {path} link in: {text}"
        return match.group(1)


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()


@pytest.fixture
def inbox(smtp: tuple[Inbox, int]) -> Inbox:
    return smtp[0]


SeedFn = Callable[[Stores], None]


@pytest.fixture
def live_server_factory(
    tmp_path: Path, data_dir_template: Path
) -> Iterator[Callable[..., LiveServer]]:
    """Start servers; `seed` runs against the stores before the server takes the data dir."""
    started: list[LiveServer] = []

    def factory(seed: SeedFn | None = None, env: dict[str, str] | None = None) -> LiveServer:
        data_dir = tmp_path / f"data-{len(started)}"
        settings = make_settings(data_dir)
        copy_template(data_dir_template, settings)
        seeded = open_stores(settings)
        try:
            if seed is not None:
                seed(seeded)
        finally:
            seeded.close()
        server = start_server(data_dir, env)
        started.append(server)
        return server

    yield factory
    for server in started:
        server.stop()


@dataclass
class SiteSeed:
    """A seed that makes an owner, a site and an API key; `key` holds the key once it ran."""

    domain: str = "example.com"
    timezone: str = "UTC"
    key: str = ""

    def __call__(self, stores: Stores) -> str:
        from jetrack.accounts.api_keys import create_api_key
        from jetrack.accounts.users import create_user
        from jetrack.sites.sites import add_site

        with stores.control.session() as session:
            owner = create_user(
                session,
                f"owner-{secrets.token_hex(3)}@example.com",
                password="correct horse battery",
            )
            add_site(session, owner, self.domain, timezone=self.timezone)
            _, self.key = create_api_key(session, owner, "tests")
        return self.key


def seed_site(domain: str = "example.com", timezone: str = "UTC") -> SiteSeed:
    return SiteSeed(domain, timezone)


@pytest.fixture
def live_server(live_server_factory: Callable[..., LiveServer]) -> LiveServer:
    """A server with site example.com and an API key (server.api_key) for its owner."""
    seed = seed_site()
    server = live_server_factory(seed)
    server.api_key = seed.key
    server.domains = ["example.com"]
    return server


CHROMIUM = Path("/usr/bin/chromium")  # Debian's package; `make chromium` installs it
# As root, headless, on a closed network: no sandbox, no background connections.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def playwright_driver() -> Iterator[Any]:
    """The Playwright of one test module. The sync API allows one per thread, and while it
    runs the thread counts as inside an event loop (asyncio.run() refuses), so it lives no
    longer than the module that drives Chromium."""
    from playwright.sync_api import sync_playwright

    assert CHROMIUM.exists(), "Debian's Chromium is missing: run `make chromium`"
    driver = sync_playwright().start()
    yield driver
    driver.stop()
