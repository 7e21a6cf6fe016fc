"""/static: the stylesheet and the built front-end bundles under src/jetrack/static."""

from __future__ import annotations

from pathlib import Path

from starlette.routing import BaseRoute, Mount
from starlette.staticfiles import StaticFiles

STATIC_DIR = Path(__file__).resolve().parent.parent / "static"

routes: list[BaseRoute] = [
    Mount("/static", app=StaticFiles(directory=STATIC_DIR, check_dir=False), name="static")
]
