"""The job runner inside a real `jetrack serve`: due erasures and deleted sites are purged
without anyone running a command, and the retention run is recorded."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlalchemy import select

from jetrack.store.models import ErasureRequest, Job, Site, SiteErasure, User, utcnow
from jetrack.store.stores import Stores, open_control_only, open_stores
from tests.conftest import LiveServer, make_settings, row
from tests.privacy.helpers import count_events, days_ago, insert_events, make_account

pytestmark = pytest.mark.slow


def test_the_server_purges_by_itself(live_server_factory: Callable[..., LiveServer]) -> None:
    ids: dict[str, int] = {}

    def seed(stores: Stores) -> None:
        ada, (ada_site,) = make_account(stores, "ada@example.com", "ada.example")
        _, (gone, kept) = make_account(stores, "bob@example.com", "gone.example", "kept.example")
        for site_id in (ada_site, gone, kept):
            insert_events(stores.events, site_id, [days_ago(1), days_ago(3)])
        with stores.control.session() as session:
            session.delete(session.get(Site, gone))
            session.add(
                ErasureRequest(
                    user_id=ada,
                    requested_at=utcnow() - timedelta(days=8),
                    purge_after=utcnow() - timedelta(days=1),
                )
            )
            row(session, User, ada).locked_at = utcnow()
        ids.update(ada=ada, ada_site=ada_site, gone=gone, kept=kept)

    server = live_server_factory(seed)
    settings = make_settings(server.data_dir)
    control = open_control_only(settings)  # SQLite allows a second process
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            with control.session() as session:
                request = session.scalars(select(ErasureRequest)).one()
                erasure = session.scalars(select(SiteErasure)).all()
                done = request.completed_at is not None and all(e.completed_at for e in erasure)
                retention = session.scalars(select(Job).where(Job.kind == "retention")).all()
            if done and retention and retention[0].state == "done":
                break
            time.sleep(0.5)
        else:
            raise AssertionError("the server did not purge in time:\n" + server.log_text()[-3000:])
        with control.session() as session:
            assert session.get(User, ids["ada"]) is None
            assert {e.site_id for e in session.scalars(select(SiteErasure))} == {
                ids["gone"],
                ids["ada_site"],
            }
    finally:
        control.close()
    server.stop()
    stores = open_stores(settings)
    try:
        assert count_events(stores.events, ids["ada_site"]) == 0
        assert count_events(stores.events, ids["gone"]) == 0
        assert count_events(stores.events, ids["kept"]) == 2
    finally:
        stores.close()
    assert "ada@example.com" not in server.log_text()
