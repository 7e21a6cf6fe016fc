"""Usage metering benchmark: the quota job's one query a team (billing/usage.py) on a
month of synthetic events (one site with 2M billable events in 30 days, 99 other sites
sharing as many again; a fifth more rows of engagement pings and imported history, which
the query must skip), for a team owning the big site alone and for one owning it and 9
others; wall median and p95, and the process CPU time (all threads: chDB runs in this
process) per query.

    .venv/bin/python bench/usage.py [--big 2000000] [--runs 15]
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

from bench.query import BIG_SITE, DAYS, END, percentile  # noqa: E402

from jetrack.billing.usage import Period, count_billable_events  # noqa: E402
from jetrack.config import load_settings  # noqa: E402
from jetrack.store.stores import Stores, open_stores  # noqa: E402


def _load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} {five:.2f} {fifteen:.2f}"


# Events spread over the 30 days before END: 2 in 3 pageviews, then custom events, and
# engagement pings and imported rows on top, which are not billed.
INSERT = """
INSERT INTO events (site_id, timestamp, name, pathname, visitor_id, session_id, import_id)
SELECT {site}, toDateTime({{end:UInt32}} - number % {{span:UInt32}}), {name}, '/', number,
  number, {import_id} FROM numbers({{count:UInt64}})
"""


def generate(stores: Stores, big: int) -> float:
    started = time.perf_counter()
    end, span = int(END.timestamp()), DAYS * 86_400
    for site, count in ((str(BIG_SITE), big), ("toUInt32(2 + number % 99)", big)):
        for name, share, import_id in (
            ("'pageview'", 2 / 3, "0"), ("'Signup'", 1 / 3, "0"),
            ("'engagement'", 0.15, "0"), ("'pageview'", 0.05, "1"),
        ):  # fmt: skip
            sql = INSERT.format(site=site, name=name, import_id=import_id)
            stores.events.command(sql, {"end": end, "span": span, "count": int(count * share)})
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser()
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
            took = generate(stores, args.big)
            stores.events.command("OPTIMIZE TABLE events FINAL")
            rows = stores.events.query("SELECT count() FROM events").rows[0][0]
            print(
                f"generated {rows:,} rows ({args.big:,} billable on site {BIG_SITE}) in {took:.1f} s"
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
