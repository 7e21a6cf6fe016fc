"""Big bodies against a real `jetrack serve`: the server's RSS before and after a client
streams a large chunked body at the Stats API and the dashboard's query endpoints.

    .venv/bin/python bench/body_cap.py [--megabytes 500]

Prints, per case, the answer, how many megabytes the client got to send before it, and the
server's RSS before and its peak while the body streamed (psutil). With the resource policy the server answers 401
(no credentials) or 413 (at the cap) after reading at most the cap, so RSS stays flat."""

from __future__ import annotations

import argparse
import select
import socket
import tempfile
import threading
import time
from pathlib import Path

import psutil
from tests.conftest import LiveServer, make_settings, start_server

from jetrack.accounts.api_keys import create_api_key
from jetrack.accounts.users import create_user
from jetrack.sites.sites import add_site
from jetrack.store.stores import Stores, open_stores

CHUNK = 1024 * 1024


def seed(stores: Stores) -> str:
    with stores.control.session() as session:
        owner = create_user(session, "bench@example.com", password="correct horse battery")
        add_site(session, owner, "example.com")
        _, key = create_api_key(session, owner, "bench")
    return key


def stream(
    server: LiveServer, path: str, headers: dict[str, str], megabytes: int
) -> tuple[str, int]:
    """Send a chunked body until the server answers or `megabytes` are sent."""
    host, port = server.url.removeprefix("http://").split(":")
    sent = 0
    with socket.create_connection((host, int(port))) as sock:
        head = f"POST {path} HTTP/1.1\r\nHost: {host}\r\nTransfer-Encoding: chunked\r\n"
        head += "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n"
        sock.sendall(head.encode())
        chunk = f"{CHUNK:x}\r\n".encode() + b"x" * CHUNK + b"\r\n"
        answer = b""
        while sent < megabytes and not answer:
            readable, writable, _ = select.select([sock], [sock], [], 30)
            if readable:
                answer = sock.recv(65536)
                break
            if writable:
                try:
                    sock.sendall(chunk)
                except (BrokenPipeError, ConnectionResetError):
                    break
                sent += 1
        sock.settimeout(120)
        if not answer:
            try:
                sock.sendall(b"0\r\n\r\n")
                answer = sock.recv(65536)
            except OSError:
                pass
    status = answer.split(b"\r\n", 1)[0].decode(errors="replace") or "(connection closed)"
    return status, sent


class PeakRss:
    """The highest RSS of a process while the block runs (sampled every 20 ms)."""

    def __init__(self, process: psutil.Process) -> None:
        self.process, self.rss, self.done = process, 0, threading.Event()

    def sample(self) -> None:
        while not self.done.is_set():
            self.rss = max(self.rss, self.process.memory_info().rss)
            time.sleep(0.02)

    def __enter__(self) -> PeakRss:
        self.thread = threading.Thread(target=self.sample)
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        time.sleep(0.2)
        self.done.set()
        self.thread.join()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--megabytes", type=int, default=500)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = Path(tmp) / "data"
        stores = open_stores(make_settings(data_dir))
        key = seed(stores)
        stores.close()
        server = start_server(data_dir)
        try:
            process = psutil.Process(server.process.pid)
            cases = [
                ("/api/v2/query, no credentials", "/api/v2/query", {}),
                ("/api/v2/query, with a key", "/api/v2/query", {"Authorization": f"Bearer {key}"}),
                ("/api/share/x/query, anonymous", "/api/share/x/query", {}),
            ]
            for name, path, headers in cases:
                before = process.memory_info().rss
                with PeakRss(process) as peak:
                    status, sent = stream(server, path, headers, args.megabytes)
                print(
                    f"{name:34} {status:38} sent {sent:4} MB  "
                    f"RSS {before / 2**20:5.0f} MB, peak {peak.rss / 2**20:5.0f} MB"
                )
        finally:
            server.stop()


if __name__ == "__main__":
    main()
