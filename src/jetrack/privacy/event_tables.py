"""The one list of event-store tables that hold analytics data, for retention and erasure."""

from __future__ import annotations

import time
from datetime import datetime

from jetrack.store.events import EventStore, local_table, table_to_change
from jetrack.store.imported import IMPORTED_TABLES

# Table -> its time column. Every table here is cleaned by retention and erasure; a table
# listed but not (yet) created is skipped, so a migration may add it later.
EVENT_TABLES: dict[str, str] = {
    "events": "timestamp",
    "events_by_page": "timestamp",  # events again, by page (0012_events_by_page.sql)
    "sessions": "start",  # one row per visit, by its start (0002_sessions.sql)
    "visit_rollups": "day",  # counts per site, day and value (0004_visit_rollups.sql)
    "filter_rollups": "day",  # the same, per value of a visit column (0006_filter_rollups.sql)
    "event_rollups": "day",  # the same, per page or event name (0011_event_rollups.sql)
    # Imported history, daily aggregates per import (0007_imported.sql, store/imported.py).
    **dict.fromkeys(IMPORTED_TABLES, "date"),
}

# The delete runs in the background; `wait_for_mutations` polls until it is done. Waiting
# inside the statement (mutations_sync) would hold the embedded engine, which runs one
# query at a time, for the whole delete: dashboards would stall for seconds.
MUTATION_SETTINGS = " SETTINGS mutations_sync = 0"
MUTATION_POLL_SECONDS = 0.2
MUTATION_TIMEOUT_SECONDS = 3600.0


def wait_for_mutations(events: EventStore, table: str) -> None:
    """Return once no mutation of `table` is pending; raise if one failed."""
    deadline = time.monotonic() + MUTATION_TIMEOUT_SECONDS
    while True:
        pending = events.query(
            "SELECT count(), anyIf(latest_fail_reason, latest_fail_reason != '') "
            "FROM system.mutations WHERE database = currentDatabase() AND table = {t:String} "
            "AND NOT is_done",
            {"t": local_table(events, table)},
        ).rows[0]
        if not pending[0]:
            return
        if pending[1]:
            raise RuntimeError(f"a delete on {table} failed: {pending[1]}")
        if time.monotonic() > deadline:
            raise TimeoutError(f"a delete on {table} did not finish in time")
        time.sleep(MUTATION_POLL_SECONDS)


def present_tables(events: EventStore) -> dict[str, str]:
    """The EVENT_TABLES that exist, each with its time column (checked, so a renamed
    column fails loudly instead of keeping data)."""
    result = events.query(
        "SELECT table, name FROM system.columns WHERE database = currentDatabase()"
    )
    columns: dict[str, set[str]] = {}
    for table, name in result.rows:
        if table in EVENT_TABLES:
            columns.setdefault(str(table), set()).add(str(name))
    found = {}
    for table, time_column in EVENT_TABLES.items():
        if table not in columns:
            continue
        if time_column not in columns[table] or "site_id" not in columns[table]:
            raise RuntimeError(
                f"event table {table} lacks site_id or {time_column}: update EVENT_TABLES"
            )
        found[table] = time_column
    return found


def delete_site_rows(events: EventStore, site_id: int) -> None:
    """Erase every row of one site from every event table (a synchronous mutation: when this
    returns, the rows are gone from the data files, not just hidden)."""
    for table in present_tables(events):
        events.command(
            f"ALTER TABLE {table_to_change(events, table)} DELETE WHERE site_id = {{site:UInt32}}"
            + MUTATION_SETTINGS,
            {"site": site_id},
        )
        wait_for_mutations(events, table)


def site_ids_with_data(events: EventStore) -> set[int]:
    ids: set[int] = set()
    for table in present_tables(events):
        result = events.query(f"SELECT DISTINCT site_id FROM {table}")
        ids.update(int(row[0]) for row in result.rows)
    return ids


def to_epoch(moment: datetime) -> int:
    return int(moment.timestamp())
