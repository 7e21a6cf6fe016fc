"""Reading submitted form fields safely: strings only, trimmed, length-capped."""

from __future__ import annotations

from starlette.datastructures import FormData
from starlette.requests import Request


def text(form: FormData, name: str, limit: int = 2000) -> str:
    value = form.get(name)
    return value.strip()[:limit] if isinstance(value, str) else ""


def secret(form: FormData, name: str) -> str:
    """A password field: not trimmed (spaces are part of it), capped generously."""
    value = form.get(name)
    return value[:4096] if isinstance(value, str) else ""


def checked(form: FormData, name: str) -> bool:
    return text(form, name) in ("1", "on", "true", "yes")


def number(value: str | None) -> int | None:
    if value is None or not value.isdigit() or len(value) > 12:
        return None
    return int(value)


def local_path(target: str | None, default: str = "/sites") -> str:
    """A redirect target inside this site only (no open redirect)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return default
    return target[:2000]


def client_address(request: Request) -> str | None:
    """The client address for throttling only (never stored or logged); honours
    JETRACK_TRUSTED_PROXIES like ingestion does."""
    from jetrack.ingest.client_ip import client_address as resolve
    from jetrack.ingest.client_ip import parse_networks

    settings = request.app.state.settings
    peer = request.client.host if request.client else None
    return resolve(peer, request.headers, parse_networks(tuple(settings.trusted_proxies)))
