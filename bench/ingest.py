"""Ingest benchmark: a real `jetrack serve`, a realistic event mix sent by wrk from another
process, and the figures that matter: events/s acknowledged AND stored, latency, peak RSS.

    .venv/bin/python bench/ingest.py [--seconds 60] [--connections 64] [--server uvicorn|granian|both]
        [--mix visits|random] [--env JETRACK_X=value] [--workers N]

The defaults are what docs/benchmarks.md reports: a sustained minute of the visits mix
against the default server (uvicorn). `--workers N` (N > 1) runs `jetrack serve --workers N`
in the shared mode (`--shared`: the shared mode with one process): PostgreSQL and Redis on loopback and, as the ClickHouse server, the
loopback endpoint of tests/support/clickhouse_http.py (ClickHouse's HTTP interface over
chDB, in a process of its own); events are then counted in the event store, since each
process's /metrics counts its own.

Needs wrk (Debian package `wrk`; installed if missing). Loopback only, bounded in time.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import httpx
import redis
from sqlalchemy import create_engine, select, text

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.conftest import (  # noqa: E402
    POSTGRES_ADMIN_URL,
    REDIS_URL,
    LiveServer,
    make_settings,
    seed_site,
    start_server,
)
from tests.support.clickhouse_http import SpawnedEndpoint, spawn_endpoint  # noqa: E402

from jetrack.sites.sites import add_site  # noqa: E402
from jetrack.store.models import User  # noqa: E402
from jetrack.store.stores import open_stores  # noqa: E402

BROWSERS = [
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/{v}.0.{b}.{c} Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/{s}.1 Safari/605.1.15",
    "Mozilla/5.0 (iPhone; CPU iPhone OS {i}_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/{i}.1 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Linux; Android {a}; Pixel {p}) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/{v}.0.{b}.{c} Mobile Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:{f}.0) Gecko/20100101 Firefox/{f}.0",
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/{v}.0.0.0 Safari/537.36 Edg/{v}.0.0.0",
    "Mozilla/5.0 (iPad; CPU OS {i}_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/{i}.0 Mobile/15E148 Safari/604.1",
]
REFERRERS = [
    "",
    "",
    "",
    "https://www.google.com/",
    "https://news.ycombinator.com/",
    "https://www.reddit.com/r/webdev/",
    "https://t.co/abc",
    "https://duckduckgo.com/",
    "https://github.com/someone/repo",
    "https://chatgpt.com/",
    "https://www.bing.com/search",
    "https://blog.example.net/post-{n}",
]
UTM = [
    "",
    "",
    "",
    "",
    "?utm_source=newsletter&utm_medium=email&utm_campaign=week{n}",
    "?utm_source=twitter&utm_medium=social",
    "?gclid=abc{n}",
    "?ref=producthunt",
]


def user_agents(count: int, rng: random.Random) -> list[str]:
    agents = set()
    while len(agents) < count:
        template = rng.choice(BROWSERS)
        agents.add(
            template.format(
                v=rng.randint(100, 131),
                s=rng.randint(14, 18),
                i=rng.randint(15, 18),
                a=rng.randint(10, 15),
                p=rng.randint(5, 9),
                f=rng.randint(110, 133),
                b=rng.randint(6000, 6800),
                c=rng.randint(0, 200),
            )
        )
    return sorted(agents)


def requests_file(
    path: Path, domains: list[str], count: int, seed: int = 1, mix_kind: str = "visits"
) -> None:
    """A JSON list of {ua, ip, body} that the wrk script cycles through.

    `visits` (the default): visitors browse, as a tracker reports them. Each visit makes
    1 to ~8 pageviews (2.6 on average), an engagement event after half of them (same page,
    sent later) and a custom event now and then; ~500 visits are under way at once, so
    their events interleave. `random`: the mix of earlier sessions' figures, every event from
    a new visitor (its engagement events are dropped: no pageview came before them)."""
    rng = random.Random(seed)
    agents = user_agents(2000, rng)
    pages = [
        f"/{section}/{n}"
        for section in ("blog", "docs", "pricing", "product", "about")
        for n in range(200)
    ]

    def page() -> str:
        if rng.random() < 0.7:
            return pages[min(int(rng.paretovariate(1.2)) - 1, len(pages) - 1)]
        return rng.choice(pages)

    def address() -> str:
        return f"{rng.randint(1, 223)}.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}"

    def request(ua: str, ip: str, body: dict[str, object]) -> dict[str, str]:
        return {"ua": ua, "ip": ip, "body": json.dumps(body, separators=(",", ":"))}

    def event(
        name: str, domain: str, url: str, referrer: str | None, width: int
    ) -> dict[str, object]:
        body: dict[str, object] = {"n": name, "u": url, "d": domain, "r": referrer, "w": width}
        if name == "engagement":
            body.update(sd=rng.randint(10, 100), e=rng.randint(500, 90000))
        if name == "Signup":
            body["p"] = {"plan": rng.choice(["free", "pro", "team"])}
        return body

    mix: list[dict[str, str]] = []
    if mix_kind == "random":
        while len(mix) < count:
            name = rng.choices(["pageview", "engagement", "Signup"], [0.85, 0.12, 0.03])[0]
            domain = domains[0] if rng.random() < 0.5 else rng.choice(domains)
            url = f"https://{domain}{page()}{rng.choice(UTM).format(n=rng.randint(1, 40))}"
            referrer = rng.choice(REFERRERS).format(n=rng.randint(1, 300)) or None
            width = rng.choice([390, 414, 768, 1280, 1440, 1920])
            mix.append(
                request(rng.choice(agents), address(), event(name, domain, url, referrer, width))
            )
    else:
        # Each visit is a queue of its events; the mix takes the next event of a random visit.
        under_way: list[list[dict[str, str]]] = []
        while len(mix) < count:
            while len(under_way) < 500:
                ua, ip = rng.choice(agents), address()
                domain = domains[0] if rng.random() < 0.5 else rng.choice(domains)
                width = rng.choice([390, 414, 768, 1280, 1440, 1920])
                referrer = rng.choice(REFERRERS).format(n=rng.randint(1, 300)) or None
                campaign = rng.choice(UTM).format(n=rng.randint(1, 40))
                visit = []
                for number in range(min(int(rng.expovariate(1 / 2.6)) + 1, 8)):
                    url = f"https://{domain}{page()}{campaign if number == 0 else ''}"
                    visit.append(request(ua, ip, event("pageview", domain, url, referrer, width)))
                    if rng.random() < 0.5:
                        visit.append(
                            request(ua, ip, event("engagement", domain, url, referrer, width))
                        )
                    if rng.random() < 0.04:
                        visit.append(request(ua, ip, event("Signup", domain, url, referrer, width)))
                    referrer = url  # the next page's referrer: this one (a self-referral)
                under_way.append(visit)
            visit = rng.choice(under_way)
            mix.append(visit.pop(0))
            if not visit:
                under_way.remove(visit)
    path.write_text(json.dumps(mix[:count]))


# /metrics answers only with its token (JETRACK_METRICS_TOKEN).
METRICS_TOKEN = "bench-metrics-token"
METRICS_AUTH = {"Authorization": f"Bearer {METRICS_TOKEN}"}

WRK_SCRIPT = r"""
local cjson_ok, cjson = pcall(require, "cjson")
local reqs = {}
local idx = 0
function init(args)
  local f = io.open(args[1], "r")
  local text = f:read("*a")
  f:close()
  -- a tiny line format written by the bench: ua \t ip \t body per line
  for line in text:gmatch("[^\n]+") do
    local ua, ip, body = line:match("([^\t]*)\t([^\t]*)\t(.*)")
    reqs[#reqs + 1] = wrk.format("POST", "/api/event",
      {["User-Agent"] = ua, ["X-Forwarded-For"] = ip, ["Content-Type"] = "text/plain"}, body)
  end
  idx = math.random(#reqs)
end
function request()
  idx = idx % #reqs + 1
  return reqs[idx]
end
"""


def server_cpu_seconds(pid: int) -> float:
    import psutil

    proc = psutil.Process(pid)
    total = 0.0
    for each in (proc, *proc.children(recursive=True)):
        times = each.cpu_times()
        total += times.user + times.system
    return total


@dataclass
class SharedBackends:
    """PostgreSQL, Redis and the loopback ClickHouse endpoint of a `--workers` run."""

    endpoint: SpawnedEndpoint
    clickhouse_url: str
    database_url: str
    redis_prefix: str

    @classmethod
    def start(cls, work: Path) -> SharedBackends:
        name = f"jetrack_bench_{uuid.uuid4().hex[:8]}"
        admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
        endpoint = spawn_endpoint(work / "clickhouse")
        httpx.post(endpoint.url + "/", content=b"CREATE DATABASE bench", timeout=60)
        return cls(
            endpoint, endpoint.url + "/bench",
            f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}", f"{name}:",
        )  # fmt: skip

    def env(self, workers: int) -> dict[str, str]:
        return {
            "JETRACK_WORKERS": str(workers),
            "JETRACK_DATABASE_URL": self.database_url,
            "JETRACK_CLICKHOUSE_URL": self.clickhouse_url,
            "JETRACK_REDIS_URL": REDIS_URL,
            "JETRACK_REDIS_PREFIX": self.redis_prefix,
        }

    def cpu_seconds(self) -> dict[str, float]:
        """CPU time so far of the ClickHouse endpoint and of the Redis server."""
        import psutil

        spent = {"clickhouse_endpoint": server_cpu_seconds(self.endpoint.process.pid)}
        for proc in psutil.process_iter(["name"]):
            if proc.info["name"] == "redis-server":
                times = proc.cpu_times()
                spent["redis"] = times.user + times.system
        return spent

    def stored_events(self) -> int:
        """The events table's count once it stops growing (every write buffer drained)."""
        last, same = -1, 0
        while same < 3:
            answer = httpx.post(
                self.endpoint.url + "/", content=b"SELECT count() FROM bench.events", timeout=60
            )
            count = int(answer.text.strip())
            same = same + 1 if count == last else 0
            last = count
            time.sleep(0.5)
        return last

    def visits_checked(self) -> dict[str, int]:
        """Visits in the sessions table, and those whose row (FINAL) does not hold the
        visit's pageviews and events counted from the events table: with the processes
        sharing visits, none."""
        sql = b"""
            SELECT count(), countIf(s.pageviews != e.pageviews OR s.events != e.events)
            FROM (SELECT site_id, session_id, pageviews, events FROM bench.sessions FINAL) AS s
            LEFT JOIN (SELECT site_id, session_id, countIf(name = 'pageview') AS pageviews,
                              countIf(name NOT IN ('pageview', 'engagement')) AS events
                       FROM bench.events GROUP BY site_id, session_id) AS e
            USING (site_id, session_id)"""
        answer = httpx.post(self.endpoint.url + "/", content=sql, timeout=120)
        visits, wrong = answer.text.split()
        return {"visits": int(visits), "visits_not_matching_events": int(wrong)}

    def stop(self) -> None:
        self.endpoint.stop()
        admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            name = self.database_url.rsplit("/", 1)[1]
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
        client = redis.Redis.from_url(REDIS_URL)
        keys = list(client.scan_iter(match=self.redis_prefix + "*", count=1000))
        if keys:
            client.delete(*keys)


def seed_sites(data_dir: Path, domains: list[str], urls: tuple[str, str] | None) -> None:
    """The sites of `domains` in a new data dir (or the shared mode's databases)."""
    settings = (
        make_settings(data_dir, database_url=urls[0], clickhouse_url=urls[1])
        if urls
        else make_settings(data_dir)
    )
    stores = open_stores(settings)
    try:
        seed_site(domains[0])(stores)
        with stores.control.session() as session:
            owner = session.scalars(select(User)).one()
            for domain in domains[1:]:
                add_site(session, owner, domain)
    finally:
        stores.close()


def run(
    seconds: int,
    connections: int,
    server_kind: str,
    events: int,
    env: dict[str, str] | None = None,
    mix_kind: str = "visits",
    launch: Callable[[Path, dict[str, str]], LiveServer] = start_server,
    workers: int = 1,
    shared_mode: bool = False,
) -> dict[str, object]:
    """One load run; `launch` starts the server (bench/memory.py starts it in a cgroup)."""
    if shutil.which("wrk") is None:
        subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], check=True)
    work = Path(tempfile.mkdtemp(prefix="jetrack-bench-"))
    data_dir = work / "data"
    domains = [f"site{n}.example" for n in range(20)]
    shared = SharedBackends.start(work) if workers > 1 or shared_mode else None
    env = {**(env or {}), **(shared.env(workers) if shared else {})}
    urls = (shared.database_url, shared.clickhouse_url) if shared else None
    # In a process of its own: this one keeps no page of chDB's library that the server
    # then maps too (the server's own pages are what the peak should count).
    seeding = multiprocessing.get_context("spawn").Process(
        target=seed_sites, args=(data_dir, domains, urls)
    )
    seeding.start()
    seeding.join()
    if seeding.exitcode != 0:
        raise SystemExit(f"seeding the sites failed (exit code {seeding.exitcode})")

    mix_json = work / "mix.json"
    requests_file(mix_json, domains, events, mix_kind=mix_kind)
    lines = work / "mix.tsv"
    lines.write_text(
        "\n".join(f"{m['ua']}\t{m['ip']}\t{m['body']}" for m in json.loads(mix_json.read_text()))
    )
    script = work / "mix.lua"
    script.write_text(WRK_SCRIPT)

    server = launch(
        data_dir,
        {
            "JETRACK_TRUSTED_PROXIES": "127.0.0.1/32",
            "JETRACK_LOG_LEVEL": "warning",
            "JETRACK_SERVER": server_kind,
            "JETRACK_GEO_DIR": str(ROOT / "geo"),
            "JETRACK_METRICS_TOKEN": METRICS_TOKEN,
            **(env or {}),
        },
    )
    url = server.url
    peak_rss = [0]
    stop = threading.Event()

    def watch_rss() -> None:
        import psutil

        proc = psutil.Process(server.process.pid)
        while not stop.is_set():
            try:
                rss = proc.memory_info().rss + sum(
                    c.memory_info().rss for c in proc.children(recursive=True)
                )
            except psutil.Error:
                return
            peak_rss[0] = max(peak_rss[0], rss)
            time.sleep(0.2)

    watcher = threading.Thread(target=watch_rss)
    watcher.start()
    cpu_before = server_cpu_seconds(server.process.pid)
    backends_before = shared.cpu_seconds() if shared else {}
    started = time.monotonic()
    wrk = subprocess.run(
        [
            "wrk",
            "-t2",
            f"-c{connections}",
            f"-d{seconds}s",
            "--latency",
            "-s",
            str(script),
            url,
            "--",
            str(lines),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    cpu_during_load = server_cpu_seconds(server.process.pid) - cpu_before
    # Cores the shared backends kept busy while wrk ran (is the endpoint the bound?).
    backends_busy = (
        {
            name: round((spent - backends_before[name]) / seconds, 2)
            for name, spent in shared.cpu_seconds().items()
        }
        if shared
        else {}
    )
    # Stored = in the event store, not just acknowledged: wait for the buffer to drain.
    metrics = ""
    for _ in range(300):
        if server.process.poll() is not None:  # killed (out of memory, say)
            break
        metrics = httpx.get(url + "/metrics", headers=METRICS_AUTH).text
        if re.search(r"jetrack_write_buffer_pending 0\b", metrics):
            break
        time.sleep(0.1)
    if shared is not None:
        stored_in_store = shared.stored_events()
        visits_checked = shared.visits_checked()
    elapsed_until_stored = time.monotonic() - started
    stop.set()
    watcher.join()
    server_exit = server.process.poll()
    server.stop()
    if shared is not None:
        shared.stop()
    if server_exit is not None:
        shutil.rmtree(work, ignore_errors=True)
        return {"server": server_kind, "mix": mix_kind, "server_exit": server_exit,
                "peak_rss_mb": round(peak_rss[0] / 2**20)}  # fmt: skip

    counts = dict(re.findall(r'jetrack_events_total\{outcome="(\w+)"\} (\d+)', metrics))
    if shared is not None:
        counts = {"one_process_of": str(workers), **counts}  # /metrics is one process's
        stored = stored_in_store
    else:
        stored = int(re.search(r"jetrack_events_stored_total (\d+)", metrics).group(1))  # type: ignore[union-attr]
    requests = int(re.search(r"(\d+) requests in", wrk.stdout).group(1))  # type: ignore[union-attr]
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", wrk.stdout)
    latency = dict(re.findall(r"^\s+(50|75|90|99)%\s+(\S+)", wrk.stdout, re.M))
    result = {
        "server": server_kind,
        "workers": workers,
        "mix": mix_kind,
        "connections": connections,
        "seconds": seconds,
        "requests_acknowledged": requests - (int(non2xx.group(1)) if non2xx else 0),
        "events_stored": stored,
        "outcomes": counts,
        "acknowledged_per_s": round(requests / seconds),
        "stored_per_s_end_to_end": round(stored / elapsed_until_stored),
        "latency_p50": latency.get("50"),
        "latency_p99": latency.get("99"),
        "peak_rss_mb": round(peak_rss[0] / 2**20),
        "server_exit": server_exit,
        # Visit state at the end (the bound: JETRACK_MAX_LIVE_VISITS); absent on old builds.
        "visits": dict(re.findall(r"^jetrack_(\w*visits\w*) (\d+)(?:\.0)?$", metrics, re.M)),
        # CPU time of the server (all its threads) per request while wrk ran: steadier than
        # requests/s when other work shares the machine's cores.
        "server_cpu_us_per_request": round(cpu_during_load / requests * 1e6, 1),
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "backend_cores_busy": backends_busy,
        "shared_visits_checked": visits_checked if shared else {},
    }
    shutil.rmtree(work, ignore_errors=True)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--server", choices=["uvicorn", "granian", "both"], default="uvicorn")
    parser.add_argument("--events", type=int, default=20000, help="distinct requests in the mix")
    parser.add_argument(
        "--mix", choices=["visits", "random"], default="visits", help="see requests_file"
    )
    parser.add_argument(
        "--env", action="append", default=[], metavar="JETRACK_X=value", help="server setting"
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=1,
        help="processes (shared mode with PostgreSQL, Redis and the endpoint)",
    )
    parser.add_argument(
        "--shared", action="store_true", help="the shared mode even with one process"
    )
    args = parser.parse_args()
    env = dict(item.split("=", 1) for item in args.env)
    kinds = ["uvicorn", "granian"] if args.server == "both" else [args.server]
    for kind in kinds:
        print(
            json.dumps(
                run(
                    args.seconds,
                    args.connections,
                    kind,
                    args.events,
                    env,
                    args.mix,
                    workers=args.workers,
                    shared_mode=args.shared,
                ),
                indent=2,
            )
        )


if __name__ == "__main__":
    main()
