"""The hourly rollups job: the event store's day rollups (jetrack.store.rollups) kept current."""

from __future__ import annotations

from datetime import UTC, datetime

from jetrack.store.job_queue import JobContext
from jetrack.store.rollups import build_rollups, days_due


def run_rollups(context: JobContext) -> None:
    """Roll up the days that are over and not rolled up yet, and again the recent ones
    whose visits changed since; the job's payload lists the days."""
    events = context.stores.events
    days = days_due(events, datetime.now(UTC))
    for day in days:
        context.stop_point()  # a stopping server waits for one day's build at most
        build_rollups(events, day)
    context.payload["days"] = [day.isoformat() for day in days]
