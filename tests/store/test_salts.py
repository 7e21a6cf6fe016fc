"""store/salts.py under several processes (the shared mode): PostgreSQL makes one salt a day."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from jetrack.store.control import migrate_control, open_control_store
from jetrack.store.models import Salt
from jetrack.store.salts import SaltPair, rotate_salts

pytestmark = pytest.mark.postgres


def test_processes_rotating_at_once_make_one_salt(postgres_url: str, tmp_path: Path) -> None:
    # Eight control stores (eight processes' pools) rotate at the same instant of a day
    # that has no salt yet: they all get the same one, and one row is made.
    stores = [
        open_control_store(data_dir=tmp_path, database_url=postgres_url, key=None) for _ in range(8)
    ]
    migrate_control(stores[0])
    midnight = datetime(2027, 3, 1, 0, 0, 1, tzinfo=UTC)
    barrier = threading.Barrier(len(stores))
    pairs: list[SaltPair] = []

    def rotate(index: int) -> None:
        barrier.wait()
        pairs.append(rotate_salts(stores[index], midnight))

    threads = [threading.Thread(target=rotate, args=(i,)) for i in range(len(stores))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    with stores[0].session() as session:
        made = session.scalar(select(func.count()).select_from(Salt))
    for store in stores:
        store.close()
    assert len(pairs) == 8 and len({pair.current for pair in pairs}) == 1
    assert made == 1
