"""jetrack serve: health of both stores, TLS with HSTS, no client address in the log."""

from __future__ import annotations

import datetime as dt
import os
import ssl
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.conftest import TEST_KEY, free_port, start_server

pytestmark = pytest.mark.server


def test_health_reports_both_stores(tmp_path: Path) -> None:
    server = start_server(tmp_path / "data")
    try:
        response = httpx.get(server.url + "/api/health")
        assert response.status_code == 200
        body = response.json()
        assert (body["status"], body["encrypted_at_rest"]) == ("ok", True)
        assert {name: b["status"] for name, b in body["backends"].items()} == {
            "control_store": "ok",
            "event_store": "ok",
        }
        assert "strict-transport-security" not in response.headers
    finally:
        server.stop()
    assert "127.0.0.1" not in server.log_text().replace(f"{server.url}", "")


def _self_signed(directory: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


def test_tls_is_terminated_with_hsts(tmp_path: Path) -> None:
    cert, key = _self_signed(tmp_path)
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("JETRACK_")}
    env.update({"JETRACK_DATA_DIR": str(tmp_path / "data"), "JETRACK_ENCRYPTION_KEY": TEST_KEY})
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "jetrack.cli",
            "serve",
            "--port",
            str(port),
            "--certfile",
            str(cert),
            "--keyfile",
            str(key),
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    context = ssl.create_default_context(cafile=str(cert))
    try:
        response = None
        # A generous start-up time: a loaded CI machine starts chDB slowly.
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and process.poll() is None:
            try:
                response = httpx.get(f"https://localhost:{port}/api/health", verify=context)
                break
            except httpx.ConnectError:
                time.sleep(0.1)
        assert response is not None and response.status_code == 200
        assert response.headers["strict-transport-security"].startswith("max-age=31536000")
        # Event requests, answered by Jetrack's HTTP protocol, over TLS as well.
        event = httpx.post(
            f"https://localhost:{port}/api/event",
            json={"n": "pageview", "u": "https://nowhere.example/", "d": "nowhere.example"},
            headers={"User-Agent": "Mozilla/5.0 (X11; Linux x86_64) Firefox/133.0"},
            verify=context,
        )
        assert (event.status_code, event.headers["x-jetrack-dropped"]) == (202, "unknown_site")
    finally:
        process.terminate()
        process.wait(timeout=30)
