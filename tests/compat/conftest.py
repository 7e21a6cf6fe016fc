"""Fixtures for the wire-compatibility tests: Plausible's own npm trackers against Jetrack.

The trackers are bundled by `tests/compat/build.mjs` (a separate npm project in this
folder); test pages are served from a loopback origin of their own and send their events
to a real `jetrack serve`, so every event is a cross-origin request as on a customer's site.
"""

from __future__ import annotations

import fcntl
import http.server
import json
import re
import shutil
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import (
    Browser,
    BrowserContext,
    Page,
    Request,
    Response,
)

from jetrack.sites.sites import find_site
from jetrack.store.models import Goal
from jetrack.store.stores import Stores, open_stores
from tests.conftest import (
    CHROMIUM,
    CHROMIUM_ARGS,
    METRICS_AUTH,
    LiveServer,
    SiteSeed,
    make_settings,
)
from tests.tracker.conftest import (
    DESKTOP_UA,
    HIDE_AUTOMATION,
    VIEWPORT,
)

HERE = Path(__file__).resolve().parent
DIST = HERE / "dist"
BUNDLES = ("plausible-analytics-tracker.js", "plausible-tracker.js")
GOALS = ("Signup", "Outbound Link: Click", "File Download")
SITE = "example.com"


# -- the bundles --------------------------------------------------------------------------


def _newest_input() -> float:
    inputs = [HERE / "build.mjs", HERE / "package-lock.json", *(HERE / "entries").glob("*.js")]
    return max(path.stat().st_mtime for path in inputs)


@pytest.fixture(scope="session")
def compat_bundles() -> Path:
    """`npm ci` when node_modules is missing or older than the lock, then the build when its
    output is missing or older than its inputs (the Makefile normally did both already).
    Each pytest worker has its own session: a file lock lets one of them install and build
    while the other waits, instead of reading a bundle the first is still writing."""
    npm, node = shutil.which("npm"), shutil.which("node")
    assert npm and node, "Node.js and npm are needed to bundle Plausible's trackers"
    DIST.mkdir(exist_ok=True)
    with open(DIST / ".lock", "w") as guard:
        fcntl.flock(guard, fcntl.LOCK_EX)
        _install_and_build(npm, node)
    return DIST


def _install_and_build(npm: str, node: str) -> None:
    installed = HERE / "node_modules" / ".package-lock.json"
    lock = HERE / "package-lock.json"
    if not installed.exists() or installed.stat().st_mtime < lock.stat().st_mtime:
        done = subprocess.run(
            [npm, "--prefix", str(HERE), "ci", "--no-audit", "--no-fund", "--loglevel=error"],
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert done.returncode == 0, done.stdout + done.stderr
    outputs = [DIST / name for name in BUNDLES]
    if (
        not all(path.exists() for path in outputs)
        or min(path.stat().st_mtime for path in outputs) < _newest_input()
    ):
        done = subprocess.run(
            [node, str(HERE / "build.mjs")], capture_output=True, text=True, timeout=120
        )
        assert done.returncode == 0, done.stdout + done.stderr


def package_version(name: str) -> str:
    manifest = HERE / "node_modules" / name / "package.json"
    return str(json.loads(manifest.read_text())["version"])


# -- the test pages' origin ---------------------------------------------------------------


@dataclass
class PageServer:
    """Serves registered pages and the bundles on http://127.0.0.1:PORT (not Jetrack's port)."""

    dist: Path
    pages: dict[str, str] = field(default_factory=dict)
    requests: list[str] = field(default_factory=list)
    port: int = 0
    _httpd: http.server.ThreadingHTTPServer | None = None

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def other_origin(self) -> str:
        """The same server under another host name: a link here is an outbound link."""
        return f"http://localhost:{self.port}"

    def add_page(self, path: str, html: str) -> str:
        self.pages[path] = html
        return self.origin + path

    def start(self) -> None:
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                path = self.path.split("?", 1)[0].split("#", 1)[0]
                server.requests.append(self.path)
                if path.startswith("/dist/") and path[6:] in BUNDLES:
                    body, kind, status = (
                        (server.dist / path[6:]).read_bytes(),
                        "text/javascript",
                        200,
                    )
                elif path in server.pages:
                    body, kind, status = server.pages[path].encode(), "text/html", 200
                else:
                    body, kind, status = b"<!doctype html><p>landed", "text/html", 200
                self.send_response(status)
                self.send_header("Content-Type", f"{kind}; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Cache-Control", "no-store")
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        class Server(http.server.ThreadingHTTPServer):
            def handle_error(self, request: Any, client_address: Any) -> None:
                pass  # a navigation that Chromium cut short (a clicked link) is no error here

        self._httpd = Server(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self.port = int(self._httpd.server_address[1])
        threading.Thread(target=self._httpd.serve_forever, daemon=True).start()

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()


@pytest.fixture
def pages(compat_bundles: Path) -> Iterator[PageServer]:
    server = PageServer(compat_bundles)
    server.start()
    yield server
    server.stop()


def page_html(bundle: str, setup: str, *, body: str = "", title: str = "compat") -> str:
    """A page that loads one bundle at the end of the body and runs `setup` after it."""
    return (
        f'<!doctype html><html><head><meta charset="utf-8"><title>{title}</title>'
        '<link rel="icon" href="data:,"></head><body>'
        f'{body}<script src="/dist/{bundle}"></script>'
        f"<script>window.callbacks = [];\n{setup}\n</script></body></html>"
    )


# -- Jetrack ------------------------------------------------------------------------------


@dataclass
class GoalsSeed(SiteSeed):
    """seed_site plus custom-event goals, so `event:goal` can be queried."""

    def __call__(self, stores: Stores) -> str:
        key = super().__call__(stores)
        with stores.control.session() as session:
            site = find_site(session, self.domain)
            assert site is not None
            for name in GOALS:
                session.add(Goal(site_id=site.id, event_name=name, display_name=name))
        return key


@pytest.fixture
def jetrack(live_server_factory: Callable[..., LiveServer]) -> LiveServer:
    """`live_server` (site example.com, server.api_key) with goals for the custom events."""
    seed = GoalsSeed(SITE)
    server = live_server_factory(seed)
    server.api_key = seed.key
    server.domains = [SITE]
    return server


def query(server: LiveServer, **body: Any) -> list[tuple[list[Any], list[Any]]]:
    """POST /api/v2/query for today on example.com; (dimensions, metrics) per result row."""
    response = httpx.post(
        f"{server.url}/api/v2/query",
        json={"site_id": SITE, "date_range": "day", **body},
        headers={"Authorization": f"Bearer {server.api_key}"},
        timeout=10,
    )
    assert response.status_code == 200, response.text
    return [(row["dimensions"], row["metrics"]) for row in response.json()["results"]]


def wait_for_stats(server: LiveServer, expected: Any, timeout: float = 12, **body: Any) -> None:
    """The write buffer flushes about once a second: poll until the rows are `expected`."""
    deadline = time.monotonic() + timeout
    while True:
        found = query(server, **body)
        if found == expected:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"{body}: expected {expected}, got {found}")
        time.sleep(0.25)


def stored_events(server: LiveServer) -> list[dict[str, Any]]:
    """Stop the server (a graceful stop flushes the buffer) and read its event rows."""
    server.stop()
    stores = open_stores(make_settings(server.data_dir))
    try:
        result = stores.events.query(
            "SELECT name, pathname, referrer, source, screen_size, device, props, "
            "revenue_amount, revenue_currency, interactive, scroll_depth, engagement_ms "
            "FROM events ORDER BY timestamp, name"
        )
        rows = [dict(zip(result.columns, row, strict=True)) for row in result.rows]
    finally:
        stores.close()
    for row in rows:
        row["props"] = dict(row["props"])
        row["revenue_amount"] = Decimal(str(row["revenue_amount"]))
    return rows


# -- Chromium -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def browser(playwright_driver: Any) -> Iterator[Browser]:
    """Debian's Chromium for one module.

    Chromium itself runs with the desktop UA too (not only each context): a keepalive
    request that a page sends while it unloads (the new tracker's engagement ping when a
    link is followed) goes out with the browser's own UA, which says "HeadlessChrome" and
    which Jetrack rightly drops as automation.
    """
    args = [*CHROMIUM_ARGS, f"--user-agent={DESKTOP_UA}"]
    launched = playwright_driver.chromium.launch(
        executable_path=str(CHROMIUM), args=args, headless=True
    )
    yield launched
    launched.close()


@dataclass
class Exchange:
    """One request to Jetrack's /api/event as Chromium sent it, and the answer it got."""

    method: str
    url: str
    headers: dict[str, str]
    body: str | None
    status: int | None = None
    response_headers: dict[str, str] = field(default_factory=dict)
    failure: str | None = None

    @property
    def event(self) -> dict[str, Any]:
        parsed: dict[str, Any] = json.loads(self.body or "null")
        return parsed

    def describe(self) -> str:
        return (
            f"{self.method} {self.url}\n  request headers: {self.headers}\n  body: {self.body}\n"
            f"  -> {self.status} {self.response_headers} {self.failure or ''}"
        )


@dataclass
class Traffic:
    """Everything the page sent to Jetrack's event endpoint, with the answers."""

    endpoint: str
    exchanges: list[Exchange] = field(default_factory=list)
    _by_request: dict[Request, Exchange] = field(default_factory=dict)

    def on_request(self, request: Request) -> None:
        if request.url.split("?")[0] != self.endpoint:
            return
        exchange = Exchange(request.method, request.url, request.headers, request.post_data)
        self._by_request[request] = exchange
        self.exchanges.append(exchange)

    def on_response(self, response: Response) -> None:
        exchange = self._by_request.get(response.request)
        if exchange is not None:
            exchange.status = response.status
            exchange.response_headers = response.headers

    def on_failed(self, request: Request) -> None:
        exchange = self._by_request.get(request)
        if exchange is not None:
            exchange.failure = request.failure or "failed"

    def events(self, name: str | None = None) -> list[dict[str, Any]]:
        found = [x.event for x in self.exchanges if x.method == "POST" and x.body]
        return [e for e in found if name is None or e.get("n") == name]

    def wait_for(self, page: Page, count: int, name: str | None = None) -> list[dict[str, Any]]:
        """At least `count` events named `name` sent *and answered*, within 10 s."""
        deadline = time.monotonic() + 10
        while True:
            done = [x for x in self.exchanges if x.status is not None or x.failure]
            found = [x.event for x in done if x.body and (name is None or x.event["n"] == name)]
            if len(found) >= count:
                return found
            if time.monotonic() > deadline:
                raise AssertionError(f"waited for {count} {name or 'events'}:\n{self.report()}")
            page.wait_for_timeout(50)

    def report(self) -> str:
        return "\n".join(x.describe() for x in self.exchanges) or "(nothing sent)"

    def assert_all_accepted(self, server: LiveServer) -> None:
        """Every request was a CORS-simple text/plain POST that Jetrack answered 202 and kept.

        A keepalive request still in flight when the page navigates away (a link click) is
        finished by the browser, but the page's network log only says net::ERR_ABORTED, and
        one sent while the page unloads is not in that log at all. Jetrack's own counters
        (GET /metrics) cover both: every event it got was accepted, none was dropped.
        """
        assert self.exchanges, "nothing was sent to Jetrack"
        for x in self.exchanges:
            assert x.method == "POST", x.describe()
            assert x.headers.get("content-type", "").startswith("text/plain"), x.describe()
            if x.status is None:
                assert x.failure == "net::ERR_ABORTED", x.describe()
                continue
            assert x.status == 202, x.describe()
            assert "x-jetrack-dropped" not in x.response_headers, x.describe()
            assert "set-cookie" not in x.response_headers, x.describe()
        deadline = time.monotonic() + 5
        sent = len(self.exchanges)
        while (outcomes := event_outcomes(server)).keys() != {"accepted"} or outcomes[
            "accepted"
        ] < sent:
            if time.monotonic() > deadline:
                raise AssertionError(f"Jetrack counted {outcomes}; the page sent:\n{self.report()}")
            time.sleep(0.1)


def event_outcomes(server: LiveServer) -> dict[str, int]:
    """Jetrack's per-outcome event counters from GET /metrics ("accepted" or a drop reason)."""
    text = httpx.get(f"{server.url}/metrics", headers=METRICS_AUTH, timeout=5).text
    found = re.findall(r'^jetrack_events_total\{outcome="([a-z_]+)"\} (\d+)\.0$', text, re.M)
    return {outcome: int(count) for outcome, count in found if int(count)}


@dataclass
class Browsing:
    """A browser context for one test: its page, what it sent to Jetrack, what it logged."""

    context: BrowserContext
    traffic: Traffic
    console: list[str]
    errors: list[str]

    def open(self, url: str, referer: str | None = None) -> Page:
        page = self.context.new_page()
        page.on("console", self._on_console)
        page.on("pageerror", lambda exc: self.errors.append(str(exc)))
        page.goto(url, referer=referer)
        return page

    def _on_console(self, message: Any) -> None:
        if message.type in ("warning", "error"):
            self.console.append(f"{message.type}: {message.text}")

    def assert_no_client_state(self, page: Page) -> None:
        """The tracker left no cookie, localStorage, sessionStorage or IndexedDB behind."""
        assert self.context.cookies() == []
        state = page.evaluate(
            """async () => ({
                local: Object.keys(localStorage), session: Object.keys(sessionStorage),
                databases: indexedDB.databases ? (await indexedDB.databases()).length : 0,
                cookie: document.cookie})"""
        )
        assert state == {"local": [], "session": [], "databases": 0, "cookie": ""}
        assert self.context.storage_state()["origins"] == []


OpenBrowsing = Callable[[LiveServer], Browsing]


@pytest.fixture
def browsing(browser: Browser) -> Iterator[OpenBrowsing]:
    """A fresh context (desktop Chrome UA, navigator.webdriver hidden) recording /api/event."""
    made: list[Browsing] = []

    def make(server: LiveServer) -> Browsing:
        context = browser.new_context(user_agent=DESKTOP_UA, viewport=VIEWPORT)
        context.add_init_script(HIDE_AUTOMATION)
        traffic = Traffic(f"{server.url}/api/event")
        context.on("request", traffic.on_request)
        context.on("response", traffic.on_response)
        context.on("requestfailed", traffic.on_failed)
        session = Browsing(context, traffic, [], [])
        made.append(session)
        return session

    yield make
    for session in made:
        session.context.close()
    for session in made:
        assert session.errors == [], f"the page saw errors: {session.errors}"
        assert session.console == [], f"the page logged: {session.console}"


def call_and_wait(page: Page, call: str) -> Any:
    """Evaluate `call` with `done` bound to a callback; the tracker's callback result."""
    return page.evaluate(f"new Promise(done => {{ {call} }})")
