"""Erasure: the account is locked at once, purged after the undo window, completely and
once; deleted sites lose their events; the purge survives being killed midway."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import select

from jetrack.accounts.teams import create_team
from jetrack.accounts.users import find_user
from jetrack.ingest.journal import Journal
from jetrack.jobs import runner
from jetrack.privacy.erasure import (
    cancel_account_erasure,
    pending_request,
    request_account_erasure,
    undo_link_path,
)
from jetrack.sites.sites import add_site
from jetrack.store.models import (
    DataExport,
    ErasureRequest,
    Job,
    Membership,
    Site,
    SiteErasure,
    User,
    utcnow,
)
from jetrack.store.stores import Stores, open_stores
from tests.conftest import ROOT, TEST_KEY, kill_when_paused, make_settings, row
from tests.privacy.helpers import (
    count_events,
    days_ago,
    insert_events,
    journal_row,
    make_account,
    user_exists,
)
from tests.web.conftest import Inbox


def _request_erasure(stores: Stores, user_id: int) -> None:
    with stores.control.session() as session:
        user = session.get(User, user_id)
        assert user is not None
    request_account_erasure(stores, user)


def _make_due(stores: Stores) -> None:
    with stores.control.session() as session:
        for request in session.scalars(select(ErasureRequest)):
            request.purge_after = utcnow() - timedelta(seconds=1)


@pytest.mark.slow
def test_account_is_locked_then_purged_completely_after_the_window(
    open_with: Callable[..., Stores], smtp: tuple[Inbox, int]
) -> None:
    inbox, port = smtp
    stores = open_with(smtp_host="127.0.0.1", smtp_port=port)
    ada, (alone,) = make_account(stores, "ada@example.com", "ada.example")
    bob, (bobs,) = make_account(stores, "bob@example.com", "bob.example")
    with stores.control.session() as session:  # ada adds team.example to a team bob co-owns
        owner = session.get(User, ada)
        assert owner is not None
        team = create_team(session, owner, "Shared")
        session.add(Membership(team_id=team.id, user_id=bob, role="owner"))
        shared = add_site(session, owner, "team.example", team=team).id
    for site_id in (alone, shared, bobs):
        insert_events(stores.events, site_id, [days_ago(1), days_ago(40)])

    _request_erasure(stores, ada)
    _request_erasure(stores, ada)  # a repeated request is harmless
    with stores.control.session() as session:
        assert row(session, User, ada).locked_at is not None
        assert len(session.scalars(select(ErasureRequest)).all()) == 1

    runner.run_pending(stores)  # within the window: only the notice goes out
    assert user_exists(stores, ada) and count_events(stores.events, alone) == 2
    notice = inbox.last_to("ada@example.com")
    assert "will be deleted" in str(notice["Subject"])
    assert "/account/erasure/undo?" in Inbox.text(notice)

    _make_due(stores)
    runner.run_pending(stores)
    assert not user_exists(stores, ada)
    assert count_events(stores.events, alone) == 0
    # Sites of a team another owner keeps are handed over, not erased.
    assert count_events(stores.events, shared) == 2 and count_events(stores.events, bobs) == 2
    with stores.control.session() as session:
        assert session.get(Site, alone) is None
        assert row(session, Site, shared).owner_id == bob
        request = session.scalars(select(ErasureRequest)).one()
        assert request.completed_at is not None
        job = session.scalars(select(Job).where(Job.kind == "erase_account")).one()
        assert job.state == "done" and "ada@example.com" not in str(job.payload)
    assert "erased" in str(inbox.last_to("ada@example.com")["Subject"])
    sent = len(inbox.messages)
    runner.run_pending(stores)  # nothing left to do, nothing sent twice
    assert len(inbox.messages) == sent


def test_undo_within_the_window(open_with: Callable[..., Stores]) -> None:
    stores = open_with()
    ada, _ = make_account(stores, "ada@example.com", "ada.example")
    _request_erasure(stores, ada)
    with stores.control.session() as session:
        request = session.scalars(select(ErasureRequest)).one()
        query = parse_qs(urlsplit(undo_link_path(session, request)).query)
        assert pending_request(session, request.id, "0" * 64) is None
        assert pending_request(session, request.id, query["sig"][0]) is not None
        assert cancel_account_erasure(session, ada)
        assert not cancel_account_erasure(session, ada)  # twice is harmless
        assert row(session, User, ada).locked_at is None
    _make_due(stores)
    runner.run_pending(stores)
    assert user_exists(stores, ada)


@pytest.mark.slow
def test_deleted_site_loses_its_events_and_its_id_is_not_reused(
    open_with: Callable[..., Stores],
) -> None:
    stores = open_with()
    _, (gone, kept) = make_account(stores, "ada@example.com", "gone.example", "kept.example")
    insert_events(stores.events, gone, [days_ago(1)])
    insert_events(stores.events, kept, [days_ago(1)])
    with stores.control.session() as session:
        session.delete(session.get(Site, gone))
    with stores.control.session() as session:
        assert session.scalars(select(SiteErasure.site_id)).all() == [gone]
    _, (newer,) = make_account(stores, "bob@example.com", "gone.example")
    assert newer not in (gone, kept)
    runner.run_pending(stores)
    assert count_events(stores.events, gone) == 0 and count_events(stores.events, kept) == 1
    with stores.control.session() as session:
        assert session.scalars(select(SiteErasure)).one().completed_at is not None


def test_orphaned_events_and_expired_exports_are_purged(open_with: Callable[..., Stores]) -> None:
    stores = open_with()
    ada, _ = make_account(stores, "ada@example.com", "ada.example")
    insert_events(stores.events, 999, [days_ago(1)])  # late events of a site already purged
    insert_events(stores.events, 777, [days_ago(1)])  # a site this control store never knew
    with stores.control.session() as session:
        session.add(SiteErasure(site_id=999, completed_at=utcnow() - timedelta(days=1)))
    export_dir = stores.settings.data_dir / "exports" / "abc123"
    export_dir.mkdir(parents=True)
    (export_dir / "export.zip").write_bytes(b"zip")
    with stores.control.session() as session:
        session.add(
            DataExport(
                user_id=ada,
                token_hash="x" * 64,
                directory="abc123",
                state="done",
                expires_at=utcnow() - timedelta(minutes=1),
            )
        )
    runner.run_pending(stores)
    assert count_events(stores.events, 999) == 0
    # Never deleted for being unknown: next to a wrong or empty control store, data stays.
    assert count_events(stores.events, 777) == 1
    assert not export_dir.exists()
    with stores.control.session() as session:
        assert session.scalars(select(DataExport)).all() == []


def _purge_process(data_dir: Path, pause_after: str | None) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("JETRACK_")}
    env.update(
        {
            "JETRACK_DATA_DIR": str(data_dir),
            "JETRACK_ENCRYPTION_KEY": TEST_KEY,
            "JETRACK_LOG_LEVEL": "warning",
        }
    )
    if pause_after:
        env["JT_TEST_PAUSE_AFTER_STEP"] = pause_after
    return subprocess.Popen(
        [sys.executable, "-m", "jetrack.cli", "purge"],
        env=env,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.mark.slow
@pytest.mark.parametrize("killed_after", ["control", "events"])
def test_purge_killed_midway_resumes_and_completes(tmp_path: Path, killed_after: str) -> None:
    settings = make_settings(tmp_path / "data")
    stores = open_stores(settings)
    try:
        ada, (site_id,) = make_account(stores, "ada@example.com", "ada.example")
        insert_events(stores.events, site_id, [days_ago(1), days_ago(2)])
        _request_erasure(stores, ada)
        _make_due(stores)
        # A journal segment a crashed server left behind, holding one of the site's events.
        keys = stores.keys
        journal = Journal(settings.data_dir / "journal", keys.journal if keys else None)
        segment = journal.open_segment()
        segment.append([journal_row(site_id)])
        segment.close()
    finally:
        stores.close()

    kill_when_paused(_purge_process(settings.data_dir, killed_after), killed_after)

    stores = open_stores(settings)
    try:
        with stores.control.session() as session:
            assert find_user(session, "ada@example.com") is None  # the control step is done
            job = session.scalars(select(Job).where(Job.kind == "erase_account")).one()
            assert job.state == "running" and killed_after in job.payload["done"]
        if killed_after == "control":
            assert count_events(stores.events, site_id) > 0  # events not yet erased
    finally:
        stores.close()

    again = _purge_process(settings.data_dir, None)
    _, err = again.communicate(timeout=180)
    assert again.returncode == 0, err

    stores = open_stores(settings)
    try:
        assert count_events(stores.events, site_id) == 0
        assert list((settings.data_dir / "journal").glob("*.journal")) == []
        with stores.control.session() as session:
            job = session.scalars(select(Job).where(Job.kind == "erase_account")).one()
            assert job.state == "done" and job.attempts == 2
            assert session.scalars(select(ErasureRequest)).one().completed_at is not None
    finally:
        stores.close()
