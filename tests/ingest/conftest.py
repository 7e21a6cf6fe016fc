"""Ingest fixtures: an app on real stores with one site, and a way to read stored events."""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from sqlalchemy import update
from starlette.testclient import TestClient

from jetrack.accounts.users import create_user
from jetrack.app import create_app
from jetrack.config import Settings
from jetrack.sites.sites import add_site
from jetrack.store.models import Site
from jetrack.store.stores import Stores
from tests.conftest import EVENT_BACKENDS, backend_settings

CHROME = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36"
)
VISITOR = ("203.0.113.7", 50000)


@pytest.fixture(params=EVENT_BACKENDS)
def settings(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Settings]:
    """Every ingest test that stores events runs on both event store backends."""
    with backend_settings(request, request.param, tmp_path / "data") as chosen:
        yield chosen


@pytest.fixture
def site_stores(stores: Stores) -> Stores:
    with stores.control.session() as session:
        owner = create_user(session, "owner@example.com")
        add_site(session, owner, "example.com")
        add_site(session, owner, "other.org")
    return stores


def configure_site(stores: Stores, domain: str, **values: Any) -> None:
    with stores.control.session() as session:
        session.execute(update(Site).where(Site.domain == domain).values(**values))


@pytest.fixture
def ingest_client(settings: Settings, site_stores: Stores) -> Iterator[Callable[..., TestClient]]:
    """Opens a client (lifespan running); leaving the `with` flushes the write buffer."""

    def open_client(client: tuple[str, int] = VISITOR) -> TestClient:
        return TestClient(
            create_app(settings, site_stores), client=client, headers={"User-Agent": CHROME}
        )

    yield open_client


def stored(
    stores: Stores, where: str = "1", params: dict[str, Any] | None = None
) -> list[dict[str, Any]]:
    result = stores.events.query(
        f"SELECT * FROM events WHERE {where} ORDER BY timestamp", params or {}
    )
    return [dict(zip(result.columns, row, strict=True)) for row in result.rows]


_ODD_VALUES: list[object] = [
    None,
    0,
    -1,
    1e308,
    "",
    "x" * 3000,
    [],
    {},
    {"a": None},
    True,
    "https://example.com/",
    "example.com",
    "\u0000\ud7ff",
    "https://example.com/%ZZ%",
    "http://[::1",
    "https://例え.jp/",
]
_FIELDS = ["n", "u", "d", "r", "p", "$", "i", "h", "sd", "e", "w"]
_FIELDS += ["name", "url", "domain", "props", "revenue"]


def odd_requests(rng: random.Random, count: int) -> Iterator[tuple[str, bytes, dict[str, str]]]:
    """(path, body, headers) of event requests with odd values in every field, or bytes
    that are not JSON at all: none of them may cause a 500."""
    for _ in range(count):
        fields = rng.sample(_FIELDS, rng.randint(0, len(_FIELDS)))
        body = {key: rng.choice(_ODD_VALUES) for key in fields}
        body.setdefault("d", "example.com")
        raw = (
            orjson.dumps(body)
            if rng.random() < 0.9
            else bytes(rng.randrange(256) for _ in range(rng.randint(0, 64)))
        )
        headers = {
            "Content-Type": rng.choice(["text/plain", "application/json", "x/y"]),
            "Accept-Language": rng.choice(["", "*", "q=;;", "en-US,en;q=0.5"]),
            "X-Forwarded-For": rng.choice(["", "::", "999.1.1.1"]),
        }
        yield rng.choice(["/api/event", "/api/events"]), raw, headers


def clear_of_a_minutes_end() -> None:
    """Waits out the last 10 s of a clock minute: a test of the per-minute budgets must
    not see a new minute (a fresh budget) between its requests."""
    into = time.time() % 60
    if into > 50:
        time.sleep(60.5 - into)
