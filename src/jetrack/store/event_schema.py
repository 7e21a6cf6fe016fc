"""Versioned migrations of the event tables (ClickHouse SQL files, applied in order).

On a ClickHouse cluster (JETRACK_CLICKHOUSE_CLUSTER) the same files are applied as
cluster DDL (cluster_statements): each table is a Replicated*MergeTree table `NAME_local`
on every node, created ON CLUSTER, with a Distributed table `NAME` in front that shards
rows by site (so every query and insert, which name `NAME`, works unchanged).
"""

from __future__ import annotations

import logging
import re
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


# Where a cluster's replicated tables keep their state in ClickHouse Keeper: one replica
# set per shard ({shard} and {replica} are each node's macros). Bookkeeping tables (which
# migrations ran, what `jetrack move-events` moved) are one replica set over all nodes, so
# every node knows.
REPLICA_PATH = "'/clickhouse/tables/{{shard}}/{{database}}/{table}', '{{replica}}'"
ALL_NODES_PATH = "'/clickhouse/tables/all/{{database}}/{table}', '{{replica}}'"
# Rows of a site stay on one shard: visits, their events and rollups are counted there.
SHARDING_KEY = "site_id"


def bookkeeping_table(
    name: str, columns: str, order_by: str, cluster: str | None, storage_settings: str = ""
) -> str:
    """CREATE TABLE of a small table of Jetrack's own, replicated to every node of a
    cluster."""
    if cluster:
        engine = f"ReplicatedMergeTree({ALL_NODES_PATH.format(table=name)})"
        return (
            f"CREATE TABLE IF NOT EXISTS {name} ON CLUSTER {cluster} {columns} "
            f"ENGINE = {engine} ORDER BY {order_by}"
        )
    settings = " SETTINGS " + storage_settings.lstrip(", ") if storage_settings else ""
    return f"CREATE TABLE IF NOT EXISTS {name} {columns} ENGINE = MergeTree ORDER BY {order_by}" + (
        settings
    )


def migrations_table_statement(storage_settings: str = "", cluster: str | None = None) -> str:
    return bookkeeping_table(
        "jetrack_migrations",
        "(version UInt32, name String, applied_at DateTime DEFAULT now())",
        "version",
        cluster,
        storage_settings,
    )


def applied_versions(store: EventStore, cluster: str | None = None) -> set[int]:
    store.command(migrations_table_statement(store.storage_settings, cluster))
    result = store.query("SELECT version FROM jetrack_migrations")
    return {int(row[0]) for row in result.rows}


def migration_statements(sql: str, storage_settings: str, cluster: str | None) -> list[str]:
    """The statements of one migration file, as cluster DDL when `cluster` is given."""
    statements = _statements(sql.replace("{storage_settings}", storage_settings))
    if not cluster:
        return statements
    return [each for statement in statements for each in cluster_statements(statement, cluster)]


_CREATE = re.compile(
    r"CREATE TABLE IF NOT EXISTS (?P<name>\w+)\s*(?P<columns>\(.*\))\s*"
    r"ENGINE = (?P<engine>\w*MergeTree)(?:\((?P<args>[^)]*)\))?\s*(?P<rest>.*)",
    re.S,
)
_ALTER = re.compile(r"ALTER TABLE (?P<name>\w+) (?P<action>(?P<verb>\w+ COLUMN)\b.*)", re.S)
_CODEC = re.compile(r"\s*CODEC\((?:[^()]|\([^()]*\))*\)")
_VIEW = re.compile(
    r"CREATE MATERIALIZED VIEW IF NOT EXISTS (?P<name>\w+) TO (?P<target>\w+) AS\s*"
    r"(?P<select>SELECT .*?\sFROM\s+)(?P<source>\w+)(?P<rest>.*)",
    re.S,
)
_FILL = re.compile(r"INSERT INTO \w+ \(.*\)\s*SELECT .*", re.S)


def cluster_statements(statement: str, cluster: str) -> list[str]:
    """One migration statement as the statements that make the same change on a cluster.

    CREATE TABLE NAME ... ENGINE = XMergeTree(args) becomes NAME_local ON CLUSTER with
    ReplicatedXMergeTree(path, replica, args), and NAME a Distributed table over it;
    ALTER TABLE NAME ADD/MODIFY/DROP COLUMN changes NAME_local, then NAME (without codecs:
    a Distributed table stores nothing); a materialized view TO a table reads and writes
    each node's local tables (every node's inserts feed its own view); INSERT ... SELECT
    runs as it is, through the Distributed tables. Any other statement is refused: a new kind of
    migration needs its cluster form here (tests/store/test_cluster_ddl.py lists them).
    """
    if created := _CREATE.fullmatch(statement):
        name, args = created["name"], created["args"]
        engine_args = REPLICA_PATH.format(table=f"{name}_local") + (f", {args}" if args else "")
        # Replicated tables deduplicate replayed inserts (insert_deduplication_token) by
        # their own window setting.
        rest = created["rest"].replace(
            "non_replicated_deduplication_window", "replicated_deduplication_window"
        )
        return [
            f"CREATE TABLE IF NOT EXISTS {name}_local ON CLUSTER {cluster}\n"
            f"{created['columns']}\n"
            f"ENGINE = Replicated{created['engine']}({engine_args})\n{rest}",
            f"CREATE TABLE IF NOT EXISTS {name} ON CLUSTER {cluster} AS {name}_local\n"
            f"ENGINE = Distributed({cluster}, currentDatabase(), {name}_local, {SHARDING_KEY})",
        ]
    if altered := _ALTER.fullmatch(statement):
        name, action = altered["name"], altered["action"]
        return [
            f"ALTER TABLE {name}_local ON CLUSTER {cluster} {action}",
            f"ALTER TABLE {name} ON CLUSTER {cluster} {_CODEC.sub('', action)}",
        ]
    if view := _VIEW.fullmatch(statement):
        return [
            f"CREATE MATERIALIZED VIEW IF NOT EXISTS {view['name']} ON CLUSTER {cluster}"
            f" TO {view['target']}_local AS\n{view['select']}{view['source']}_local{view['rest']}"
        ]
    if _FILL.fullmatch(statement):
        return [statement]
    raise ValueError(f"no cluster form for this migration statement: {statement[:80]}")


def migrate_events(store: EventStore, cluster: str | None = None) -> list[str]:
    """Apply pending migrations (as cluster DDL on `cluster`); returns the names applied."""
    done = applied_versions(store, cluster)
    applied = []
    for version, name, sql in available_migrations():
        if version in done:
            continue
        for statement in migration_statements(sql, store.storage_settings, cluster):
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
