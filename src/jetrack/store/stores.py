"""Open both stores for one process: data dir lock, keys, control store, event store."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import TYPE_CHECKING

from jetrack.config import ConfigError, Settings
from jetrack.store.control import (
    ControlStore,
    migrate_control,
    migration_lock,
    open_control_store,
)
from jetrack.store.datadir import DataDirLock, prepare_data_dir
from jetrack.store.keys import AtRestKeys, load_keys

if TYPE_CHECKING:
    from jetrack.store.events import EventStore


@dataclass
class Stores:
    settings: Settings
    control: ControlStore
    events: EventStore
    lock: DataDirLock
    keys: AtRestKeys | None

    @property
    def encrypted(self) -> bool:
        return self.keys is not None

    def close(self) -> None:
        self.events.close()
        self.control.close()
        self.lock.release()


def open_control_only(settings: Settings) -> ControlStore:
    """The control store alone, migrated. SQLite and PostgreSQL both allow several
    processes, so operator commands work while `jetrack serve` holds the event store."""
    prepare_data_dir(settings.data_dir)
    keys = load_keys(settings)
    control = open_control_store(
        data_dir=settings.data_dir,
        database_url=settings.database_url,
        key=keys.control if keys else None,
    )
    with migration_lock(control):
        migrate_control(control)
    return control


def open_stores(settings: Settings, *, migrate: bool = True) -> Stores:
    """Everything a command needs; raises ConfigError with a one-line reason."""
    # Here, not at the top: the commands that need the control store only (open_control_only)
    # start without pyarrow and numpy, which the event store imports.
    from jetrack.store.event_schema import migrate_events
    from jetrack.store.events import EventStoreError, Limits, open_event_store

    prepare_data_dir(settings.data_dir)
    os.umask(0o077)  # files under the data dir are for this user only
    lock = DataDirLock(settings.data_dir)
    lock.acquire()
    try:
        keys = load_keys(settings)
        control = open_control_store(
            data_dir=settings.data_dir,
            database_url=settings.database_url,
            key=keys.control if keys else None,
        )
        try:
            events = open_event_store(
                events_dir=settings.events_dir,
                clickhouse_url=settings.clickhouse_url,
                key=keys.events if keys else None,
                limits=Limits(settings.query_timeout_seconds, settings.query_max_rows),
                memory_limit=settings.memory_limit,
                cluster=settings.clickhouse_cluster,
            )
        except Exception as exc:
            control.close()
            raise ConfigError(
                f"JETRACK_CLICKHOUSE_URL: cannot open the event store: {exc}"
            ) from None
        stores = Stores(settings, control, events, lock, keys)
        if migrate:
            try:
                with migration_lock(control):
                    migrate_control(control)
                    migrate_events(events, settings.clickhouse_cluster)
            except EventStoreError as exc:
                stores.close()
                raise ConfigError(
                    f"JETRACK_DATA_DIR: event store migration failed: {exc}"
                ) from None
        return stores
    except BaseException:
        lock.release()
        raise
