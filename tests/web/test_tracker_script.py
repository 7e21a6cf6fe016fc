"""GET /js/{name}: content negotiation, caching headers, ETag/304 and name validation."""

from __future__ import annotations

import asyncio
import gzip
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import brotli
import httpx
import pytest
from starlette.applications import Starlette

from jetrack.web.tracker_script import canonical_name, preferred_encoding, tracker_routes


class Client:
    """Synchronous requests to an ASGI app through httpx's ASGI transport."""

    def __init__(self, directory: Path) -> None:
        self.app = Starlette(routes=tracker_routes(directory))

    def request(self, method: str, path: str, headers: dict[str, str]) -> httpx.Response:
        async def send() -> httpx.Response:
            transport = httpx.ASGITransport(app=self.app)
            async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
                return await client.request(method, path, headers=headers)

        # A thread of its own: the session's Playwright keeps an event loop in this one.
        with ThreadPoolExecutor(1) as pool:
            return pool.submit(lambda: asyncio.run(send())).result()

    def get(self, path: str, headers: dict[str, str] | None = None) -> httpx.Response:
        return self.request("GET", path, headers or {})

    def head(self, path: str, headers: dict[str, str] | None = None) -> httpx.Response:
        return self.request("HEAD", path, headers or {})


@pytest.fixture
def client(tracker_build: tuple[Path, str]) -> Client:
    return Client(tracker_build[0])


def source(build_dir: Path, name: str = "script.js") -> bytes:
    return (build_dir / name).read_bytes()


@pytest.mark.parametrize(
    ("accept_encoding", "expected"),
    [
        ("gzip, deflate, br", "br"),
        ("gzip", "gzip"),
        ("br;q=0, gzip", "gzip"),
        ("gzip;q=0.5, br;q=0.4", "gzip"),
        ("*", "br"),
        ("*;q=0, gzip", "gzip"),
        ("identity", "identity"),
        ("", "identity"),
        ("gzip;q=0", "identity"),
        ("gzip;q=nonsense", "identity"),
    ],
)
def test_preferred_encoding(accept_encoding: str, expected: str) -> None:
    assert preferred_encoding(accept_encoding) == expected


@pytest.mark.parametrize(
    ("requested", "expected"),
    [
        ("script.js", "script.js"),
        ("script.hash.js", "script.hash.js"),
        ("script.cookie.outbound-links.hash.js", "script.hash.outbound-links.cookie.js"),
        ("script.404.tagged-events.js", "script.tagged-events.404.js"),
        ("script.hash.hash.js", None),
        ("script.unknown.js", None),
        ("script.HASH.js", None),
        ("other.js", None),
        ("script.js.map", None),
        ("manifest.json", None),
        ("..", None),
        ("script..js", None),
    ],
)
def test_canonical_name(requested: str, expected: str | None) -> None:
    assert canonical_name(requested) == expected


def test_brotli_when_accepted(client: Client, tracker_build: tuple[Path, str]) -> None:
    response = client.get("/js/script.js", headers={"Accept-Encoding": "gzip, br"})
    assert response.status_code == 200
    assert response.headers["content-encoding"] == "br"
    assert response.content == source(tracker_build[0])  # decoded by the client
    assert int(response.headers["content-length"]) == len(
        brotli.compress(source(tracker_build[0]), quality=11)
    )


def test_gzip_when_only_gzip_accepted(client: Client, tracker_build: tuple[Path, str]) -> None:
    response = client.get("/js/script.js", headers={"Accept-Encoding": "gzip"})
    assert response.headers["content-encoding"] == "gzip"
    assert response.content == source(tracker_build[0])
    assert int(response.headers["content-length"]) == len(
        gzip.compress(source(tracker_build[0]), compresslevel=9, mtime=0)
    )


def test_identity_without_accept_encoding(client: Client, tracker_build: tuple[Path, str]) -> None:
    response = client.get("/js/script.js", headers={"Accept-Encoding": "identity"})
    assert "content-encoding" not in response.headers
    assert response.content == source(tracker_build[0])


def test_headers(client: Client) -> None:
    response = client.get("/js/script.js", headers={"Accept-Encoding": "gzip"})
    assert response.headers["content-type"] == "application/javascript; charset=utf-8"
    assert response.headers["cache-control"] == "public, max-age=3600"
    assert response.headers["vary"] == "Accept-Encoding"
    assert response.headers["access-control-allow-origin"] == "*"
    assert response.headers["x-content-type-options"] == "nosniff"
    etag = response.headers["etag"]
    assert etag.startswith('"') and etag.endswith('"')  # strong, not W/


def test_each_coding_has_its_own_etag(client: Client) -> None:
    etags = {
        coding: client.get("/js/script.js", headers={"Accept-Encoding": coding}).headers["etag"]
        for coding in ("br", "gzip", "identity")
    }
    assert len(set(etags.values())) == 3


def test_if_none_match_gives_304(client: Client) -> None:
    first = client.get("/js/script.js", headers={"Accept-Encoding": "br"})
    etag = first.headers["etag"]
    for if_none_match in (etag, f"W/{etag}", f'"other", {etag}', "*"):
        again = client.get(
            "/js/script.js", headers={"Accept-Encoding": "br", "If-None-Match": if_none_match}
        )
        assert again.status_code == 304, if_none_match
        assert again.content == b""
        assert again.headers["etag"] == etag
        assert again.headers["cache-control"] == "public, max-age=3600"


def test_etag_of_another_coding_does_not_match(client: Client) -> None:
    gzip_etag = client.get("/js/script.js", headers={"Accept-Encoding": "gzip"}).headers["etag"]
    response = client.get(
        "/js/script.js", headers={"Accept-Encoding": "br", "If-None-Match": gzip_etag}
    )
    assert response.status_code == 200


def test_etag_changes_with_content(client: Client) -> None:
    etags = {
        client.get(f"/js/{name}", headers={"Accept-Encoding": "br"}).headers["etag"]
        for name in ("script.js", "script.hash.js", "script.outbound-links.js")
    }
    assert len(etags) == 3


def test_head(client: Client) -> None:
    response = client.head("/js/script.js", headers={"Accept-Encoding": "gzip"})
    assert response.status_code == 200
    assert response.content == b""
    assert response.headers["content-encoding"] == "gzip"


def test_variant_names_in_any_order(client: Client, tracker_build: tuple[Path, str]) -> None:
    response = client.get("/js/script.outbound-links.hash.js")
    assert response.status_code == 200
    assert response.content == source(tracker_build[0], "script.hash.outbound-links.js")


@pytest.mark.parametrize(
    "path",
    [
        "/js/nope.js",
        "/js/script.everything.js",
        "/js/script.hash.hash.js",
        "/js/manifest.json",
        "/js/..%2Fmanifest.json",
        "/js/%2e%2e%2f%2e%2e%2fpyproject.toml",
        "/js/script.js%00.png",
        "/js/../js/nope.js",
    ],
)
def test_unknown_names_are_404(client: Client, path: str) -> None:
    assert client.get(path).status_code == 404


def test_missing_build_is_404(tmp_path: Path) -> None:
    assert Client(tmp_path).get("/js/script.js").status_code == 404
