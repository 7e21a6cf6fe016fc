"""Copy the event store to another one (`jetrack move-events`): embedded chDB to a
ClickHouse server or cluster, table by table and partition by partition.

Every MergeTree table of the source but the migrations' own (events, sessions, the
rollups, and any table a later migration adds; not events_by_page, which its materialized
view fills from the events copied) is copied with its partitions as they are:
the target is migrated first, so both have the same tables and partition keys. A
partition goes over in batches of at most `batch_rows` rows (disjoint hash ranges of its
rows) and is then recorded in the target's `jetrack_moved` table with its row count. A
run skips the partitions recorded with the source's count, and drops from the target
what an interrupted run left of any other partition before copying it again: running it
again after a failure, or after more data came, finishes the move, and never copies a row
twice. ReplacingMergeTree tables (sessions, rollups) are read with FINAL, so merges in
the source while it runs change nothing.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass

from jetrack.store.event_schema import bookkeeping_table, migrate_events
from jetrack.store.events import EventStore, Limits, table_to_change

log = logging.getLogger("jetrack.events")

MOVED_TABLE = "jetrack_moved"
# Tables a materialized view fills from another's inserts (0012_events_by_page.sql): not
# copied, but filled in the target as that table's rows are copied.
FED_BY = {"events": ("events_by_page",)}
SKIPPED_TABLES = {"jetrack_migrations", MOVED_TABLE, *(t for fed in FED_BY.values() for t in fed)}
DEFAULT_BATCH_ROWS = 100_000
# Reading a batch may take long on a large partition; the row cap is the batch's.
MOVE_LIMITS = Limits(timeout_seconds=3600.0, max_rows=10 * DEFAULT_BATCH_ROWS)


@dataclass
class MoveReport:
    tables: dict[str, int]  # table -> rows in the source
    copied: list[tuple[str, str, int]]  # (table, partition id, rows) copied by this run
    skipped: int  # partitions already moved


def move_events(
    source: EventStore,
    target: EventStore,
    *,
    cluster: str | None = None,
    batch_rows: int = DEFAULT_BATCH_ROWS,
    progress: Callable[[str], None] | None = None,
) -> MoveReport:
    """Copy every event table of `source` into `target` (see the module's docstring)."""
    if not 1 <= batch_rows <= MOVE_LIMITS.max_rows:
        raise ValueError(f"batch_rows must be 1 to {MOVE_LIMITS.max_rows}")
    migrate_events(target, cluster)
    target.command(
        bookkeeping_table(
            MOVED_TABLE,
            "(table String, partition_id String, rows UInt64, moved_at DateTime DEFAULT now())",
            "(table, partition_id)",
            cluster,
        )
    )
    report = MoveReport({}, [], 0)
    for table, engine in _tables(source):
        final = " FINAL" if "Replacing" in engine else ""
        done = {
            (row[0]): int(row[1])
            for row in target.query(
                f"SELECT partition_id, max(rows) FROM {MOVED_TABLE} WHERE table = {{t:String}} "
                "GROUP BY partition_id",
                {"t": table},
                limits=MOVE_LIMITS,
            ).rows
        }
        partitions = source.query(
            f"SELECT _partition_id AS p, count() FROM {table}{final} GROUP BY p ORDER BY p",
            limits=MOVE_LIMITS,
        ).rows
        report.tables[table] = sum(int(rows) for _, rows in partitions)
        for partition, rows in partitions:
            if done.get(partition) == int(rows):
                report.skipped += 1
                continue
            _copy_partition(source, target, table, final, partition, int(rows), batch_rows, cluster)
            target.command(
                f"INSERT INTO {MOVED_TABLE} (table, partition_id, rows) "
                "VALUES ({t:String}, {p:String}, {n:UInt64})",
                {"t": table, "p": partition, "n": int(rows)},
            )
            report.copied.append((table, partition, int(rows)))
            if progress is not None:
                progress(f"{table} partition {partition}: {rows} rows")
    return report


def _tables(source: EventStore) -> list[tuple[str, str]]:
    rows = source.query(
        "SELECT name, engine FROM system.tables WHERE database = currentDatabase() "
        "AND engine LIKE '%MergeTree' ORDER BY name",
        limits=MOVE_LIMITS,
    ).rows
    return [(str(name), str(engine)) for name, engine in rows if name not in SKIPPED_TABLES]


def _copy_partition(
    source: EventStore,
    target: EventStore,
    table: str,
    final: str,
    partition: str,
    rows: int,
    batch_rows: int,
    cluster: str | None,
) -> None:
    # What an interrupted run copied of this partition goes first (on a cluster, from the
    # local tables of every node).
    if not re.fullmatch(r"[0-9A-Za-z_-]+", partition):
        raise ValueError(f"unexpected partition id {partition!r} of {table}")
    # events_by_page, filled from the copied events by its view, goes with them (the two
    # are partitioned alike).
    for each in (table, *FED_BY.get(table, ())):
        target.command(
            f"ALTER TABLE {table_to_change(target, each)} DROP PARTITION ID '{partition}'"
        )
    batches = max(1, -(-rows // batch_rows))
    for batch in range(batches):
        data = source.query_arrow(
            f"SELECT * FROM {table}{final} WHERE _partition_id = {{p:String}}"
            " AND cityHash64(*) % {n:UInt32} = {i:UInt32}",
            {"p": partition, "n": batches, "i": batch},
            limits=MOVE_LIMITS,
        )
        if data.num_rows:
            target.insert_arrow(table, data)
    log.info("moved %s partition %s: %d rows in %d batches", table, partition, rows, batches)
