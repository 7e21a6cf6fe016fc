"""/static: the stylesheet, page scripts and built front-end bundles under src/jetrack/static;
/favicon.ico; where Vite put the built files of a front-end entry."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

STATIC_DIR = Path(__file__).resolve().parent.parent / "static"
# `npm --prefix frontend run build`: the dashboard and the pages' TypeScript modules.
FRONTEND_BUILD = STATIC_DIR / "build" / "dashboard"
FRONTEND_URL = "/static/build/dashboard/"


@dataclass(frozen=True)
class BuiltEntry:
    """The hashed files Vite built for one source entry (e.g. `src/main.tsx`)."""

    script: str
    css: tuple[str, ...]


@cache
def _entries(path: Path, mtime: float, url: str) -> dict[str, BuiltEntry]:
    manifest = json.loads(path.read_text())
    return {
        source: BuiltEntry(url + item["file"], tuple(url + c for c in item.get("css", [])))
        for source, item in manifest.items()
    }


def built_entry(
    entry: str, build_dir: Path = FRONTEND_BUILD, url: str = FRONTEND_URL
) -> BuiltEntry | None:
    """The built files of `entry` (re-read when the build changes), or None if not built."""
    path = build_dir / ".vite" / "manifest.json"
    try:
        return _entries(path, path.stat().st_mtime, url).get(entry)
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None


def page_script(entry: str) -> str | None:
    """The URL of a page's built TypeScript module (templates: `page_script(...)`)."""
    found = built_entry(entry)
    return found.script if found else None


async def favicon(request: Request) -> Response:
    """Browsers ask for /favicon.ico whatever a page links; an SVG there is understood."""
    return FileResponse(
        STATIC_DIR / "favicon.svg",
        media_type="image/svg+xml",
        headers={"Cache-Control": "public, max-age=86400"},
    )


routes: list[BaseRoute] = [
    Route("/favicon.ico", favicon, methods=["GET"]),
    Mount("/static", app=StaticFiles(directory=STATIC_DIR, check_dir=False), name="static"),
]
