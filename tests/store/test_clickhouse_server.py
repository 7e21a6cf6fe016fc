"""The ClickHouse server backend's wire: the loopback endpoint answers as ClickHouse's HTTP
interface does (tests/support/clickhouse_http.py), and the product's store works through
it from many threads at once."""

from __future__ import annotations

import gzip
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pyarrow as pa
import pytest
from backports import zstd

from jetrack.config import ConfigError
from jetrack.store.event_schema import available_migrations
from jetrack.store.events import ServerEventStore
from jetrack.store.stores import open_stores
from tests.conftest import ClickHouseEndpoint, free_port, make_settings

pytestmark = pytest.mark.clickhouse_server


def test_the_endpoint_speaks_clickhouse_http(clickhouse_endpoint: ClickHouseEndpoint) -> None:
    url = clickhouse_endpoint.url
    assert httpx.get(url + "/ping").text == "Ok.\n"
    with clickhouse_endpoint.database() as db_url, httpx.Client(base_url=url) as http:
        db = db_url.rsplit("/", 1)[1]
        run = http.post("/", params={"database": db}, content="CREATE TABLE t (a UInt32, s String) ENGINE = MergeTree ORDER BY a")  # fmt: skip
        assert run.status_code == 200, run.text

        # An INSERT with its data in the body, gzip-compressed; the summary counts the rows.
        body = gzip.compress(b"INSERT INTO t FORMAT TSV\n1\tone\n2\tit's\n")
        done = http.post("/", params={"database": db}, content=body,
                         headers={"Content-Encoding": "gzip"})  # fmt: skip
        assert done.status_code == 200, done.text
        assert '"written_rows":"2"' in done.headers["X-ClickHouse-Summary"]

        # Bound parameters (text format, escaped), the query in the URL, a chosen query id,
        # an answer in zstd when asked for.
        answer = http.get("/", params={"database": db, "query_id": "q-1",
                                       "query": "SELECT a FROM t WHERE s = {s:String}",
                                       "param_s": "it\\'s", "enable_http_compression": "1"},
                          headers={"Accept-Encoding": "zstd"})  # fmt: skip
        assert answer.headers["Content-Encoding"] == "zstd"
        assert answer.headers["X-ClickHouse-Query-Id"] == "q-1"
        assert answer.headers["X-ClickHouse-Format"] == "TabSeparated"
        assert zstd.decompress(answer.content) == b"2\n"

        # A setting holds for its request only, also on a reused connection.
        limited = http.post("/", params={"database": db, "max_result_rows": "1",
                                         "result_overflow_mode": "throw"},
                            content="SELECT * FROM t")  # fmt: skip
        assert limited.status_code == 500 and "TOO_MANY_ROWS" in limited.text
        for _ in range(3):
            assert http.post("/", params={"database": db}, content="SELECT count() FROM t").text == "2\n"  # fmt: skip

        # Errors: ClickHouse's text, code header and HTTP status.
        for sql, status, code in [("SELEC 1", 400, "62"), ("SELECT * FROM nope", 404, "60")]:
            failed = http.post("/", params={"database": db}, content=sql)
            assert (failed.status_code, failed.headers["X-ClickHouse-Exception-Code"]) == (status, code)  # fmt: skip
            assert failed.text.startswith(f"Code: {code}. DB::Exception:")
        denied = http.post("/", content="SELECT 1", auth=("default", "wrong"))
        assert (denied.status_code, denied.headers["X-ClickHouse-Exception-Code"]) == (403, "516")

        # A session keeps its settings, and refuses a second request while one runs.
        session = {"database": db, "session_id": "s-1"}
        assert http.post("/", params=session, content="SET max_result_rows = 7").status_code == 200
        setting = http.post("/", params=session, content="SELECT getSetting('max_result_rows')")
        assert setting.text == "7\n"
        slow = threading.Thread(target=lambda: http.post("/", params=session, content="SELECT sleepEachRow(0.3) FROM numbers(3)"))  # fmt: skip
        slow.start()
        try:
            for _ in range(50):
                busy = httpx.post(url + "/", params=session, content="SELECT 1")
                if busy.status_code != 200:
                    break
            assert busy.headers["X-ClickHouse-Exception-Code"] == "373", busy.text
        finally:
            slow.join()


def test_the_server_store_serves_threads_and_names_bad_urls(
    clickhouse_endpoint: ClickHouseEndpoint, tmp_path: Path
) -> None:
    with clickhouse_endpoint.database() as url:
        stores = open_stores(make_settings(tmp_path / "data", clickhouse_url=url))
        try:
            assert isinstance(stores.events, ServerEventStore) and stores.events.ping()
            stores.events.insert_arrow("jetrack_migrations", pa.table({"version": pa.array([99], pa.uint32()), "name": ["x"]}))  # fmt: skip
            # One client for every thread: no session that a server would lock.
            ids = list(range(2000))  # long enough to go as a form body, not in the URL
            sql = "SELECT count() FROM jetrack_migrations WHERE version IN {ids:Array(UInt32)}"
            with ThreadPoolExecutor(6) as pool:
                counts = list(pool.map(lambda _: stores.events.query(sql, {"ids": ids}), range(24)))  # fmt: skip
            # Every migration's row and the one inserted above, in every thread's answer.
            assert {result.rows[0][0] for result in counts} == {len(available_migrations()) + 1}
        finally:
            stores.close()
    closed = f"http://127.0.0.1:{free_port()}/default"
    with pytest.raises(ConfigError, match="JETRACK_CLICKHOUSE_URL"):
        open_stores(make_settings(tmp_path / "other", clickhouse_url=closed))
    wrong = clickhouse_endpoint.url.replace("http://", "http://default:nope@") + "/default"
    with pytest.raises(ConfigError, match="AUTHENTICATION_FAILED"):
        open_stores(make_settings(tmp_path / "third", clickhouse_url=wrong))
