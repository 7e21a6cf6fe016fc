"""A real server: SIGKILL under load loses no acknowledged event and stores none twice;
visitors' IP addresses end up in no file and no log line."""

from __future__ import annotations

import ipaddress
import signal
import threading
import time
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path

import httpx
import pytest

from jetrack.imports.foreground import run_in_foreground
from jetrack.store.models import Site
from jetrack.store.stores import Stores, open_stores
from tests.conftest import (
    EVENT_BACKENDS,
    METRICS_AUTH,
    ClickHouseEndpoint,
    LiveServer,
    make_settings,
    seed_site,
    start_server,
)
from tests.ingest.conftest import CHROME

EVENT = {"n": "pageview", "u": "https://example.com/load", "d": "example.com"}


def _send_until(
    server: LiveServer, acked: set[int], stop: threading.Event, start: int, step: int
) -> None:
    seq = start
    with httpx.Client(base_url=server.url, headers={"User-Agent": CHROME}, timeout=5) as client:
        while not stop.is_set():
            try:
                response = client.post("/api/event", json={**EVENT, "p": {"seq": seq}})
            except httpx.HTTPError:
                return  # the server is gone
            if response.status_code == 202:
                acked.add(seq)
            seq += step


def _stored_counts(data_dir: Path, clickhouse_url: str | None = None) -> dict[int, int]:
    stores = open_stores(make_settings(data_dir, clickhouse_url=clickhouse_url))
    try:
        result = stores.events.query(
            "SELECT toUInt64(props['seq']) AS seq, count() FROM events WHERE has(mapKeys(props), 'seq') GROUP BY seq"
        )
        return {int(seq): int(count) for seq, count in result.rows}
    finally:
        stores.close()


@pytest.mark.slow
@pytest.mark.parametrize("backend", EVENT_BACKENDS)
def test_sigkill_under_load_keeps_every_acknowledged_event_once(
    live_server_factory: Callable[..., LiveServer], request: pytest.FixtureRequest, backend: str
) -> None:
    """On a ClickHouse server too: the replay's deduplication tokens reach it over HTTP."""
    with ExitStack() as cleanup:
        url = None
        if backend == "server":
            endpoint: ClickHouseEndpoint = request.getfixturevalue("clickhouse_endpoint")
            url = cleanup.enter_context(endpoint.database())
        _kill_under_load_and_replay(live_server_factory, url)


def _kill_under_load_and_replay(
    live_server_factory: Callable[..., LiveServer], url: str | None
) -> None:
    backend_env = {"JETRACK_CLICKHOUSE_URL": url} if url else {}
    server = live_server_factory(
        seed_site(), env={"JETRACK_FLUSH_INTERVAL_SECONDS": "0.3", **backend_env}
    )
    acked: set[int] = set()
    stop = threading.Event()
    senders = [
        threading.Thread(target=_send_until, args=(server, acked, stop, i, 4)) for i in range(4)
    ]
    for sender in senders:
        sender.start()
    deadline = time.monotonic() + 60
    while len(acked) < 3000 and time.monotonic() < deadline:
        time.sleep(0.05)
    server.stop(signal.SIGKILL)  # mid-flush, mid-request, whatever it was doing
    stop.set()
    for sender in senders:
        sender.join()
    assert len(acked) >= 3000
    journal = list((server.data_dir / "journal").glob("*.journal"))
    assert journal, "the kill should leave journaled, unflushed events behind"

    restarted = start_server(server.data_dir, backend_env)  # replays the journal first
    restarted.stop()
    counts = _stored_counts(server.data_dir, url)
    missing = acked - counts.keys()
    duplicated = {seq: n for seq, n in counts.items() if n != 1}
    assert missing == set()
    assert duplicated == {}
    assert not list((server.data_dir / "journal").glob("*.journal"))


def find_site_row(stores: Stores, domain: str) -> Site:
    from jetrack.sites.sites import find_site

    with stores.control.session() as session:
        site = find_site(session, domain)
        assert site is not None
        session.expunge(site)
        return site


DISTINCTIVE = ["198.51.100.77", "203.0.113.199", "81.2.69.142", "2001:db8:4242:5151::99"]


def _forms(address: str) -> list[bytes]:
    ip = ipaddress.ip_address(address)
    forms = {address.encode(), ip.packed, ip.exploded.encode()}
    if ip.version == 4:
        forms.add(int(ip).to_bytes(4, "little"))
        forms.add(str(int(ip)).encode())
    else:
        forms.add(ip.compressed.encode())
    return sorted(forms)


def test_ip_addresses_are_in_no_file_and_no_log(
    live_server_factory: Callable[..., LiveServer], tmp_path: Path
) -> None:
    def seed(stores: Stores) -> None:
        seed_site()(stores)
        from tests.ingest.conftest import configure_site

        configure_site(stores, "example.com", shields={"blocked_ips": ["203.0.113.199/32"]})

    server = live_server_factory(
        seed, env={"JETRACK_TRUSTED_PROXIES": "127.0.0.1/32,::1/128", "JETRACK_LOG_LEVEL": "debug"}
    )
    with httpx.Client(base_url=server.url, headers={"User-Agent": CHROME}) as client:
        for address in DISTINCTIVE:
            for path in ("/", "/pricing"):
                ok = client.post(
                    "/api/event",
                    json={**EVENT, "u": "https://example.com" + path},
                    headers={"X-Forwarded-For": f"{address}, 127.0.0.1"},
                )
                assert ok.status_code == 202
            bad = client.post(
                "/api/event", content=b"{broken", headers={"X-Forwarded-For": address}
            )
            assert bad.status_code == 400
            bot = client.post(
                "/api/event",
                json=EVENT,
                headers={"X-Forwarded-For": address, "User-Agent": "curl/8.0"},
            )
            assert bot.headers["x-jetrack-dropped"] in ("bot_ua", "shield_ip")
        journal_files = list((server.data_dir / "journal").glob("*"))
        deadline = time.monotonic() + 30
        while (
            "jetrack_events_stored_total 6.0\n"
            not in client.get("/metrics", headers=METRICS_AUTH).text
        ):  # one is shielded
            assert time.monotonic() < deadline
            time.sleep(0.1)
    server.stop()

    # The same addresses in an access log imported into the same data dir (the log itself
    # is the operator's file, outside it).
    access_log = tmp_path / "access.log"
    access_log.write_text(
        "".join(
            f'{address} - - [05/Mar/2024:10:0{i}:00 +0000] "GET {path} HTTP/1.1" 200 5 "-" "{CHROME}"\n'
            for i, address in enumerate(DISTINCTIVE)
            for path in ("/", "/pricing")
        )
    )
    stores = open_stores(make_settings(server.data_dir))
    try:
        site = find_site_row(stores, "example.com")
        params = {"paths": [str(access_log)], "format": "combined"}
        imported = run_in_foreground(stores, site, "access-log", "access.log", params)
        assert (imported.rows, imported.skipped) == (6, {"shield_ip": 2})  # the shield holds
        countries = stores.events.query(
            "SELECT DISTINCT import_id > 0, country_code FROM events ORDER BY 1, 2"
        ).rows
    finally:
        stores.close()
    # the addresses were really used, for the country, live and imported
    assert (0, "GB") in countries and (1, "GB") in countries

    files = [p for p in server.data_dir.rglob("*") if p.is_file()] + [server.log_path]
    assert len(files) > 10 and journal_files
    found = []
    for file in files:
        content = file.read_bytes()
        for address in DISTINCTIVE:
            found += [(str(file), address, form) for form in _forms(address) if form in content]
    assert found == []
