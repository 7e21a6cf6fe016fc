"""Usage metering benchmark: the quota job's one query a team (billing/usage.py) on
`bench/query.py`'s data (one site with 2M events in 30 days among 100 sites), for a team
owning the big site alone and for a team owning it and 9 others; wall median and p95, and
the process CPU time (all threads: chDB runs in this process) per query.

    .venv/bin/python bench/usage.py [--events 4000000] [--big 2000000] [--runs 15]
"""

from __future__ import annotations

import argparse
import os
import secrets
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.query import BIG_SITE, DAYS, END, generate, percentile  # noqa: E402

from jetrack.billing.usage import Period, count_billable_events  # noqa: E402
from jetrack.config import load_settings  # noqa: E402
from jetrack.store.stores import open_stores  # noqa: E402


def _load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} {five:.2f} {fifteen:.2f}"


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=4_000_000)
    parser.add_argument("--big", type=int, default=2_000_000)
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    print(f"load before: {_load()}")
    with tempfile.TemporaryDirectory(prefix="jetrack-bench-usage-") as tmp:
        settings = load_settings(
            data_dir=Path(tmp) / "data", encryption_key=secrets.token_hex(32), log_level="error"
        )
        stores = open_stores(settings)
        try:
            took = generate(stores, args.events, args.big)
            stores.events.command("OPTIMIZE TABLE events FINAL")
            print(
                f"generated {args.events:,} events ({args.big:,} on site {BIG_SITE}) in {took:.1f} s"
            )
            month = Period(END - timedelta(days=DAYS), END)  # the data's 30 days: a month
            for label, sites in (
                ("big site alone", [BIG_SITE]),
                ("big site + 9", list(range(1, 11))),
            ):
                walls, cpus, counted = [], [], 0
                for _ in range(args.runs):
                    wall, cpu = time.perf_counter(), time.process_time()
                    counted = count_billable_events(stores.events, sites, month)
                    cpus.append(time.process_time() - cpu)
                    walls.append(time.perf_counter() - wall)
                print(
                    f"{label}: {counted:,} billable events; wall p50 {statistics.median(walls) * 1000:.1f} ms"
                    f" p95 {percentile(walls, 0.95) * 1000:.1f} ms; CPU p50"
                    f" {statistics.median(cpus) * 1000:.1f} ms"
                )
        finally:
            stores.close()
    print(f"load after: {_load()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
