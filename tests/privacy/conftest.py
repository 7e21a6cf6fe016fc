"""Privacy fixtures: the shared stores with settings a test may change."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from jetrack.store.stores import Stores, open_stores
from tests.conftest import copy_template, make_settings


@pytest.fixture
def open_with(tmp_path: Path, data_dir_template: Path) -> Iterator[Callable[..., Stores]]:
    """Open stores on a fresh data dir with setting overrides; closed afterwards."""
    opened: list[Stores] = []

    def factory(**overrides: Any) -> Stores:
        settings = make_settings(tmp_path / f"data-{len(opened)}", **overrides)
        copy_template(data_dir_template, settings)
        stores = open_stores(settings)
        opened.append(stores)
        return stores

    yield factory
    for stores in opened:
        stores.close()
