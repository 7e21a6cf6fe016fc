"""The jobs table as a queue: enqueue, claim with a lease, checkpoint, finish, retry; and
what a job's handler gets (`JobContext`).

A job's `payload` is its checkpoint: handlers record each finished step in it, so a job
whose process died (its lease runs out) is claimed again and resumes after the last step.
The queue is the control store's: the domain packages enqueue their jobs here and take a
`JobContext`, and `jetrack.jobs` (above them) schedules and runs the handlers.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from jetrack.store.control import ControlStore
from jetrack.store.models import Job, as_utc, utcnow
from jetrack.store.stores import Stores

QUEUED, RUNNING, DONE, FAILED = "queued", "running", "done", "failed"
MAX_ATTEMPTS = 5
LEASE = timedelta(minutes=10)
# Tests only: the name of a step after which the process stops for a long time, so a test
# can kill it there with SIGKILL. Not a JETRACK_ setting on purpose: it is no feature.
PAUSE_AFTER_STEP_ENV = "JT_TEST_PAUSE_AFTER_STEP"


def enqueue(
    session: Session,
    kind: str,
    payload: dict[str, Any] | None = None,
    *,
    dedup_key: str | None = None,
    run_after: datetime | None = None,
) -> Job | None:
    """Add a job; with a dedup_key already used, add nothing and return None."""
    if dedup_key is not None and session.scalar(select(Job.id).where(Job.dedup_key == dedup_key)):
        return None
    job = Job(
        kind=kind, payload=dict(payload or {}), dedup_key=dedup_key, run_after=run_after or utcnow()
    )
    try:
        with session.begin_nested():
            session.add(job)
    except IntegrityError:  # another runner scheduled the same key first
        return None
    return job


def claim_next(
    control: ControlStore, now: datetime | None = None, kinds: Sequence[str] | None = None
) -> Job | None:
    """Take the next due job (or one whose runner died) and lease it to this process."""
    now = now or utcnow()
    with control.session() as session:
        statement = (
            select(Job)
            .where(
                or_(
                    (Job.state == QUEUED) & (Job.run_after <= now),
                    (Job.state == RUNNING) & (Job.lease_until < now),
                )
            )
            .order_by(Job.run_after, Job.id)
            .limit(1)
        )
        if kinds is not None:
            statement = statement.where(Job.kind.in_(kinds))
        if session.bind is not None and session.bind.dialect.name == "postgresql":
            statement = statement.with_for_update(skip_locked=True)
        job = session.scalar(statement)
        if job is None:
            return None
        job.state = RUNNING
        job.attempts += 1
        job.started_at = job.started_at or now
        job.lease_until = now + LEASE
        session.flush()
        return job


def checkpoint(
    control: ControlStore, job_id: int, payload: dict[str, Any], progress: int | None = None
) -> None:
    """Record the job's progress and renew its lease."""
    with control.session() as session:
        job = session.get(Job, job_id)
        if job is None:
            return
        job.payload = dict(payload)
        if progress is not None:
            job.progress = max(0, min(100, progress))
        job.lease_until = utcnow() + LEASE


def finish(control: ControlStore, job_id: int, payload: dict[str, Any]) -> None:
    with control.session() as session:
        job = session.get(Job, job_id)
        if job is not None:
            job.state, job.progress, job.payload = DONE, 100, dict(payload)
            job.finished_at, job.lease_until, job.error = utcnow(), None, ""


def fail(control: ControlStore, job_id: int, error: str) -> None:
    """Retry later with backoff, or give up after MAX_ATTEMPTS."""
    with control.session() as session:
        job = session.get(Job, job_id)
        if job is None:
            return
        job.error = error[:500]
        job.lease_until = None
        if job.attempts >= MAX_ATTEMPTS:
            job.state, job.finished_at = FAILED, utcnow()
        else:
            job.state = QUEUED
            job.run_after = utcnow() + timedelta(minutes=2**job.attempts)


def release(control: ControlStore, job_id: int, payload: dict[str, Any]) -> None:
    """Give back a job stopped between two steps (the process is stopping): claimable again
    now, from its checkpoint, and the stopped run is not counted as an attempt."""
    with control.session() as session:
        job = session.get(Job, job_id)
        if job is not None and job.state == RUNNING:
            job.state, job.lease_until, job.run_after = QUEUED, None, utcnow()
            job.attempts, job.payload = max(0, job.attempts - 1), dict(payload)


def retry(session: Session, job_id: int) -> bool:
    """Run a failed (or waiting) job again now (operator console)."""
    job = session.get(Job, job_id)
    if job is None or job.state in (RUNNING, DONE):
        return False
    job.state, job.attempts, job.run_after, job.finished_at = QUEUED, 0, utcnow(), None
    return True


def requeue_running(control: ControlStore) -> int:
    """At start with an embedded store (one process per data dir), any running job belongs
    to a process that died: make it claimable now."""
    with control.session() as session:
        jobs = list(session.scalars(select(Job).where(Job.state == RUNNING)))
        for job in jobs:
            job.state, job.lease_until = QUEUED, None
        return len(jobs)


def last_finished(session: Session, kind: str) -> datetime | None:
    moment = session.scalar(
        select(Job.finished_at)
        .where(Job.kind == kind, Job.state == DONE)
        .order_by(Job.finished_at.desc())
        .limit(1)
    )
    return as_utc(moment) if moment is not None else None


def recent_jobs(session: Session, limit: int = 100) -> list[Job]:
    return list(session.scalars(select(Job).order_by(Job.id.desc()).limit(limit)))


class Stopping(Exception):
    """Raised between two steps of a job when its process is stopping."""


@dataclass
class JobContext:
    """What a job handler gets: the stores, its checkpoint, named steps that run once, and
    whether the process is stopping (a handler checks between its steps)."""

    stores: Stores
    job_id: int
    payload: dict[str, Any]
    # In the server the write buffer owns the journal; from the CLI nobody does.
    in_server: bool = False
    stopping: threading.Event = field(default_factory=threading.Event)

    def stop_point(self) -> None:
        """Raise Stopping when the process is stopping; call it between two pieces of work
        that are each complete (what is done stays done, the rest runs at the next start)."""
        if self.stopping.is_set():
            raise Stopping

    def save(self, progress: int | None = None) -> None:
        checkpoint(self.stores.control, self.job_id, self.payload, progress)

    def run_steps(self, steps: Sequence[tuple[str, Callable[[], None]]]) -> None:
        """Run each step not yet recorded as done, recording it right after it finished.
        Every step must be idempotent: a kill between its work and its record repeats it."""
        done: list[str] = self.payload.setdefault("done", [])
        for index, (name, work) in enumerate(steps, start=1):
            if name in done:
                continue
            self.stop_point()
            work()
            done.append(name)
            self.save(progress=int(index * 100 / len(steps)))
            _maybe_pause(name)


def pause_point(step: str) -> None:
    """Tests only: stop for a long time here when PAUSE_AFTER_STEP_ENV names `step`."""
    _maybe_pause(step)


def _maybe_pause(step: str) -> None:
    if os.environ.get(PAUSE_AFTER_STEP_ENV) == step:
        print(f"job paused after step {step}", file=sys.stderr, flush=True)
        time.sleep(3600)
