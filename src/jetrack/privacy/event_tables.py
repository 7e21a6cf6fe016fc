"""The one list of event-store tables that hold analytics data, for retention and erasure."""

from __future__ import annotations

from datetime import datetime

from jetrack.store.events import EventStore

# Table -> its time column. Every table here is cleaned by retention and erasure; a table
# listed but not (yet) created is skipped, so a migration may add it later.
EVENT_TABLES: dict[str, str] = {
    "events": "timestamp",
    "sessions": "start",  # one row per visit, by its start (0002_sessions.sql)
}

# Waits until the delete is done on every replica (one on the embedded engine).
MUTATION_SETTINGS = " SETTINGS mutations_sync = 2"


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
            f"ALTER TABLE {table} DELETE WHERE site_id = {{site:UInt32}}" + MUTATION_SETTINGS,
            {"site": site_id},
        )


def site_ids_with_data(events: EventStore) -> set[int]:
    ids: set[int] = set()
    for table in present_tables(events):
        result = events.query(f"SELECT DISTINCT site_id FROM {table}")
        ids.update(int(row[0]) for row in result.rows)
    return ids


def to_epoch(moment: datetime) -> int:
    return int(moment.timestamp())
