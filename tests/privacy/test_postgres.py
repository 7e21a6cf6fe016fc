"""The erasure, export and job models on PostgreSQL (the scale-out control store)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlalchemy import select

from jetrack.jobs import runner
from jetrack.privacy.erasure import request_account_erasure
from jetrack.privacy.export import request_export
from jetrack.store import job_queue
from jetrack.store.models import DataExport, ErasureRequest, Job, Site, SiteErasure, User, utcnow
from jetrack.store.stores import Stores
from tests.conftest import row
from tests.privacy.helpers import count_events, days_ago, insert_events, make_account

pytestmark = pytest.mark.postgres


def test_erasure_export_and_site_purge_on_postgres(
    open_with: Callable[..., Stores], postgres_url: str
) -> None:
    stores = open_with(database_url=postgres_url)
    ada, (ada_site,) = make_account(stores, "ada@example.com", "ada.example")
    bob, (gone, kept) = make_account(stores, "bob@example.com", "gone.example", "kept.example")
    for site_id in (ada_site, gone, kept):
        insert_events(stores.events, site_id, [days_ago(1)])

    with stores.control.session() as session:
        bob_user = session.get(User, bob)
        assert bob_user is not None
        export, token = request_export(session, bob_user)
        assert token is not None
        again, no_token = request_export(session, bob_user)
        assert again.id == export.id and no_token is None
        session.delete(session.get(Site, gone))
    with stores.control.session() as session:
        user = session.get(User, ada)
    assert user is not None
    request_account_erasure(stores, user)
    request_account_erasure(stores, user)
    with stores.control.session() as session:
        for request in session.scalars(select(ErasureRequest)):
            request.purge_after = utcnow() - timedelta(seconds=1)
        assert job_queue.enqueue(session, "retention", dedup_key="k") is not None
        assert job_queue.enqueue(session, "retention", dedup_key="k") is None

    runner.run_pending(stores)
    assert count_events(stores.events, ada_site) == 0
    assert count_events(stores.events, gone) == 0
    assert count_events(stores.events, kept) == 1
    with stores.control.session() as session:
        assert session.get(User, ada) is None
        assert session.scalars(select(ErasureRequest)).one().completed_at is not None
        assert all(e.completed_at for e in session.scalars(select(SiteErasure)))
        assert row(session, DataExport, export.id).state == "done"
        states = {job.kind: job.state for job in session.scalars(select(Job))}
        assert set(states.values()) == {"done"}, states
