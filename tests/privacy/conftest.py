"""Privacy fixtures: the shared stores with settings a test may change."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from jetrack.config import Settings
from jetrack.store.stores import Stores, open_stores
from tests.accounts.conftest import Inbox, smtp  # noqa: F401  (a real SMTP server fixture)
from tests.conftest import make_settings


@pytest.fixture
def open_with(tmp_path: Path) -> Iterator[Callable[..., Stores]]:
    """Open stores on a fresh data dir with setting overrides; closed afterwards."""
    opened: list[Stores] = []

    def factory(**overrides: Any) -> Stores:
        stores = open_stores(make_settings(tmp_path / f"data-{len(opened)}", **overrides))
        opened.append(stores)
        return stores

    yield factory
    for stores in opened:
        stores.close()


@pytest.fixture
def mail_settings(tmp_path: Path, smtp: tuple[Inbox, int]) -> Settings:  # noqa: F811
    return make_settings(tmp_path / "data", smtp_host="127.0.0.1", smtp_port=smtp[1])


@pytest.fixture
def inbox(smtp: tuple[Inbox, int]) -> Inbox:  # noqa: F811
    return smtp[0]
