"""The job runner: schedules the daily jobs, runs due jobs one at a time, off the event loop.

Started as a service in the server (jetrack.app.SERVICES); `jetrack purge` and
`jetrack retention` run the same jobs from the command line.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections.abc import AsyncIterator, Callable, Sequence
from datetime import datetime

from sqlalchemy import select
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool

from jetrack.billing.upkeep import ERASE_KIND, run_billing_upkeep, run_customer_erasure
from jetrack.jobs.alerts import run_alerts, schedule_alerts, send_alert_mail
from jetrack.jobs.imports import run_import
from jetrack.jobs.quota import run_quota, send_plan_mail
from jetrack.jobs.reports import run_reports, schedule_reports, send_report_mail
from jetrack.jobs.rollups import run_rollups
from jetrack.jobs.webhooks import deliver_webhook
from jetrack.metrics import Metrics
from jetrack.privacy.export import run_export
from jetrack.privacy.purge import run_account_erasure, run_purge, send_erasure_notice
from jetrack.privacy.retention import run_retention
from jetrack.store import job_queue
from jetrack.store.job_queue import JobContext, Stopping
from jetrack.store.models import ErasureRequest, SiteErasure, as_utc, utcnow
from jetrack.store.stores import Stores

log = logging.getLogger("jetrack.jobs")

POLL_SECONDS = 3.0
STOP_WAIT_SECONDS = 20.0

Handler = Callable[[JobContext], None]
# What runs a job of each kind (the `kind` column of the jobs table).
HANDLERS: dict[str, Handler] = {
    "retention": run_retention,
    "purge": run_purge,
    "erase_account": run_account_erasure,
    "erasure_notice": send_erasure_notice,
    "export": run_export,
    "rollups": run_rollups,
    "reports": run_reports,
    "report_mail": send_report_mail,
    "alerts": run_alerts,
    "alert_mail": send_alert_mail,
    "webhook": deliver_webhook,
    "import": run_import,
    "billing_upkeep": run_billing_upkeep,
    ERASE_KIND: run_customer_erasure,
    "quota": run_quota,
    "plan_mail": send_plan_mail,
}
DAILY_KINDS = ("retention", "purge")
HOURLY_KINDS = ("rollups", "quota")
PURGE_KINDS = ("erasure_notice", "erase_account", "purge")


def schedule(stores: Stores, now: datetime | None = None) -> None:
    """Enqueue what is due; dedup keys make this safe to call often and from many places."""
    now = now or utcnow()
    with stores.control.session() as session:
        for kind in DAILY_KINDS:
            job_queue.enqueue(session, kind, dedup_key=f"{kind}:{now.date().isoformat()}")
        for kind in HOURLY_KINDS:
            job_queue.enqueue(session, kind, dedup_key=f"{kind}:{now:%Y-%m-%dT%H}")
        if stores.settings.billing:
            day = now.date().isoformat()
            job_queue.enqueue(session, "billing_upkeep", dedup_key=f"billing_upkeep:{day}")
        schedule_reports(session, stores.settings, now)
        schedule_alerts(session, stores.settings, now)
        for request in session.scalars(
            select(ErasureRequest).where(ErasureRequest.completed_at.is_(None))
        ):
            job_queue.enqueue(
                session,
                "erasure_notice",
                {"request_id": request.id},
                dedup_key=f"erasure_notice:{request.id}",
            )
            if as_utc(request.purge_after) <= now:
                job_queue.enqueue(
                    session,
                    "erase_account",
                    {"request_id": request.id},
                    dedup_key=f"erase_account:{request.id}",
                )
        newest = session.scalar(
            select(SiteErasure.id)
            .where(SiteErasure.completed_at.is_(None))
            .order_by(SiteErasure.id.desc())
            .limit(1)
        )
        if newest is not None:
            job_queue.enqueue(session, "purge", dedup_key=f"purge:site-erasure:{newest}")


def run_one(
    stores: Stores,
    *,
    in_server: bool,
    kinds: Sequence[str] | None = None,
    stopping: threading.Event | None = None,
    metrics: Metrics | None = None,
) -> bool:
    """Claim and run one due job; False when none is due, or when `stopping` was set
    while it ran (it is given back at a step's end, to resume from its checkpoint)."""
    job = job_queue.claim_next(stores.control, kinds=kinds)
    if job is None:
        return False
    context = JobContext(stores, job.id, dict(job.payload), in_server=in_server)
    if stopping is not None:
        context.stopping = stopping
    started = time.perf_counter()

    def counted(outcome: str) -> None:
        if metrics is not None:
            metrics.observe_job(job.kind, outcome, time.perf_counter() - started)

    try:
        HANDLERS[job.kind](context)
    except Stopping:
        counted("stopped")
        job_queue.release(stores.control, job.id, context.payload)
        log.info(
            "job %d (%s) stopped between steps; it resumes at the next start", job.id, job.kind
        )
        return False
    except Exception as exc:
        log.error("job %d (%s) failed: %s: %s", job.id, job.kind, type(exc).__name__, exc)
        counted("failed")
        job_queue.fail(stores.control, job.id, f"{type(exc).__name__}: {exc}")
        return True
    counted("done")
    job_queue.finish(stores.control, job.id, context.payload)
    log.info("job %d (%s) done", job.id, job.kind)
    return True


def run_pending(
    stores: Stores,
    *,
    in_server: bool = False,
    kinds: Sequence[str] | None = None,
    limit: int = 1000,
    now: datetime | None = None,
) -> int:
    """Schedule, then run every due job of `kinds` (default all; jobs may enqueue more).
    The schedule reads `now` when given (a test's fixed Monday), else the clock."""
    schedule(stores, now)
    ran = 0
    while ran < limit and run_one(stores, in_server=in_server, kinds=kinds):
        ran += 1
        schedule(stores, now)
    return ran


def run_now(stores: Stores, kind: str, kinds: Sequence[str] | None = None) -> int:
    """Enqueue one `kind` job regardless of today's run, then run what is due (the CLI)."""
    if stores.settings.database_url is None:
        job_queue.requeue_running(stores.control)  # we hold the data dir: nothing else runs
    with stores.control.session() as session:
        job_queue.enqueue(session, kind)
    return run_pending(stores, kinds=kinds or (kind,))


def tick(stores: Stores, stopping: threading.Event, metrics: Metrics | None = None) -> None:
    schedule(stores)
    while not stopping.is_set() and run_one(
        stores, in_server=True, stopping=stopping, metrics=metrics
    ):
        pass


@contextlib.asynccontextmanager
async def lifespan(app: Starlette) -> AsyncIterator[None]:
    stores: Stores = app.state.stores
    if stores.settings.database_url is None:
        await run_in_threadpool(job_queue.requeue_running, stores.control)
    stopping = threading.Event()

    async def loop() -> None:
        while not stopping.is_set():
            try:
                await run_in_threadpool(tick, stores, stopping, app.state.metrics)
            except Exception as exc:  # keep the runner alive; the next round retries
                log.error("job runner: %s", type(exc).__name__)
            for _ in range(int(POLL_SECONDS * 10)):
                if stopping.is_set():
                    break
                await asyncio.sleep(0.1)

    task = asyncio.create_task(loop())
    try:
        yield
    finally:
        # Let a running job reach its next step before the stores close; a job still busy
        # after the wait resumes from its checkpoint at the next start.
        stopping.set()
        try:
            await asyncio.wait_for(asyncio.shield(task), timeout=STOP_WAIT_SECONDS)
        except TimeoutError:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
