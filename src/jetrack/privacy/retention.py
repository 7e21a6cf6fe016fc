"""Retention: each site keeps analytics data for its retention period; older rows go.

A site's period is its own `retention_days` when set (0 = keep forever), else its team's
plan's (Free: six months), else the instance's JETRACK_RETENTION_DAYS (0 = keep forever;
the self-hosted default). The cut is at midnight in the site's
time zone, so the dashboard can say "data from <date>" and mean whole days. The daily job
drops whole partitions (months) when every site in them is past its cut, and otherwise
deletes the old rows of each site inside the affected partitions only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session, object_session

from jetrack.billing.changes import team_retention_days
from jetrack.config import Settings
from jetrack.privacy.event_tables import (
    MUTATION_SETTINGS,
    present_tables,
    to_epoch,
    wait_for_mutations,
)
from jetrack.store.events import EventStore, Limits, local_table, table_to_change
from jetrack.store.job_queue import JobContext
from jetrack.store.models import Site

PARTITION_ID = re.compile(r"^[0-9A-Za-z_]{1,64}$")
# Partition scans read two columns of one month; give them room beyond the dashboard's cap.
SCAN_LIMITS = Limits(timeout_seconds=600, max_rows=10_000_000)


def retention_days(site: Any, settings: Settings, now: datetime | None = None) -> int | None:
    """The site's retention in days, or None to keep its data forever. A team's downgrade
    keeps the old plan's retention until its notice period ends (billing/changes.py)."""
    if site.retention_days is not None:
        days: int = site.retention_days
        return days if days > 0 else None
    team = getattr(site, "team", None)
    session = object_session(site) if isinstance(site, Site) else None
    return team_retention_days(session, team, settings, now or datetime.now(UTC))


def data_available_from(site: Any, settings: Settings, now: datetime | None = None) -> date | None:
    """The first day (in the site's time zone) whose data retention keeps, or None when the
    site keeps everything. Data may begin later than this: the site may be younger."""
    days = retention_days(site, settings, now)
    if days is None:
        return None
    zone = ZoneInfo(site.timezone or "UTC")
    today = (now or datetime.now(UTC)).astimezone(zone).date()
    return today - timedelta(days=days)


def retention_cutoff(site: Any, settings: Settings, now: datetime | None = None) -> datetime | None:
    """Rows older than this moment (UTC) are deleted: midnight starting data_available_from."""
    first_day = data_available_from(site, settings, now)
    if first_day is None:
        return None
    local_midnight = datetime.combine(first_day, time(0), tzinfo=ZoneInfo(site.timezone or "UTC"))
    return local_midnight.astimezone(UTC)


def site_cutoffs(
    session: Session, settings: Settings, now: datetime | None = None
) -> dict[int, datetime]:
    """Every site with a limited retention and its cut."""
    cutoffs = {}
    for site in session.scalars(select(Site)):
        cutoff = retention_cutoff(site, settings, now)
        if cutoff is not None:
            cutoffs[site.id] = cutoff
    return cutoffs


@dataclass
class RetentionReport:
    dropped_partitions: list[str] = field(default_factory=list)
    trimmed: list[str] = field(default_factory=list)

    def summary(self) -> str:
        return (
            f"{len(self.dropped_partitions)} partition(s) dropped, "
            f"{len(self.trimmed)} site partition(s) trimmed"
        )


def apply_retention(events: EventStore, cutoffs: dict[int, datetime]) -> RetentionReport:
    """Delete every row older than its site's cut, from every event table. Idempotent."""
    report = RetentionReport()
    if not cutoffs:
        return report
    latest = to_epoch(max(cutoffs.values()))
    for table, time_column in present_tables(events).items():
        parts = events.query(
            "SELECT partition_id, min(toUnixTimestamp(min_time)) FROM system.parts"
            " WHERE database = currentDatabase() AND table = {table:String} AND active"
            " GROUP BY partition_id ORDER BY partition_id",
            {"table": local_table(events, table)},
        )
        for partition_id, oldest in parts.rows:
            if int(oldest) >= latest or not PARTITION_ID.match(str(partition_id)):
                continue  # nothing in this partition is old enough for any site
            _apply_to_partition(events, table, time_column, str(partition_id), cutoffs, report)
    return report


def _apply_to_partition(
    events: EventStore,
    table: str,
    time_column: str,
    partition_id: str,
    cutoffs: dict[int, datetime],
    report: RetentionReport,
) -> None:
    spans = events.query(
        f"SELECT site_id, toUnixTimestamp(min({time_column})), toUnixTimestamp(max({time_column}))"
        f" FROM {table} WHERE _partition_id = {{partition:String}} GROUP BY site_id",
        {"partition": partition_id},
        limits=SCAN_LIMITS,
    )
    sites = [(int(site), int(oldest), int(newest)) for site, oldest, newest in spans.rows]
    if sites and all(
        site in cutoffs and newest < to_epoch(cutoffs[site]) for site, _, newest in sites
    ):
        events.command(
            f"ALTER TABLE {table_to_change(events, table)} DROP PARTITION ID '{partition_id}'"
        )
        report.dropped_partitions.append(f"{table}:{partition_id}")
        return
    for site, oldest, _ in sites:
        if site in cutoffs and oldest < to_epoch(cutoffs[site]):
            events.command(
                f"ALTER TABLE {table_to_change(events, table)}"
                f" DELETE IN PARTITION ID '{partition_id}'"
                f" WHERE site_id = {{site:UInt32}} AND {time_column} < {{cut:DateTime('UTC')}}"
                + MUTATION_SETTINGS,
                {"site": site, "cut": cutoffs[site].strftime("%Y-%m-%d %H:%M:%S")},
            )
            wait_for_mutations(events, table)
            report.trimmed.append(f"{table}:{partition_id}:site {site}")


def run_retention(context: JobContext) -> None:
    """The daily retention job; its finished_at is the audit's "last retention run"."""
    stores = context.stores
    with stores.control.session() as session:
        cutoffs = site_cutoffs(session, stores.settings)
    report = apply_retention(stores.events, cutoffs)
    context.payload["report"] = report.summary()
