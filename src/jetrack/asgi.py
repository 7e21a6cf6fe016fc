"""ASGI entry point for servers that import an app by name (`jetrack.asgi:app`)."""

from __future__ import annotations

from jetrack.app import serving_app
from jetrack.config import load_settings
from jetrack.logs import configure_logging

settings = load_settings()
configure_logging(settings.log_level)
app = serving_app(settings)
