"""Ingest fixtures: an app on real stores with one site, and a way to read stored events."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from sqlalchemy import update
from starlette.testclient import TestClient

from jetrack.accounts.users import create_user
from jetrack.app import create_app
from jetrack.config import Settings
from jetrack.sites.sites import add_site
from jetrack.store.models import Site
from jetrack.store.stores import Stores

CHROME = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36"
)
VISITOR = ("203.0.113.7", 50000)


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
