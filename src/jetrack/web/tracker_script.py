"""Serves the built tracking script and its variants at /js/{name}, compressed and cacheable."""

from __future__ import annotations

import gzip
import hashlib
import re
import threading
from dataclasses import dataclass
from pathlib import Path

import brotli
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

BUILD_DIR = Path(__file__).resolve().parents[1] / "static" / "build" / "tracker"

# The canonical order of extensions in a built file's name; tracker/build.mjs builds every
# combination in this order. A request may list them in any order.
EXTENSIONS = (
    "hash",
    "exclusions",
    "outbound-links",
    "file-downloads",
    "form-submissions",
    "tagged-events",
    "404",
    "cookie",
)

# Site owners embed a fixed, unversioned URL, so the script cannot be cached "immutable":
# an hour keeps a fix or a new variant from waiting days to reach visitors, while the
# ETag turns each hourly revalidation into a bodyless 304.
CACHE_CONTROL = "public, max-age=3600"

_NAME = re.compile(r"script((?:\.[a-z0-9-]+)*)\.js")
_QUALITY = re.compile(r";\s*q=([^;\s]*)")


def canonical_name(requested: str) -> str | None:
    """The built file's name for a requested variant, or None if it is not one."""
    match = _NAME.fullmatch(requested)
    if match is None:
        return None
    parts = [part for part in match.group(1).split(".") if part]
    if len(set(parts)) != len(parts) or not set(parts) <= set(EXTENSIONS):
        return None
    ordered = [extension for extension in EXTENSIONS if extension in parts]
    return ".".join(["script", *ordered, "js"])


def preferred_encoding(accept_encoding: str) -> str:
    """'br', 'gzip' or 'identity': the best coding the client accepts (q > 0)."""
    qualities: dict[str, float] = {}
    for item in accept_encoding.lower().split(","):
        coding = item.split(";", 1)[0].strip()
        found = _QUALITY.search(item)
        try:
            qualities[coding] = float(found.group(1)) if found else 1.0
        except ValueError:
            qualities[coding] = 0.0
    wildcard = qualities.get("*", 0.0)
    ranked = sorted(
        (
            (qualities.get(coding, wildcard), -rank, coding)
            for rank, coding in enumerate(("br", "gzip"))
        ),
        reverse=True,
    )
    quality, _, coding = ranked[0]
    return coding if quality > 0 else "identity"


@dataclass(frozen=True)
class ScriptFile:
    """One built variant in each content coding, with a strong ETag per coding."""

    bodies: dict[str, bytes]
    digest: str

    @classmethod
    def load(cls, path: Path) -> ScriptFile:
        body = path.read_bytes()
        return cls(
            bodies={
                "identity": body,
                "gzip": gzip.compress(body, compresslevel=9, mtime=0),
                "br": bytes(brotli.compress(body, quality=11)),
            },
            digest=hashlib.sha256(body).hexdigest()[:32],
        )

    def etag(self, coding: str) -> str:
        # Strong validators must differ between codings of the same content (RFC 9110 8.8.3).
        return f'"{self.digest}"' if coding == "identity" else f'"{self.digest}-{coding}"'


class ScriptStore:
    """Loads each variant on first request and keeps it, compressed, in memory."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._files: dict[str, ScriptFile] = {}
        self._lock = threading.Lock()

    def get(self, name: str) -> ScriptFile | None:
        with self._lock:
            cached = self._files.get(name)
            if cached is None:
                path = self.directory / name
                if not path.is_file():
                    return None
                cached = self._files[name] = ScriptFile.load(path)
            return cached


def _not_modified(if_none_match: str, etag: str) -> bool:
    # If-None-Match uses the weak comparison: W/"x" matches "x".
    candidates = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
    return "*" in candidates or etag in candidates


def tracker_routes(directory: Path = BUILD_DIR) -> list[BaseRoute]:
    """The /js/{name} route over the built variants in `directory`."""
    store = ScriptStore(directory)

    async def tracker_script(request: Request) -> Response:
        name = canonical_name(request.path_params["name"])
        script = store.get(name) if name else None
        if script is None:
            return Response("Unknown script\n", status_code=404, media_type="text/plain")
        coding = preferred_encoding(request.headers.get("accept-encoding", ""))
        headers = {
            "ETag": script.etag(coding),
            "Cache-Control": CACHE_CONTROL,
            "Vary": "Accept-Encoding",
            "Access-Control-Allow-Origin": "*",
            "Cross-Origin-Resource-Policy": "cross-origin",
            "X-Content-Type-Options": "nosniff",
        }
        if _not_modified(request.headers.get("if-none-match", ""), headers["ETag"]):
            return Response(status_code=304, headers=headers)
        if coding != "identity":
            headers["Content-Encoding"] = coding
        return Response(
            script.bodies[coding],
            headers=headers,
            media_type="application/javascript; charset=utf-8",
        )

    return [Route("/js/{name}", tracker_script, methods=["GET", "HEAD"])]


routes: list[BaseRoute] = tracker_routes()
