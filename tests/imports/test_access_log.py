"""Access logs in three formats, with known totals, imported through the command line and
read back through the Stats API; an interrupted import resumed gives the same totals; an
import deleted leaves the site as it was."""

from __future__ import annotations

import gzip
import os
import subprocess
import sys
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import pytest

from jetrack.imports import registry, replay
from jetrack.imports.access_log import page_path, sniff_format
from jetrack.imports.foreground import run_in_foreground
from jetrack.imports.kinds import remove_import
from jetrack.jobs import runner
from jetrack.store import job_queue
from jetrack.store.models import Site, SiteImport
from jetrack.store.stores import Stores, open_stores
from tests.conftest import TEST_KEY, kill_when_paused, make_settings
from tests.imports.helpers import (
    CHROME_WINDOWS,
    FIREFOX_LINUX,
    GOOGLEBOT,
    SAFARI_IPHONE,
    import_with_a_stop,
    make_site,
    report,
)
from tests.test_cli import invoke

GB = "81.2.69.142"  # in the test geo database: GB
# (address, agent, UTC time, method, request target, status, referrer)
Line = tuple[str, str, str, str, str, int, str]
PAGES: list[Line] = [
    # visitor 1: three pages in 3 minutes, from Google
    (
        GB,
        CHROME_WINDOWS,
        "2024-03-05 10:00:00",
        "GET",
        "/",
        200,
        "https://www.google.com/search?q=x",
    ),
    (
        GB,
        CHROME_WINDOWS,
        "2024-03-05 10:01:00",
        "GET",
        "/pricing?ref=nav",
        200,
        "https://example.com/",
    ),
    (
        GB,
        CHROME_WINDOWS,
        "2024-03-05 10:03:00",
        "GET",
        "/about.html",
        200,
        "https://example.com/pricing",
    ),
    # visitor 2: a bounce from Hacker News, then, after an hour, a direct bounce
    (
        "198.51.100.77",
        FIREFOX_LINUX,
        "2024-03-05 11:00:00",
        "GET",
        "/pricing",
        200,
        "https://news.ycombinator.com/",
    ),
    ("198.51.100.77", FIREFOX_LINUX, "2024-03-05 12:10:00", "GET", "/", 200, "-"),
    # visitor 3: a phone, from a newsletter
    (
        "203.0.113.199",
        SAFARI_IPHONE,
        "2024-03-05 12:00:00",
        "GET",
        "/blog/?utm_source=newsletter",
        200,
        "-",
    ),
    # visitor 4, the next day: two pages a minute apart
    ("2001:db8:4242:5151::99", FIREFOX_LINUX, "2024-03-06 00:05:00", "GET", "/", 200, "-"),
    ("2001:db8:4242:5151::99", FIREFOX_LINUX, "2024-03-06 00:06:00", "GET", "/pricing", 200, "-"),
]
NOISE: list[Line] = [
    (GB, CHROME_WINDOWS, "2024-03-05 10:00:01", "GET", "/style.css", 200, "https://example.com/"),
    (GB, CHROME_WINDOWS, "2024-03-05 10:00:01", "GET", "/app.js?v=3", 200, "https://example.com/"),
    (GB, CHROME_WINDOWS, "2024-03-05 10:00:02", "GET", "/img/logo.png", 200, "https://example.com/"),
    (GB, CHROME_WINDOWS, "2024-03-05 10:00:02", "GET", "/favicon.ico", 200, "-"),
    (GB, CHROME_WINDOWS, "2024-03-05 10:02:00", "POST", "/contact", 200, "https://example.com/"),
    (GB, CHROME_WINDOWS, "2024-03-05 10:02:30", "GET", "/missing", 404, "-"),
    (GB, CHROME_WINDOWS, "2024-03-05 10:02:40", "GET", "/old", 301, "-"),
    ("66.249.66.1", GOOGLEBOT, "2024-03-05 10:30:00", "GET", "/", 200, "-"),
    ("66.249.66.1", GOOGLEBOT, "2024-03-05 10:30:01", "GET", "/robots.txt", 200, "-"),
    ("198.51.100.77", FIREFOX_LINUX, "2024-03-05 11:00:00", "HEAD", "/", 200, "-"),
    ("198.51.100.77", FIREFOX_LINUX, "2024-03-05 11:00:05", "GET", "/.well-known/security.txt", 200, "-"),
]  # fmt: skip
_COMMON = {"method": 2, "status": 2, "bot_ua": 1, "unparsed": 1}
SKIPPED = {
    "combined": _COMMON | {"asset": 6},
    "caddy": _COMMON | {"asset": 5, "not_html": 1},  # the stylesheet, by its content type
    "cloudfront": _COMMON | {"asset": 6},
}


def _when(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def combined(line: Line) -> str:
    ip, agent, when, method, target, status, referrer = line
    stamp = _when(when).strftime("%d/%b/%Y:%H:%M:%S +0000")
    return f'{ip} - - [{stamp}] "{method} {target} HTTP/1.1" {status} 512 "{referrer}" "{agent}"'


def caddy(line: Line) -> str:
    ip, agent, when, method, target, status, referrer = line
    headers = {"User-Agent": [agent]} | ({"Referer": [referrer]} if referrer != "-" else {})
    kind = "text/css" if target.endswith(".css") else "text/html; charset=utf-8"
    entry = {
        "level": "info", "ts": _when(when).timestamp() + 0.25, "logger": "http.log.access",
        "msg": "handled request", "status": status, "resp_headers": {"Content-Type": [kind]},
        "request": {"remote_ip": "10.0.0.2", "client_ip": ip, "method": method,
                    "host": "example.com", "uri": target, "headers": headers},
    }  # fmt: skip
    return orjson.dumps(entry).decode()


def cloudfront(line: Line) -> str:
    ip, agent, when, method, target, status, referrer = line
    path, _, query = target.partition("?")
    day, time = when.split(" ")
    quoted = agent.replace(" ", "%20")
    fields = [day, time, "FRA56-C1", "512", ip, method, "d111.cloudfront.net", path, str(status),
              referrer, quoted, query or "-", "-", "Miss", "id", "example.com", "https", "100",
              "0.1", "-", "TLSv1.3", "TLS_AES", "Miss", "HTTP/2.0", "-", "-", "443", "0.1",
              "Miss", "text/html", "512", "-", "-"]  # fmt: skip
    return "\t".join(fields)


def write_log(folder: Path, make: Callable[[Line], str], gz: bool) -> list[Path]:
    """The lines in two files (the pages and noise mixed, in time order), the second gzip."""
    lines = sorted(PAGES + NOISE, key=lambda line: line[2])
    body = [make(line) for line in lines]
    if make is cloudfront:
        body.insert(0, "#Version: 1.0")
    body.insert(3, "this is not a log line")
    first, second = folder / "access.log.1", folder / ("access.log.gz" if gz else "access.log")
    first.write_text("\n".join(body[:9]) + "\n")
    data = ("\n".join(body[9:]) + "\n").encode()
    second.write_bytes(gzip.compress(data) if gz else data)
    return [first, second]


EXPECTED = {
    # 4 visitors, 5 visits, 8 pageviews, 3 bounces of 5, (180 + 60) / 5 seconds
    "totals": [4, 5, 8, 60.0, 48],
    "sources": [["Direct / None", 2], ["Google", 1], ["Hacker News", 1], ["newsletter", 1]],
    "pages": [["/", 3, 3], ["/about.html", 1, 1], ["/blog/", 1, 1], ["/pricing", 3, 3]],
    "devices": [["Desktop", 3], ["Mobile", 1]],
    "browsers": [["Chrome", 1], ["Firefox", 2], ["Safari", 1]],
}


def _import(stores: Stores, site: Site, files: list[Path], log_format: str) -> int:
    params = {"paths": [str(f) for f in files], "format": log_format}
    outcome = run_in_foreground(stores, site, "access-log", "test", params)
    assert outcome.skipped == SKIPPED[log_format]
    assert (outcome.rows, outcome.first_day, outcome.last_day) == (8, "2024-03-05", "2024-03-06")
    return outcome.import_id


@pytest.mark.slow
@pytest.mark.parametrize(
    ("log_format", "make"), [("combined", combined), ("caddy", caddy), ("cloudfront", cloudfront)]
)
def test_each_format_imports_the_pages_with_known_totals(
    stores: Stores, tmp_path: Path, log_format: str, make: Callable[[Line], str]
) -> None:
    site = make_site(stores)
    files = write_log(tmp_path, make, gz=log_format != "caddy")
    import_id = _import(stores, site, files, log_format)
    got = report(stores, site, "2024-03-05", "2024-03-06")
    assert {k: v for k, v in got.items() if k != "countries"} == EXPECTED
    assert ["GB", 1] in got["countries"]
    with stores.control.session() as session:
        record = registry.get_import(session, import_id)
        assert record is not None and record.status == registry.DONE and record.rows == 8
        assert (
            "salts" not in orjson.loads(record.checkpoint)
            or not orjson.loads(record.checkpoint)["salts"]
        )  # the day salts are gone once the import is over
    rolled = stores.events.query(
        "SELECT count() FROM visit_rollups WHERE site_id = {s:UInt32} AND column = ''",
        {"s": site.id},
    ).rows[0][0]
    assert rolled >= 2  # both days rolled up: the totals above read the rollups
    if log_format == "combined":
        assert remove_import(stores, site.id, import_id)
        assert report(stores, site, "2024-03-05", "2024-03-06")["totals"] == [0, 0, 0, 0, 0]


@pytest.mark.slow
def test_an_interrupted_import_resumes_with_the_same_totals(
    stores: Stores, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Stopped once before a batch landed and once after it landed but before its
    checkpoint was recorded: each resumed import counts every line once."""
    files = write_log(tmp_path, combined, gz=True)
    params = {"paths": [str(f) for f in files], "format": "combined"}
    for domain, call in (("before.example", 3), ("after.example", 4)):
        site = make_site(stores, domain)
        outcome = import_with_a_stop(stores, site, "access-log", params, monkeypatch, call)
        assert outcome.rows == 8 and outcome.skipped == SKIPPED["combined"]
        got = report(stores, site, "2024-03-05", "2024-03-06")
        assert {k: v for k, v in got.items() if k != "countries"} == EXPECTED


@pytest.mark.slow
def test_the_import_job_stopped_by_the_server_resumes_with_the_same_totals(
    stores: Stores, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The server's way: the `import` job stops at a checkpoint when the server stops, and
    the next run of the job goes on from there."""
    monkeypatch.setattr(replay, "BATCH_ROWS", 2)
    site = make_site(stores)
    files = write_log(tmp_path, combined, gz=True)
    params = {"paths": [str(f) for f in files], "format": "combined"}
    with stores.control.session() as session:
        import_id = registry.create_import(session, site.id, "access-log", "access.log", params).id
    stopping = threading.Event()
    record_progress = registry.record_progress

    def stop_once_under_way(session: Any, *args: Any) -> None:
        record_progress(session, *args)
        record = session.get(SiteImport, import_id)
        if record is not None and record.done and not stopping.is_set():
            stopping.set()  # the server is stopping: the job's next stop point stops it

    monkeypatch.setattr(registry, "record_progress", stop_once_under_way)
    assert not runner.run_one(stores, in_server=True, kinds=("import",), stopping=stopping)
    assert stores.events.query("SELECT count() FROM events").rows[0][0] < 8
    stopping.clear()
    assert runner.run_pending(stores, kinds=("import",)) == 1
    got = report(stores, site, "2024-03-05", "2024-03-06")
    assert {k: v for k, v in got.items() if k != "countries"} == EXPECTED
    with stores.control.session() as session:
        record = registry.get_import(session, import_id)
        assert record is not None and (record.status, record.rows) == ("done", 8)


def test_an_upload_s_format_is_told_by_its_first_line(tmp_path: Path) -> None:
    for log_format, make in (("combined", combined), ("caddy", caddy), ("cloudfront", cloudfront)):
        first, second = write_log(tmp_path, make, gz=True)
        assert (sniff_format(first), sniff_format(second)) == (log_format, log_format)


def test_pages_and_assets_by_path() -> None:
    pages = ["/", "/blog/", "/blog/post", "/index.html", "/a.php", "/v1.2/notes"]
    assets = ["/a.css", "/x/y.js", "/f.woff2", "/robots.txt", "/wp-admin/x", "/feed.xml",
              "/doc.pdf", "/.well-known/x", "/api/items", "/favicon.ico"]  # fmt: skip
    assert [page_path(p) for p in pages] == [True] * len(pages)
    assert [page_path(p) for p in assets] == [False] * len(assets)


@pytest.mark.slow
def test_an_import_killed_after_a_batch_landed_resumes_with_the_same_totals(
    tmp_path: Path,
) -> None:
    """SIGKILL right after a batch was stored and before its checkpoint said so: the same
    command again finds the batch stored, goes on after it, and counts it once."""
    settings = make_settings(tmp_path / "data")
    stores = open_stores(settings)
    try:
        site = make_site(stores)
    finally:
        stores.close()
    files = write_log(tmp_path, combined, gz=True)
    command = ["import", "access-log", "--site", "example.com", *map(str, files)]
    env = {k: v for k, v in os.environ.items() if not k.startswith("JETRACK_")}
    env.update({"JETRACK_DATA_DIR": str(settings.data_dir), "JETRACK_ENCRYPTION_KEY": TEST_KEY,
                "JETRACK_LOG_LEVEL": "warning", job_queue.PAUSE_AFTER_STEP_ENV: replay.LANDED_STEP})  # fmt: skip
    process = subprocess.Popen([sys.executable, "-m", "jetrack.cli", *command], env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # fmt: skip
    kill_when_paused(process, replay.LANDED_STEP)

    again = invoke(settings.data_dir, *command)
    assert again.returncode == 0, again.stderr
    assert again.stdout.startswith("import 1 (resumed): 8 events from 2024-03-05 to 2024-03-06")
    stores = open_stores(settings)
    try:
        got = report(stores, site, "2024-03-05", "2024-03-06")
        assert {k: v for k, v in got.items() if k != "countries"} == EXPECTED
    finally:
        stores.close()
