"""A stand-in event endpoint on loopback: serves test pages and the built script, records events."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from jetrack.web.tracker_script import tracker_routes

Event = dict[str, Any]


@dataclass
class Received:
    """One request to /api/event, as the server saw it."""

    method: str
    content_type: str
    body: Event | None


@dataclass
class Collector:
    scripts_dir: Path
    received: list[Received] = field(default_factory=list)
    pages: dict[str, tuple[str, int]] = field(default_factory=dict)
    port: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _server: uvicorn.Server | None = None
    _thread: threading.Thread | None = None

    # -- what tests use ---------------------------------------------------------------

    @property
    def page_origin(self) -> str:
        """Test pages live here; the script and the endpoint on `script_origin`."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def script_origin(self) -> str:
        # Another host name for the same server makes every event a cross-origin request.
        return f"http://localhost:{self.port}"

    def add_page(self, path: str, html: str, status: int = 200) -> str:
        self.pages[path] = (html, status)
        return self.page_origin + path

    def events(self, name: str | None = None) -> list[Event]:
        with self._lock:
            bodies = [r.body for r in self.received if r.method == "POST" and r.body]
        return [b for b in bodies if name is None or b.get("n") == name]

    def wait_for(self, count: int, name: str | None = None, timeout: float = 5.0) -> list[Event]:
        """At least `count` events (named `name`), or an AssertionError after `timeout`."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = self.events(name)
            if len(found) >= count:
                return found
            time.sleep(0.02)
        raise AssertionError(f"waited for {count} {name or 'events'}, got {self.events()}")

    def wait_until(self, condition: Callable[[], bool], timeout: float = 5.0) -> None:
        deadline = time.monotonic() + timeout
        while not condition():
            if time.monotonic() > deadline:
                raise AssertionError(f"condition not met; events: {self.events()}")
            time.sleep(0.02)

    # -- server -----------------------------------------------------------------------

    async def _event(self, request: Request) -> Response:
        raw = await request.body()
        try:
            body = json.loads(raw) if request.method == "POST" else None
        except ValueError:
            body = None
        with self._lock:
            self.received.append(
                Received(request.method, request.headers.get("content-type", ""), body)
            )
        if request.method == "OPTIONS":
            # A CORS preflight is a bug in the tracker: answer without allowing anything.
            return Response(status_code=204)
        return Response(status_code=202, headers={"Access-Control-Allow-Origin": "*"})

    async def _page(self, request: Request) -> Response:
        html, status = self.pages.get(request.url.path, ("<!doctype html><p>not found", 404))
        return HTMLResponse(html, status_code=status)

    def start(self) -> None:
        app = Starlette(
            routes=[
                *tracker_routes(self.scripts_dir),
                Route("/api/event", self._event, methods=["POST", "OPTIONS"]),
                Route("/{path:path}", self._page),
            ]
        )
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        self.port = sock.getsockname()[1]
        config = uvicorn.Config(
            app, log_level="warning", lifespan="off", ws="none", timeout_graceful_shutdown=1
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [sock]}, daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("collector did not start")
            time.sleep(0.01)

    def stop(self) -> None:
        if self._server is not None and self._thread is not None:
            self._server.should_exit = True
            self._thread.join(timeout=10)
