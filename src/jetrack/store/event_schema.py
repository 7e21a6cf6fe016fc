"""Versioned migrations of the event tables (ClickHouse SQL files, applied in order)."""

from __future__ import annotations

import logging
from importlib import resources

from jetrack.store.events import EventStore

log = logging.getLogger("jetrack.events")

MIGRATIONS_PACKAGE = "jetrack.store.event_migrations"


def available_migrations() -> list[tuple[int, str, str]]:
    """(version, name, sql) for every migration file, oldest first."""
    found = []
    for entry in resources.files(MIGRATIONS_PACKAGE).iterdir():
        if entry.name.endswith(".sql"):
            version = int(entry.name.split("_", 1)[0])
            found.append((version, entry.name, entry.read_text()))
    return sorted(found)


def applied_versions(store: EventStore) -> set[int]:
    store.command(
        "CREATE TABLE IF NOT EXISTS jetrack_migrations (version UInt32, name String, "
        "applied_at DateTime DEFAULT now()) ENGINE = MergeTree ORDER BY version"
        + (" SETTINGS " + store.storage_settings.lstrip(", ") if store.storage_settings else "")
    )
    result = store.query("SELECT version FROM jetrack_migrations")
    return {int(row[0]) for row in result.rows}


def migrate_events(store: EventStore) -> list[str]:
    """Apply pending migrations; returns the names applied."""
    done = applied_versions(store)
    applied = []
    for version, name, sql in available_migrations():
        if version in done:
            continue
        for statement in _statements(sql.replace("{storage_settings}", store.storage_settings)):
            store.command(statement)
        store.command(
            "INSERT INTO jetrack_migrations (version, name) VALUES ({v:UInt32}, {n:String})",
            {"v": version, "n": name},
        )
        log.info("event store: applied migration %s", name)
        applied.append(name)
    return applied


def _statements(sql: str) -> list[str]:
    lines = [line for line in sql.splitlines() if not line.strip().startswith("--")]
    return [part.strip() for part in "\n".join(lines).split(";") if part.strip()]
