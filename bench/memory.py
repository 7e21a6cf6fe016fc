"""Memory benchmark: `jetrack serve` on a migrated data dir with the demo site, optionally
inside a memory-limited cgroup (a container's limit), its RSS idle after a few dashboard
loads, then its peak under bench/ingest.py's load (every mix), and whether it survived.

    .venv/bin/python bench/memory.py [--limit 512M] [--env JETRACK_LOW_MEMORY=1]
        [--seconds 20] [--mix visits --mix random] [--query-events 10000000]

With `--limit`, the server runs in a child cgroup of this process's own (cgroup v2:
memory.max and memory.swap.max; v1: memory.limit_in_bytes and memsw), so going past the
limit gets it OOM-killed as in a container; `--query-events N` then also runs
bench/query.py (N events) in such a cgroup with the same settings. Needs root for the
cgroup, Chromium for the dashboard loads and wrk for the load. Loopback only, bounded in
time. Idle RSS is the server's (all its processes) from /proc after its start-up jobs and 60 s without requests.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
from sqlalchemy import func, select

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench import ingest  # noqa: E402
from bench.dashboard_paint import STATS_READY, logged_in_page  # noqa: E402
from tests.conftest import (  # noqa: E402
    CHROMIUM,
    CHROMIUM_ARGS,
    TEST_KEY,
    LiveServer,
    make_settings,
    start_server,
)

# Without requests or jobs for this long: the server gives memory back after 20 s idle
# (jobs/idle_memory.py) and checks every 5 s.
IDLE_SECONDS = 60


class Cgroup:
    """A child of this process's memory cgroup with a hard limit and no swap."""

    def __init__(self, limit: str) -> None:
        self.limit = limit
        own = Path("/proc/self/cgroup").read_text().splitlines()
        v1 = [line.split(":", 2)[2] for line in own if line.split(":", 2)[1] == "memory"]
        name = f"jetrack-bench-{os.getpid()}"
        if v1:
            self.v2 = False
            self.path = Path("/sys/fs/cgroup/memory") / v1[0].lstrip("/") / name
        else:
            self.v2 = True
            base = Path("/sys/fs/cgroup") / own[0].split(":", 2)[2].lstrip("/")
            self.path = base / name
        self.path.mkdir()
        if self.v2:
            (self.path / "memory.max").write_text(limit)
            (self.path / "memory.swap.max").write_text("0")
        else:
            (self.path / "memory.limit_in_bytes").write_text(limit)
            with contextlib.suppress(OSError):  # no swap accounting: no swap to limit
                (self.path / "memory.memsw.limit_in_bytes").write_text(limit)
        self._home = Path("/proc/self/cgroup")

    @contextlib.contextmanager
    def entered(self) -> Iterator[None]:
        """This process inside the cgroup meanwhile: what it starts stays there."""
        home = self.path.parent
        (self.path / "cgroup.procs").write_text(str(os.getpid()))
        try:
            yield
        finally:
            (home / "cgroup.procs").write_text(str(os.getpid()))

    def peak_bytes(self) -> int:
        name = "memory.peak" if self.v2 else "memory.max_usage_in_bytes"
        try:
            return int((self.path / name).read_text())
        except OSError:
            return 0

    def oom_kills(self) -> int:
        if self.v2:
            events = (self.path / "memory.events").read_text()
        else:
            events = (self.path / "memory.oom_control").read_text()
        found = re.search(r"oom_kill (\d+)", events)
        return int(found.group(1)) if found else 0

    def remove(self) -> None:
        for _ in range(50):
            try:
                self.path.rmdir()
                return
            except OSError:
                time.sleep(0.1)


def rss_bytes(pid: int) -> int:
    proc = psutil.Process(pid)
    return sum(p.memory_info().rss for p in (proc, *proc.children(recursive=True)))


def smaps_summary(pid: int) -> dict[str, int]:
    """The server process's resident MB by kind (anonymous vs file-backed)."""
    totals = {"anon_mb": 0, "file_mb": 0}
    text = Path(f"/proc/{pid}/smaps_rollup").read_text()
    fields = dict(re.findall(r"^(\w+):\s+(\d+) kB", text, re.M))
    totals["anon_mb"] = int(fields.get("Anonymous", 0)) // 1024
    totals["file_mb"] = (int(fields.get("Rss", 0)) - int(fields.get("Anonymous", 0))) // 1024
    return totals


def prepare_demo(data_dir: Path, env: dict[str, str]) -> tuple[str, str]:
    """Migrate a fresh data dir and seed the demo site; returns its login."""
    full = {**os.environ, **env, "JETRACK_DATA_DIR": str(data_dir)}
    full["JETRACK_ENCRYPTION_KEY"] = TEST_KEY
    full["PYTHONPATH"] = str(ROOT / "src")
    cli = [sys.executable, "-m", "jetrack.cli"]
    subprocess.run([*cli, "migrate"], env=full, check=True, capture_output=True)
    out = subprocess.run([*cli, "demo"], env=full, check=True, capture_output=True, text=True)
    found = re.search(r"Log in as (\S+) with password (\S+)", out.stdout)
    assert found, out.stdout[-500:]
    return found.group(1), found.group(2)


def load_dashboards(url: str, email: str, password: str, loads: int) -> float:
    """Log in with Chromium and load the demo dashboard `loads` times; median ms."""
    from playwright.sync_api import sync_playwright

    took = []
    with sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        page = logged_in_page(browser, url, email, password)
        for _ in range(loads):
            page.goto(url + "/sites/demo.jetrack.local")
            page.wait_for_function(STATS_READY, timeout=120_000)
            page.wait_for_load_state("networkidle")
            took.append(page.evaluate("performance.now()"))
        browser.close()
    return statistics.median(took)


def wait_for_jobs(data_dir: Path, most: float = 600) -> float:
    """Wait until the server's queued and running jobs are done (a fresh data dir's first
    hourly rollups: the demo's 30 days); seconds waited."""
    from jetrack.store.models import Job, utcnow
    from jetrack.store.stores import open_control_only

    control = open_control_only(make_settings(data_dir))
    started = time.monotonic()
    try:
        while time.monotonic() - started < most:
            with control.session() as session:
                due = (Job.state == "queued") & (Job.run_after <= utcnow())
                busy = session.scalar(select(func.count()).where(due | (Job.state == "running")))
            if not busy:
                break
            time.sleep(2)
    finally:
        control.close()
    return time.monotonic() - started


def idle_figures(
    data_dir: Path, env: dict[str, str], cgroup: Cgroup | None, loads: int
) -> dict[str, object]:
    email, password = prepare_demo(data_dir, env)
    launch = cgroup.entered() if cgroup else contextlib.nullcontext()
    with launch:
        server = start_server(data_dir, {"JETRACK_LOG_LEVEL": "warning", **env})
    try:
        started_rss = rss_bytes(server.process.pid)
        dashboard_ms = load_dashboards(server.url, email, password, loads)
        busy = wait_for_jobs(data_dir)
        series = []
        for _ in range(IDLE_SECONDS // 5):
            time.sleep(5)
            series.append(round(rss_bytes(server.process.pid) / 2**20))
        return {
            "idle_rss_every_5s_mb": series,
            "rss_after_start_mb": round(started_rss / 2**20),
            "dashboard_load_ms_median": round(dashboard_ms),
            "start_up_jobs_s_after_loads": round(busy),
            "idle_rss_mb": round(rss_bytes(server.process.pid) / 2**20),
            **smaps_summary(server.process.pid),
            "survived": server.process.poll() is None,
        }
    finally:
        server.stop()


def ingest_figures(
    env: dict[str, str], cgroup: Cgroup | None, mix: str, seconds: int
) -> dict[str, object]:
    def launch(data_dir: Path, extra: dict[str, str]) -> LiveServer:
        with cgroup.entered() if cgroup else contextlib.nullcontext():
            return start_server(data_dir, extra)

    try:
        result = ingest.run(seconds, 64, "uvicorn", 20000, env, mix, launch=launch)
    except (subprocess.CalledProcessError, RuntimeError, AttributeError) as exc:
        return {"mix": mix, "survived": False, "error": str(exc)[:300]}
    if result["server_exit"] is not None:
        return {"mix": mix, "survived": False, **result}
    keys = (
        "mix",
        "acknowledged_per_s",
        "stored_per_s_end_to_end",
        "latency_p50",
        "latency_p99",
        "peak_rss_mb",
        "server_cpu_us_per_request",
        "load_average",
    )
    figures: dict[str, object] = {key: result[key] for key in keys}
    figures["survived"] = True
    return figures


def query_figures(env: dict[str, str], cgroup: Cgroup | None, events: int) -> dict[str, object]:
    """bench/query.py with `events` events (a fifth on the big site), in the cgroup."""
    full = {**os.environ, **env, "PYTHONPATH": f"{ROOT / 'src'}:{ROOT}"}
    command = [
        sys.executable,
        str(ROOT / "bench" / "query.py"),
        f"--events={events}",
        f"--big={events // 5}",
        "--runs=5",
    ]
    peak = [0]
    with cgroup.entered() if cgroup else contextlib.nullcontext():
        process = subprocess.Popen(command, env=full, stdout=subprocess.PIPE, text=True)
    while process.poll() is None:
        with contextlib.suppress(psutil.Error):
            peak[0] = max(peak[0], rss_bytes(process.pid))
        time.sleep(0.2)
    output = process.stdout.read() if process.stdout else ""
    whole = re.findall(r"^\s+whole\s+(\S+)", output, re.M)
    return {
        "events": events,
        "survived": process.returncode == 0,
        "exit": process.returncode,
        "peak_rss_mb": round(peak[0] / 2**20),
        "dashboard_p50_ms_utc": whole[0] if whole else None,
        "tail": output.strip().splitlines()[-3:],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--limit", help="cgroup memory limit for the server, e.g. 512M")
    parser.add_argument("--seconds", type=int, default=20, help="ingest load per mix")
    parser.add_argument("--mix", action="append", choices=["visits", "random"])
    parser.add_argument("--loads", type=int, default=3, help="dashboard loads before idle")
    parser.add_argument("--query-events", type=int, default=0, help="also run bench/query.py")
    parser.add_argument("--env", action="append", default=[], metavar="JETRACK_X=value")
    args = parser.parse_args()
    env = dict(item.split("=", 1) for item in args.env)
    env.setdefault("JETRACK_GEO_DIR", str(ROOT / "geo"))
    cgroup = Cgroup(args.limit) if args.limit else None
    work = Path(tempfile.mkdtemp(prefix="jetrack-memory-"))
    report: dict[str, object] = {"limit": args.limit, "env": env}
    peaks: list[int] = []
    try:
        report["idle"] = idle_figures(work / "data", env, cgroup, args.loads)
        if cgroup:
            peaks.append(cgroup.peak_bytes())
        report["ingest"] = [
            ingest_figures(env, cgroup, mix, args.seconds)
            for mix in args.mix or ["visits", "random"]
        ]
        if cgroup:
            peaks.append(cgroup.peak_bytes())
        if args.query_events:
            report["query"] = query_figures(env, cgroup, args.query_events)
        if cgroup:
            report["cgroup_peak_mb"] = round(max([*peaks, cgroup.peak_bytes()]) / 2**20)
            report["oom_kills"] = cgroup.oom_kills()
    finally:
        shutil.rmtree(work, ignore_errors=True)
        if cgroup:
            cgroup.remove()
    report["load_average"] = [round(x, 2) for x in os.getloadavg()]
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
