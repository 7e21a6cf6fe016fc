"""/static: the stylesheet, page scripts and built front-end bundles under src/jetrack/static;
/favicon.ico."""

from __future__ import annotations

from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

STATIC_DIR = Path(__file__).resolve().parent.parent / "static"


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
