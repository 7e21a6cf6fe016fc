"""store/job_queue.py on the control store (SQLite and PostgreSQL): enqueue, claim with a lease,
fail with backoff, give up, retry, requeue after a restart."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from jetrack.store import job_queue
from jetrack.store.control import ControlStore, migrate_control, open_control_store
from jetrack.store.models import Job, as_utc, utcnow

LATER = timedelta(days=1)  # far enough that any backoff has passed


def add(
    control: ControlStore,
    kind: str = "test",
    *,
    dedup_key: str | None = None,
    run_after: datetime | None = None,
) -> int | None:
    with control.session() as session:
        job = job_queue.enqueue(session, kind, {"n": 1}, dedup_key=dedup_key, run_after=run_after)
        if job is None:
            return None
        session.flush()
        return job.id


def job_of(control: ControlStore, job_id: int) -> Job:
    with control.session() as session:
        job = session.get(Job, job_id)
        assert job is not None
        session.expunge(job)
        return job


def claimed(control: ControlStore, now: datetime, kinds: list[str] | None = None) -> int | None:
    job = job_queue.claim_next(control, now=now, kinds=kinds)
    return None if job is None else job.id


def test_a_dedup_key_is_used_once_and_jobs_without_one_always_add(
    control: ControlStore,
) -> None:
    assert add(control, dedup_key="daily:2027-01-15") is not None
    assert add(control, dedup_key="daily:2027-01-15") is None
    assert add(control) is not None and add(control) is not None
    with control.session() as session:
        assert len(job_queue.recent_jobs(session)) == 3


def test_due_jobs_are_claimed_in_order_once_and_future_ones_wait(
    control: ControlStore,
) -> None:
    now = utcnow()
    later = add(control, run_after=now + timedelta(minutes=5))
    first = add(control, run_after=now - timedelta(minutes=5))
    second = add(control, "other", run_after=now - timedelta(minutes=1))
    assert claimed(control, now, kinds=["other"]) == second
    assert claimed(control, now) == first
    assert claimed(control, now) is None  # `later` is not due; the others are leased
    # Six minutes on, the leases (ten minutes) still hold: only `later` is due.
    assert claimed(control, now + timedelta(minutes=6)) == later
    job = job_of(control, first or 0)
    assert (job.state, job.attempts) == (job_queue.RUNNING, 1)
    assert job.lease_until is not None and as_utc(job.lease_until) == now + job_queue.LEASE


def test_a_job_whose_lease_ran_out_is_claimed_again(control: ControlStore) -> None:
    job_id = add(control)
    now = utcnow()
    assert claimed(control, now) == job_id
    assert claimed(control, now + job_queue.LEASE - timedelta(seconds=1)) is None  # still leased
    assert claimed(control, now + job_queue.LEASE + timedelta(seconds=1)) == job_id
    assert job_of(control, job_id or 0).attempts == 2


def test_failures_back_off_doubling_then_the_job_gives_up(control: ControlStore) -> None:
    job_id = add(control)
    assert job_id is not None
    waits = []
    for attempt in range(1, job_queue.MAX_ATTEMPTS + 1):
        assert claimed(control, utcnow() + attempt * LATER) == job_id
        before = utcnow()
        job_queue.fail(control, job_id, "RuntimeError: " + "x" * 600)
        after = utcnow()
        job = job_of(control, job_id)
        assert job.attempts == attempt and len(job.error) == 500 and job.lease_until is None
        if attempt < job_queue.MAX_ATTEMPTS:
            assert job.state == job_queue.QUEUED
            run_after = as_utc(job.run_after)
            wait = timedelta(minutes=2**attempt)
            assert before + wait <= run_after <= after + wait
            waits.append(wait)
            assert claimed(control, before) is None  # not due before its backoff
    assert waits == [timedelta(minutes=m) for m in (2, 4, 8, 16)]
    job = job_of(control, job_id)
    assert job.state == job_queue.FAILED and job.finished_at is not None
    assert claimed(control, utcnow() + 10 * LATER) is None  # failed for good: never again


def test_retry_runs_a_failed_job_again_but_not_a_running_or_done_one(
    control: ControlStore,
) -> None:
    failed, done = add(control), add(control, "other")
    assert failed is not None and done is not None
    for _ in range(job_queue.MAX_ATTEMPTS):
        claimed(control, utcnow() + LATER, kinds=["test"])
        job_queue.fail(control, failed, "broken")
    assert claimed(control, utcnow(), kinds=["other"]) == done
    with control.session() as session:
        assert job_queue.retry(session, done) is False  # running
    job_queue.finish(control, done, {"n": 2})
    with control.session() as session:
        assert job_queue.retry(session, done) is False  # done
        assert job_queue.retry(session, failed) is True
        assert job_queue.retry(session, 9999) is False
    job = job_of(control, failed)
    assert (job.state, job.attempts, job.finished_at) == (job_queue.QUEUED, 0, None)
    assert claimed(control, utcnow()) == failed
    finished = job_of(control, done)
    assert (finished.state, finished.progress, finished.payload) == (job_queue.DONE, 100, {"n": 2})
    with control.session() as session:
        assert job_queue.last_finished(session, "other") is not None
        assert job_queue.last_finished(session, "test") is None


def test_checkpoints_keep_progress_in_bounds_and_renew_the_lease(
    control: ControlStore,
) -> None:
    job_id = add(control)
    assert job_id is not None
    claimed(control, utcnow() - timedelta(minutes=9))  # leased nine minutes ago
    job_queue.checkpoint(control, job_id, {"n": 1, "done": ["one"]}, progress=250)
    job = job_of(control, job_id)
    assert job.payload == {"n": 1, "done": ["one"]} and job.progress == 100
    assert job.lease_until is not None and as_utc(job.lease_until) > utcnow() + timedelta(minutes=9)
    job_queue.checkpoint(control, job_id, job.payload, progress=-5)
    assert job_of(control, job_id).progress == 0


@pytest.mark.parametrize("running", [1, 2])
def test_at_start_running_jobs_are_requeued_with_their_checkpoint(
    control: ControlStore, running: int
) -> None:
    ids = [add(control) for _ in range(running + 1)]
    for _ in range(running):
        claimed(control, utcnow())
    assert job_queue.requeue_running(control) == running
    for job_id in ids:
        job = job_of(control, job_id or 0)
        assert job.state == job_queue.QUEUED and job.lease_until is None
    assert claimed(control, utcnow()) == ids[0]  # claimable at once, without its lease


@pytest.mark.postgres
def test_processes_claiming_at_once_run_each_job_once(postgres_url: str, tmp_path: Path) -> None:
    # Four processes' control stores claim from one queue at the same time
    # (FOR UPDATE SKIP LOCKED): each of 40 jobs goes to exactly one of them, and the
    # schedule they all run at once adds each dedup-keyed job once.
    stores = [
        open_control_store(data_dir=tmp_path, database_url=postgres_url, key=None) for _ in range(4)
    ]
    migrate_control(stores[0])
    job_ids = [add(stores[0]) for _ in range(40)]
    barrier = threading.Barrier(len(stores))
    claims: list[int] = []
    added: list[int | None] = []

    def work(control: ControlStore) -> None:
        barrier.wait()
        added.append(add(control, "rollups", dedup_key="rollups:2027-03-01T00"))
        while (job := job_queue.claim_next(control)) is not None:
            claims.append(job.id)

    threads = [threading.Thread(target=work, args=(store,)) for store in stores]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(1 for job_id in added if job_id is not None) == 1
    expected = [job_id for job_id in [*job_ids, *added] if job_id is not None]
    assert sorted(claims) == sorted(expected)
    for store in stores:
        store.close()
