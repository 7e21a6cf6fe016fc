"""jobs/runner.py with real stores: run a job, retry it after a failure with its finished
steps kept, run each step exactly once across a simulated restart, schedule idempotently."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, update

from jetrack.config import Settings
from jetrack.jobs import runner
from jetrack.store import job_queue
from jetrack.store.models import Job, utcnow
from jetrack.store.stores import Stores, open_stores
from tests.jobs import handlers
from tests.jobs.handlers import Killed

KINDS = {
    "flaky": handlers.flaky,
    "dies": handlers.dies,
    "broken": handlers.broken,
    "stops_the_process": handlers.stops_the_process,
}


@pytest.fixture(autouse=True)
def _test_handlers(monkeypatch: pytest.MonkeyPatch) -> None:
    for kind, function in KINDS.items():
        monkeypatch.setitem(runner.HANDLERS, kind, function)


def add(stores: Stores, kind: str, log: Path) -> int:
    with stores.control.session() as session:
        job = job_queue.enqueue(session, kind, {"log": str(log)})
        assert job is not None
        session.flush()
        return job.id


def job_of(stores: Stores, job_id: int) -> Job:
    with stores.control.session() as session:
        job = session.get(Job, job_id)
        assert job is not None
        session.expunge(job)
        return job


def make_due(stores: Stores, job_id: int) -> None:
    """The backoff has passed (instead of waiting minutes for it)."""
    with stores.control.session() as session:
        session.execute(
            update(Job).where(Job.id == job_id).values(run_after=utcnow() - timedelta(seconds=1))
        )


def lines(log: Path) -> list[str]:
    return log.read_text().split()


def test_a_failed_job_is_retried_later_and_resumes_after_its_last_step(
    stores: Stores, tmp_path: Path
) -> None:
    log = tmp_path / "flaky.log"
    job_id = add(stores, "flaky", log)
    assert runner.run_one(stores, in_server=False, kinds=["flaky"]) is True
    job = job_of(stores, job_id)
    assert (job.state, job.attempts) == (job_queue.QUEUED, 1)
    assert job.error == "RuntimeError: first try fails"
    assert job.payload["done"] == ["one"] and job.progress == 50
    assert runner.run_one(stores, in_server=False, kinds=["flaky"]) is False  # backing off

    make_due(stores, job_id)
    assert runner.run_one(stores, in_server=False, kinds=["flaky"]) is True
    job = job_of(stores, job_id)
    assert (job.state, job.attempts, job.progress, job.error) == (job_queue.DONE, 2, 100, "")
    assert job.payload["done"] == ["one", "two"]
    assert lines(log) == ["one", "two"]  # step one was not repeated


def test_a_stopping_process_gives_its_job_back_after_the_step_under_way(
    stores: Stores, tmp_path: Path
) -> None:
    """A server shutting down waits for one step, not for the whole job: the job is queued
    again at once, its stopped run not counted, and resumes after that step."""
    log = tmp_path / "stops.log"
    job_id = add(stores, "stops_the_process", log)
    kinds = ["stops_the_process"]
    assert runner.run_one(stores, in_server=True, kinds=kinds) is False  # stopped: no more
    job = job_of(stores, job_id)
    assert (job.state, job.attempts, job.lease_until) == (job_queue.QUEUED, 0, None)
    assert job.payload["done"] == ["one"] and lines(log) == ["one"]
    assert runner.run_one(stores, in_server=True, kinds=kinds) is True  # the next start
    job = job_of(stores, job_id)
    assert (job.state, job.attempts) == (job_queue.DONE, 1)
    assert lines(log) == ["one", "two"]


def test_each_step_runs_exactly_once_across_a_restart(settings: Settings, tmp_path: Path) -> None:
    log = tmp_path / "dies.log"
    stores = open_stores(settings)
    try:
        job_id = add(stores, "dies", log)
        with pytest.raises(Killed):
            runner.run_one(stores, in_server=False, kinds=["dies"])
        assert job_of(stores, job_id).state == job_queue.RUNNING  # as the dead process left it
    finally:
        stores.close()

    restarted = open_stores(settings)  # the next start on the same data dir
    try:
        # Still leased: nothing runs it until the start requeues what the dead process held.
        assert runner.run_one(restarted, in_server=False, kinds=["dies"]) is False
        assert job_queue.requeue_running(restarted.control) == 1
        assert runner.run_one(restarted, in_server=False, kinds=["dies"]) is True
        job = job_of(restarted, job_id)
    finally:
        restarted.close()
    assert (job.state, job.attempts) == (job_queue.DONE, 2)
    assert lines(log) == ["one", "two"]


def test_a_job_that_always_fails_gives_up_after_max_attempts(
    stores: Stores, tmp_path: Path
) -> None:
    job_id = add(stores, "broken", tmp_path / "broken.log")
    for _ in range(job_queue.MAX_ATTEMPTS):
        make_due(stores, job_id)
        assert runner.run_one(stores, in_server=False, kinds=["broken"]) is True
    job = job_of(stores, job_id)
    assert (job.state, job.attempts) == (job_queue.FAILED, job_queue.MAX_ATTEMPTS)
    assert job.error == "RuntimeError: broken for good"
    make_due(stores, job_id)
    assert runner.run_one(stores, in_server=False, kinds=["broken"]) is False


def test_scheduling_twice_adds_each_periodic_job_once(stores: Stores) -> None:
    now = datetime(2027, 1, 15, 10, tzinfo=UTC)
    runner.schedule(stores, now)
    runner.schedule(stores, now)
    with stores.control.session() as session:
        kinds = sorted(session.scalars(select(Job.kind)))
    assert kinds == sorted((*runner.DAILY_KINDS, *runner.HOURLY_KINDS))
    runner.schedule(stores, now + timedelta(hours=1))  # the next hour: rollups again
    with stores.control.session() as session:
        kinds = sorted(session.scalars(select(Job.kind)))
    assert kinds.count("rollups") == 2 and kinds.count("retention") == 1
