"""start_server() under parallel workers: a port another process took is not mistaken for
the new server's."""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import httpx
import pytest

from tests.conftest import start_server


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
