"""The process's memory: a memory limit reaches the embedded engine, the idle release keeps
the store working, and pandas stays out of the server."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pytest

from jetrack.store.events import ChdbEventStore, Limits
from jetrack.store.memory import EngineMemory

MB = 2**20
KEY = bytes.fromhex("7f" * 32)


@pytest.fixture(params=[None, KEY], ids=["plain", "encrypted"])
def limited_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[ChdbEventStore]:
    store = ChdbEventStore(
        tmp_path / "events", request.param, Limits(), EngineMemory.for_limit(512 * MB)
    )
    yield store
    store.close()


def server_setting(store: ChdbEventStore, name: str) -> str:
    result = store.query(
        "SELECT value FROM system.server_settings WHERE name = {n:String}", {"n": name}
    )
    return str(result.rows[0][0])


def test_a_memory_limit_reaches_the_engine(limited_store: ChdbEventStore) -> None:
    memory = EngineMemory.for_limit(512 * MB)
    for name, value in memory.server_settings().items():
        assert server_setting(limited_store, name) == str(value), name
    for name, value in memory.query_settings().items():
        got = limited_store.query("SELECT getSetting({n:String})", {"n": name}).rows[0][0]
        assert int(got) == value, name
    # The engine's limit leaves room for the interpreter and the libraries (~250 MB).
    assert memory.server_bytes == 256 * MB
    assert memory.spill_bytes < memory.query_bytes < memory.server_bytes


def test_without_a_limit_the_engine_keeps_its_defaults(tmp_path: Path) -> None:
    store = ChdbEventStore(tmp_path / "events", None, Limits())
    try:
        assert server_setting(store, "max_server_memory_usage") != str(256 * MB)
        spill = store.query("SELECT getSetting('max_bytes_before_external_group_by')")
        assert spill.rows[0][0] != EngineMemory.for_limit(512 * MB).spill_bytes
    finally:
        store.close()


def test_a_large_group_by_spills_to_disk_under_the_limit(limited_store: ChdbEventStore) -> None:
    # ~5M distinct keys with their strings: more state than the 64 MB spill threshold.
    result = limited_store.query(
        "SELECT count(), sum(c) FROM (SELECT number % 5000000 AS k, any(toString(number)) AS s,"
        " count() AS c FROM numbers(10000000) GROUP BY k)"
    )
    assert result.rows == [(5_000_000, 10_000_000)]


def test_idle_release_keeps_the_store_working(tmp_path: Path) -> None:
    store = ChdbEventStore(tmp_path / "events", None, Limits())
    try:
        store.command("CREATE TABLE t (a UInt64, s String) ENGINE = MergeTree ORDER BY a")
        store.insert_arrow("t", pa.table({"a": pa.array([1, 2], pa.uint64()), "s": ["x", "y"]}))
        used = store.last_used
        store.release_memory()
        assert store.last_used == used  # giving memory back is no use of the store
        assert store.query("SELECT sum(a), max(s) FROM t").rows == [(3, "y")]
    finally:
        store.close()


def test_inserts_are_deduplicated_by_a_token_with_any_text(tmp_path: Path) -> None:
    store = ChdbEventStore(tmp_path / "events", None, Limits())
    try:
        store.command(
            "CREATE TABLE t (a UInt64, m Map(String, String)) ENGINE = MergeTree ORDER BY a"
            " SETTINGS non_replicated_deduplication_window = 10"
        )
        rows = pa.table(
            {
                "a": pa.array([1, 2], pa.uint64()),
                "m": pa.array([[("k", "v")], []], pa.map_(pa.string(), pa.string())),
            }
        )
        for _ in range(2):
            store.insert_arrow("t", rows, dedup_token="batch 'one'\\ \n")
        result = store.query("SELECT a, m FROM t ORDER BY a")
        assert result.rows == [(1, [("k", "v")]), (2, [])]
    finally:
        store.close()


NO_PANDAS_PROBE = """
import sys
from pathlib import Path
import pyarrow as pa
from jetrack.store.memory import keep_pandas_out
keep_pandas_out()
from jetrack.store.events import ChdbEventStore, Limits
store = ChdbEventStore(Path(sys.argv[1]), None, Limits())
store.command("CREATE TABLE t (a UInt64) ENGINE = MergeTree ORDER BY a")
store.insert_arrow("t", pa.table({"a": pa.array([1, 2], pa.uint64())}))
print(store.query("SELECT sum(a) FROM t").rows[0][0], "pandas" in sys.modules)
try:
    import pandas
except ImportError as exc:
    print(exc)
"""


def test_pandas_stays_out_and_the_store_works_without_it(tmp_path: Path) -> None:
    # A fresh process: this one may have pandas already.
    result = subprocess.run(
        [sys.executable, "-c", NO_PANDAS_PROBE, str(tmp_path / "events")],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    answer, message = result.stdout.splitlines()
    assert answer == "3 False"
    assert "kept out of Jetrack" in message


# What a server at idle must not hold: each is imported where it is needed (webhooks, the
# shared mode, Umami imports, control-store migrations) or never (pandas).
NOT_AT_IDLE = (
    "alembic",
    "mako",
    "httpx",
    "pygments",
    "rich",
    "redis",
    "psycopg",
    "pandas",
    "stripe",
)

SERVE_PROBE = """
import asyncio, os, sys
from pathlib import Path
from jetrack.app import serving_app
from jetrack.config import load_settings
settings = load_settings(data_dir=Path(sys.argv[1]), encryption_key=sys.argv[2], log_level="warning")
app = serving_app(settings)

async def main() -> None:
    async with app.router.lifespan_context(app):
        await asyncio.sleep(3)  # the start-up jobs and watches run meanwhile
        print(" ".join(sorted(m for m in sys.argv[3:] if m in sys.modules)) or "-")
        import babel.localedata  # no language's CLDR data before a request needs it
        print(len(babel.localedata._cache))

asyncio.run(main())
"""


def test_modules_only_some_work_needs_stay_out_of_an_idle_server(tmp_path: Path) -> None:
    """`jetrack serve` on a migrated data dir (what every start after the first is) holds
    none of NOT_AT_IDLE (~31 MB) and no language's locale data (~8.7 MB for five):
    measured in docs/benchmarks.md."""
    from tests.conftest import TEST_KEY

    env = {
        **os.environ,
        "JETRACK_DATA_DIR": str(tmp_path / "data"),
        "JETRACK_ENCRYPTION_KEY": TEST_KEY,
    }
    subprocess.run(
        [sys.executable, "-m", "jetrack.cli", "migrate"],
        env=env, capture_output=True, check=True, timeout=120,
    )  # fmt: skip
    result = subprocess.run(
        [sys.executable, "-c", SERVE_PROBE, str(tmp_path / "data"), TEST_KEY, *NOT_AT_IDLE],
        env=env, capture_output=True, text=True, check=True, timeout=120,
    )  # fmt: skip
    assert result.stdout.split() == ["-", "0"], result.stdout
