"""The event store: migrations, bind parameters, and the one choke point's limits."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pytest

from jetrack.config import Settings
from jetrack.store.event_schema import applied_versions, available_migrations, migrate_events
from jetrack.store.events import (
    ChdbEventStore,
    EventStoreError,
    LimitedEventStore,
    Limits,
    QueryLimitExceeded,
)
from jetrack.store.stores import Stores
from tests.conftest import EVENT_BACKENDS, backend_settings


@pytest.fixture(params=EVENT_BACKENDS)
def settings(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Settings]:
    """The store's contract holds on both backends (embedded and a ClickHouse server)."""
    with backend_settings(request, request.param, tmp_path / "data") as chosen:
        yield chosen


def test_migrations_are_applied_once(stores: Stores) -> None:
    versions = {v for v, _, _ in available_migrations()}
    assert applied_versions(stores.events) == versions
    assert migrate_events(stores.events) == []  # idempotent
    columns = stores.events.query("SELECT name FROM system.columns WHERE table = 'events'")
    names = {row[0] for row in columns.rows}
    assert {"site_id", "timestamp", "visitor_id", "session_id", "pathname", "props"} <= names
    assert not {"ip", "ip_address", "user_agent", "remote_addr"} & names


def test_parameters_are_bound_not_formatted(stores: Stores) -> None:
    hostile = "x'); DROP TABLE events; --"
    result = stores.events.query("SELECT {v:String} AS v", {"v": hostile})
    assert result.rows == [(hostile,)]
    assert stores.events.query("EXISTS TABLE events").rows == [(1,)]


def test_row_cap_is_enforced(stores: Stores) -> None:
    with pytest.raises(QueryLimitExceeded):
        stores.events.query("SELECT number FROM numbers(1000)", limits=Limits(max_rows=10))


def test_time_limit_is_enforced(stores: Stores) -> None:
    with pytest.raises(QueryLimitExceeded):
        stores.events.query(
            "SELECT sum(cityHash64(number)) FROM numbers(100000000000)",
            limits=Limits(timeout_seconds=0.5),
        )


def test_a_limited_view_of_the_store_has_its_own_default_limits(stores: Stores) -> None:
    # Shared links read through one: their queries get a tighter budget by default.
    limited = LimitedEventStore(stores.events, Limits(timeout_seconds=0.5, max_rows=10))
    with pytest.raises(QueryLimitExceeded):
        limited.query("SELECT sum(cityHash64(number)) FROM numbers(100000000000)")
    with pytest.raises(QueryLimitExceeded):
        limited.query("SELECT number FROM numbers(1000)")
    assert len(stores.events.query("SELECT number FROM numbers(1000)").rows) == 1000


FAILING_WHILE_RUNNING = [
    ("SELECT match('x', {p:String})", {"p": "(" * 1000}, EventStoreError),
    ("SELECT throwIf(number = 3) FROM numbers(10)", {}, EventStoreError),
    ("SELECT number FROM numbers(1000)", {}, QueryLimitExceeded),  # row cap: 10 below
    (
        "SELECT sum(cityHash64(number)) FROM numbers(100000000000)",
        {},
        QueryLimitExceeded,  # time limit: 0.5 s below
    ),
]


@pytest.mark.parametrize(("sql", "params", "error"), FAILING_WHILE_RUNNING)
def test_a_failed_statement_leaves_the_connection_clean(
    stores: Stores, sql: str, params: dict[str, str], error: type[Exception]
) -> None:
    # chDB handed what a failed statement had written to the next one, whoever sent it.
    with pytest.raises(error):
        stores.events.query(sql, params, limits=Limits(timeout_seconds=0.5, max_rows=10))
    after = stores.events.query("SELECT {a:String} AS a, 2 AS b", {"a": "next"})
    assert (after.columns, after.rows) == (["a", "b"], [("next", 2)])
    stores.events.command("SELECT 1")
    assert stores.events.query("SELECT count() FROM events").rows == [(0,)]


def test_arrow_insert_deduplicates_replayed_batches(stores: Stores) -> None:
    table = pa.table({"a": pa.array([1, 2, 3], pa.uint32())})
    stores.events.command(
        "CREATE TABLE t (a UInt32) ENGINE = MergeTree ORDER BY a SETTINGS non_replicated_deduplication_window = 100"
    )
    stores.events.insert_arrow("t", table, dedup_token="batch-1")
    stores.events.insert_arrow("t", table, dedup_token="batch-1")
    stores.events.insert_arrow("t", table, dedup_token="batch-2")
    assert stores.events.query("SELECT count() FROM t").rows == [(6,)]


@pytest.mark.parametrize(
    "text", ["tab\there", "new\nline", "back\\slash", "quote'd", "\\t literal", "ü漢字"]
)
def test_string_parameters_arrive_unchanged(stores: Stores, text: str) -> None:
    assert stores.events.query("SELECT {v:String}", {"v": text}).rows == [(text,)]
    stores.events.command("CREATE TABLE IF NOT EXISTS p (s String) ENGINE = MergeTree ORDER BY s")
    stores.events.command("INSERT INTO p VALUES ({v:String})", {"v": text})
    assert stores.events.query("SELECT count() FROM p WHERE s = {v:String}", {"v": text}).rows == [
        (1,)
    ]


def test_a_closed_store_refuses_work_and_never_reopens(tmp_path: Path) -> None:
    # A job thread still running when the stores close must get an error, not reconnect:
    # chDB keeps one embedded server per process, and a reopened one would hold this data
    # dir and refuse the next store's ("EmbeddedServer already initialized with path").
    first = ChdbEventStore(tmp_path / "first", None, Limits())
    first.close()
    with pytest.raises(EventStoreError, match="closed"):
        first.query("SELECT 1")
    with pytest.raises(EventStoreError, match="closed"):
        first.insert_arrow("t", pa.table({"x": [1]}))
    second = ChdbEventStore(tmp_path / "second", None, Limits())
    try:
        assert second.query("SELECT 1 AS one").rows == [(1,)]
    finally:
        second.close()


def test_the_chdb_package_is_the_wrapper_over_its_engine() -> None:
    """chdb and chdb-core both ship chdb/__init__.py; `make install` puts chdb's in last, as
    pip would (uv unpacks side by side, and either could land: the engine's types the API
    differently and skips the wrapper's set-up)."""
    import importlib.metadata

    import chdb

    assert chdb.__version__ == importlib.metadata.version("chdb")
    assert chdb.__version__ != importlib.metadata.version("chdb-core")
