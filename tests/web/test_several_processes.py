"""`jetrack serve` processes of the shared mode (PostgreSQL, Redis, a ClickHouse server: the
loopback endpoint) take the events of the same visitors in turns, and report what one
embedded process given the same events at the same moments reports. One of the two
servers is `jetrack serve --workers 2`: three processes share the visits."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest

from jetrack.config import Settings
from jetrack.store.stores import open_stores
from tests.conftest import (
    REDIS_URL,
    ClickHouseEndpoint,
    LiveServer,
    SiteSeed,
    make_settings,
    seed_site,
    start_server,
)

pytestmark = [
    pytest.mark.server,
    pytest.mark.slow,
    pytest.mark.postgres,
    pytest.mark.redis,
    pytest.mark.clickhouse_server,
]

TRUSTED = {"JETRACK_TRUSTED_PROXIES": "127.0.0.1/32"}
UA = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/13{v}.0.0.0 Safari/537.36"
# Each visitor's events in order: (name, path); one event of each visitor per round.
VISITS: list[list[tuple[str, str]]] = [
    [("pageview", "/"), ("pageview", "/pricing"), ("Signup", "/pricing"), ("pageview", "/thanks")],
    [("pageview", "/blog")],  # a bounce
    [("pageview", "/"), ("engagement", "/"), ("pageview", "/docs")],
    [("pageview", "/docs"), ("pageview", "/docs/api"), ("engagement", "/docs/api")],
    [("pageview", "/pricing")],
    [("pageview", "/blog"), ("pageview", "/"), ("pageview", "/pricing"), ("pageview", "/")],
    [("pageview", "/"), ("Signup", "/")],
]
METRICS = ["visitors", "visits", "pageviews", "views_per_visit", "bounce_rate", "visit_duration"]
QUERIES: list[dict[str, Any]] = [
    {"metrics": METRICS},
    {"metrics": ["visits", "bounce_rate"], "dimensions": ["visit:entry_page"]},
    {"metrics": ["visits", "visitors"], "dimensions": ["visit:exit_page"]},
    {"metrics": ["pageviews", "visitors"], "dimensions": ["event:page"]},
    {"metrics": ["events"], "dimensions": ["event:goal"]},
]


def _send(client: httpx.Client, visitor: int, name: str, path: str) -> None:
    body: dict[str, Any] = {"n": name, "u": f"https://example.com{path}", "d": "example.com"}
    if name == "engagement":
        body.update({"sd": 60, "e": 4000})
    headers = {"User-Agent": UA.format(v=visitor), "X-Forwarded-For": f"81.2.69.{10 + visitor}"}
    answer = client.post("/api/event", json=body, headers=headers)
    assert answer.status_code == 202, answer.text


def _report(server: LiveServer, key: str, query: dict[str, Any]) -> list[dict[str, Any]]:
    body = {"site_id": "example.com", "date_range": "day", **query}
    headers = {"Authorization": f"Bearer {key}"}
    answer = httpx.post(server.url + "/api/v2/query", json=body, headers=headers, timeout=30)
    assert answer.status_code == 200, answer.text
    return sorted(answer.json()["results"], key=lambda row: str(row["dimensions"]))


def _seed(settings: Settings, seed: SiteSeed) -> None:
    stores = open_stores(settings)
    try:
        seed(stores)
    finally:
        stores.close()


def _assert_same(
    pair: list[dict[str, Any]], single: list[dict[str, Any]], query: dict[str, Any]
) -> None:
    """The same rows and figures; a visit's duration comes from the seconds its events
    arrived in, and the two copies of an event, sent one after the other, may land on
    either side of a second on a loaded machine: durations may differ by a second."""
    assert [row["dimensions"] for row in pair] == [row["dimensions"] for row in single], query
    for ours, theirs in zip(pair, single, strict=True):
        for name, a, b in zip(query["metrics"], ours["metrics"], theirs["metrics"], strict=True):
            if name == "visit_duration":
                assert abs(a - b) <= 1, (query, ours, theirs)
            else:
                assert a == b, (query, name, ours, theirs)


def _pageviews_stored(server: LiveServer, key: str, expected: int) -> bool:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:  # each process's write buffer flushes every second
        if _report(server, key, {"metrics": ["pageviews"]})[0]["metrics"][0] == expected:
            return True
        time.sleep(0.5)
    return False


def test_two_processes_report_what_one_reports(
    tmp_path: Path,
    clickhouse_endpoint: ClickHouseEndpoint,
    postgres_url: str,
    redis_prefix: str,
) -> None:
    single_seed, seed = seed_site(), seed_site()
    single_settings = make_settings(tmp_path / "single")
    _seed(single_settings, single_seed)
    with clickhouse_endpoint.database() as clickhouse_url:
        env = {
            "JETRACK_DATABASE_URL": postgres_url,
            "JETRACK_CLICKHOUSE_URL": clickhouse_url,
            "JETRACK_REDIS_URL": REDIS_URL,
            "JETRACK_REDIS_PREFIX": redis_prefix,
            **TRUSTED,
        }
        # The three start side by side; the pair on empty databases, so they migrate both
        # at once (one after the other: the migration lock).
        with ThreadPoolExecutor(3) as starting:
            started = [
                starting.submit(start_server, tmp_path / "a", {**env, "JETRACK_WORKERS": "2"}),
                starting.submit(start_server, tmp_path / "b", env),
                starting.submit(start_server, single_settings.data_dir, TRUSTED),
            ]
            servers = [future.result() for future in started]
        pair, single = servers[:2], servers[2]
        _seed(make_settings(tmp_path / "seed", database_url=postgres_url,
                            clickhouse_url=clickhouse_url), seed)  # fmt: skip
        # A new connection per request to the --workers server: the kernel hands each to
        # either of its processes.
        fresh = httpx.Limits(max_keepalive_connections=0)
        clients = [
            httpx.Client(base_url=servers[0].url, timeout=10, limits=fresh),
            *(httpx.Client(base_url=server.url, timeout=10) for server in servers[1:]),
        ]
        try:
            for turn in range(max(len(events) for events in VISITS)):
                for visitor, events in enumerate(VISITS):
                    if turn >= len(events):
                        continue
                    if time.time() % 1 > 0.8:  # both copies of an event in the same second
                        time.sleep(1.02 - time.time() % 1)
                    # The visitor's events alternate between the two servers.
                    _send(clients[(turn + visitor) % 2], visitor, *events[turn])
                    _send(clients[2], visitor, *events[turn])
                time.sleep(1.0)
            pageviews = sum(1 for events in VISITS for name, _ in events if name == "pageview")
            assert _pageviews_stored(pair[1], seed.key, pageviews)
            assert _pageviews_stored(single, single_seed.key, pageviews)
            for query in QUERIES:
                _assert_same(
                    _report(pair[0], seed.key, query),
                    _report(single, single_seed.key, query),
                    query,
                )
            # The figures themselves, so that two equally wrong answers fail too.
            overall = _report(pair[1], seed.key, {"metrics": METRICS})[0]["metrics"]
            assert overall[:3] == [7, 7, pageviews]
            assert overall[4] == 29  # 2 bounces of 7 visits (29%)
            assert overall[5] > 0  # visits of several rounds last seconds
            exits = _report(pair[0], seed.key, QUERIES[2])
            assert {tuple(row["dimensions"]): row["metrics"][0] for row in exits} == {
                ("/",): 2, ("/blog",): 1, ("/docs",): 1, ("/docs/api",): 1,
                ("/pricing",): 1, ("/thanks",): 1,
            }  # fmt: skip
        finally:
            for client in clients:
                client.close()
            for server in servers:
                server.stop()
        # Both processes of the --workers server served events (their journals' keys).
        for worker in ("0", "1"):
            assert (tmp_path / "a" / "workers" / worker / "journal").is_dir()
