"""start_server() under parallel workers: a port another process took is not mistaken for
the new server's."""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import httpx
import pytest

from tests.conftest import LiveServer, seed_site, start_server


class _AlwaysHealthy(BaseHTTPRequestHandler):
    """Stands for another worker's server: answers 200 to every request."""

    def do_GET(self) -> None:
        body = b'{"impostor": true}'
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def taken_port() -> Iterator[int]:
    impostor = HTTPServer(("127.0.0.1", 0), _AlwaysHealthy)
    thread = threading.Thread(target=impostor.serve_forever, daemon=True)
    thread.start()
    try:
        yield int(impostor.server_address[1])
    finally:
        impostor.shutdown()
        impostor.server_close()


@pytest.mark.server
def test_a_port_taken_meanwhile_is_retried_on_another(
    tmp_path: Path, taken_port: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    conftest = sys.modules[start_server.__module__]
    real_free_port = conftest.free_port
    offered = iter([taken_port])  # the first "free" port is the one another process holds
    monkeypatch.setattr(conftest, "free_port", lambda: next(offered, None) or real_free_port())
    server = start_server(tmp_path / "data")
    try:
        assert server.url != f"http://127.0.0.1:{taken_port}"
        assert server.process.poll() is None
        health = httpx.get(server.url + "/api/health", timeout=5)
        assert health.status_code == 200
        assert "impostor" not in health.json()
    finally:
        server.stop()
    assert "address already in use" in (tmp_path / f"server-{taken_port}.log").read_text().lower()


def _mapped_files(pid: int) -> str:
    return Path(f"/proc/{pid}/maps").read_text()


@pytest.mark.server
def test_a_server_under_a_memory_limit_ingests_and_answers_without_pandas(
    live_server_factory: Callable[..., LiveServer],
) -> None:
    seed = seed_site()
    env = {"JETRACK_MEMORY_LIMIT": "512M", "JETRACK_TRUSTED_PROXIES": "127.0.0.1/32"}
    server = live_server_factory(seed, env)
    sent = httpx.post(
        server.url + "/api/event",
        json={"n": "pageview", "u": "https://example.com/a", "d": "example.com"},
        headers={
            "User-Agent": "Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0",
            "X-Forwarded-For": "81.2.69.142",
        },
        timeout=5,
    )
    assert sent.status_code == 202
    query = {"site_id": "example.com", "metrics": ["pageviews"], "date_range": "day"}
    headers = {"Authorization": f"Bearer {seed.key}"}
    deadline = time.monotonic() + 30
    pageviews = 0
    while time.monotonic() < deadline and pageviews < 1:  # the write buffer flushes each second
        answer = httpx.post(server.url + "/api/v2/query", json=query, headers=headers, timeout=10)
        assert answer.status_code == 200, answer.text
        pageviews = answer.json()["results"][0]["metrics"][0]
        time.sleep(0.5)
    assert pageviews >= 1
    maps = _mapped_files(server.process.pid)
    assert "/chdb/" in maps  # the embedded engine is loaded...
    assert "/pandas/" not in maps  # ...but pandas, which chDB and pyarrow would import, not
