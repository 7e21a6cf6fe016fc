"""Cluster DDL: the migration files as Replicated*MergeTree tables ON CLUSTER with
Distributed tables in front (JETRACK_CLICKHOUSE_CLUSTER), exactly as reviewed in
tests/store/cluster_ddl.sql. Regenerate that file after a new migration with

    PYTHONPATH=src python -m tests.store.test_cluster_ddl > tests/store/cluster_ddl.sql

and review the diff: no ClickHouse cluster runs here, so the file is what a person checks.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import httpx
import pyarrow as pa
import pytest

from jetrack.config import ConfigError
from jetrack.store.event_schema import (
    _statements,
    available_migrations,
    cluster_statements,
    migrate_events,
    migration_statements,
    migrations_table_statement,
)
from jetrack.store.events import Limits, QueryResult, local_table, table_to_change
from jetrack.store.imported import IMPORTED_TABLES
from tests.conftest import ClickHouseEndpoint, make_settings

GOLDEN = Path(__file__).with_name("cluster_ddl.sql")
CLUSTER = "jetrack"
TABLES = [
    "events",
    "sessions",
    "visit_rollups",
    "filter_rollups",
    "event_rollups",
    "events_by_page",
    *IMPORTED_TABLES,
]


def generated(cluster: str = CLUSTER) -> list[str]:
    statements = [migrations_table_statement("", cluster)]
    for _, _, sql in available_migrations():
        statements += migration_statements(sql, "", cluster)
    return statements


class Recorder:
    """An event store that keeps the statements it is given (no cluster runs here) and
    has applied no migration yet."""

    limits = Limits()
    storage_settings = ""
    cluster: str | None = CLUSTER

    def __init__(self) -> None:
        self.commands: list[str] = []

    def query(
        self, sql: str, params: Mapping[str, Any] | None = None, *, limits: Limits | None = None
    ) -> QueryResult:
        return QueryResult(["version"], [], 0.0)

    def query_arrow(
        self, sql: str, params: Mapping[str, Any] | None = None, *, limits: Limits | None = None
    ) -> pa.Table:
        raise AssertionError("migrations read no Arrow data")

    def command(self, sql: str, params: Mapping[str, Any] | None = None) -> None:
        self.commands.append(sql)

    def insert_arrow(self, table: str, data: pa.Table, dedup_token: str | None = None) -> None:
        raise AssertionError("migrations insert no Arrow data")

    def ping(self) -> bool:
        return True

    def close(self) -> None:
        pass


@pytest.mark.clickhouse_server
def test_cluster_ddl_is_the_reviewed_file_and_parses(
    clickhouse_endpoint: ClickHouseEndpoint,
) -> None:
    statements = generated()
    assert statements == _statements(GOLDEN.read_text())
    # Every table: a replicated local table and a Distributed one sharded by site, both
    # ON CLUSTER; every ALTER changes both.
    text = "\n".join(statements)
    for table in TABLES:
        assert re.search(
            rf"CREATE TABLE IF NOT EXISTS {table}_local ON CLUSTER {CLUSTER}\n\(.*?\)\n"
            rf"ENGINE = Replicated\w*MergeTree\('/clickhouse/tables/{{shard}}/{{database}}/"
            rf"{table}_local', '{{replica}}'",
            text,
            re.S,
        ), table
        assert (
            f"CREATE TABLE IF NOT EXISTS {table} ON CLUSTER {CLUSTER} AS {table}_local\n"
            f"ENGINE = Distributed({CLUSTER}, currentDatabase(), {table}_local, site_id)"
        ) in statements
    for _, name, sql in available_migrations():
        for statement in _statements(sql):
            if statement.startswith("ALTER TABLE "):
                table = statement.split()[2]
                local, front = cluster_statements(statement, CLUSTER)
                assert local.startswith(f"ALTER TABLE {table}_local ON CLUSTER {CLUSTER} "), name
                assert front.startswith(f"ALTER TABLE {table} ON CLUSTER {CLUSTER} "), name
                assert "CODEC" not in front
    assert "non_replicated" not in text
    # ClickHouse's own parser takes each statement.
    for statement in statements:
        parsed = httpx.post(
            clickhouse_endpoint.url + "/",
            params={"param_q": statement.replace("\\", "\\\\").replace("\n", "\\n")},
            content="SELECT formatQuery({q:String})",
        )
        assert parsed.status_code == 200, (statement[:80], parsed.text)
        # INSERT ... SELECT (a migration filling a new table) goes through the
        # Distributed tables, as every insert; the rest is DDL ON CLUSTER.
        assert "ON CLUSTER" in parsed.text or parsed.text.startswith("INSERT INTO ")
    # A materialized view feeds each node's local table from the local events table.
    assert any(
        s.startswith("CREATE MATERIALIZED VIEW IF NOT EXISTS events_by_page_writer ON CLUSTER")
        and " TO events_by_page_local AS" in s
        and "FROM events_local" in s
        for s in statements
    )


def test_migrate_applies_the_cluster_form_and_needs_a_server() -> None:
    recorder = Recorder()
    applied = migrate_events(recorder, CLUSTER)
    assert applied == [name for _, name, _ in available_migrations()]
    inserts = [c for c in recorder.commands if c.startswith("INSERT INTO jetrack_migrations")]
    assert len(inserts) == len(applied)
    assert [c for c in recorder.commands if c not in inserts] == generated()
    # Statements that change rows in place name the local tables, ON CLUSTER.
    assert table_to_change(recorder, "events") == f"events_local ON CLUSTER {CLUSTER}"
    assert local_table(recorder, "sessions") == "sessions_local"
    recorder.cluster = None
    assert (table_to_change(recorder, "events"), local_table(recorder, "events")) == ("events",) * 2
    with pytest.raises(ValueError, match="no cluster form"):
        cluster_statements("DROP TABLE events", CLUSTER)
    with pytest.raises(ConfigError, match="JETRACK_CLICKHOUSE_CLUSTER: a cluster needs"):
        make_settings(Path("data"), clickhouse_cluster="jetrack")
    with pytest.raises(ConfigError, match="JETRACK_CLICKHOUSE_CLUSTER: must be a cluster name"):
        make_settings(Path("data"), clickhouse_url="http://ch:8123", clickhouse_cluster="a b")
    with pytest.raises(ConfigError, match="JETRACK_CLICKHOUSE_URL: is not a ClickHouse HTTP URL"):
        make_settings(Path("data"), clickhouse_url="ch:8123")


if __name__ == "__main__":
    print("-- Generated by jetrack.store.event_schema for JETRACK_CLICKHOUSE_CLUSTER=jetrack;")
    print("-- tests/store/test_cluster_ddl.py checks it exactly (its docstring says how to")
    print("-- regenerate it). Review a change here as the DDL a production cluster runs.")
    print("\n-- jetrack_migrations")
    print(migrations_table_statement("", CLUSTER) + ";")
    for _, name, sql in available_migrations():
        print(f"\n-- {name}")
        for statement in migration_statements(sql, "", CLUSTER):
            print(statement + ";")
