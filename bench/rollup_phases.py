"""Where the hourly job's time goes: build_rollups of one day on a data dir kept by
`bench/query.py --keep DIR`, each statement timed (wall and CPU of the process, all chDB
threads), grouped by what it builds (visit_rollups, filter_rollups, event_rollups, the
deletes of older builds). It builds the day again in place (the same rows, a newer
build), so run it on a copy of a shared data dir.

    .venv/bin/python bench/rollup_phases.py DIR [--day 2024-05-20] [--repeat 1]
        [--memory-limit 512M]

`--memory-limit` opens the stores as JETRACK_MEMORY_LIMIT would (the engine's memory
settings under that process limit); the peak RSS of the process is printed at the end.
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import sys
import time
from collections.abc import Mapping
from datetime import date
from pathlib import Path
from typing import Any

from jetrack.config import load_settings
from jetrack.store.events import first_value
from jetrack.store.rollups import build_rollups
from jetrack.store.stores import open_stores

BENCH_KEY = "5e" * 32  # bench/query.py's key of a kept data dir


def _what(sql: str) -> str:
    """The table a statement writes (INSERT INTO t / DELETE FROM t), or its first words."""
    found = re.match(r"\s*(INSERT INTO|DELETE FROM|ALTER TABLE)\s+`?(\w+)", sql)
    if not found:
        return " ".join(sql.split()[:2])
    verb = "delete" if found.group(1) != "INSERT INTO" else "insert"
    return f"{found.group(2)} {verb}"


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("data_dir", type=Path)
    parser.add_argument("--day", type=date.fromisoformat, default=date(2024, 5, 20))
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--memory-limit", help="as JETRACK_MEMORY_LIMIT, e.g. 512M")
    args = parser.parse_args()
    limit: dict[str, Any] = {"memory_limit": args.memory_limit} if args.memory_limit else {}
    settings = load_settings(
        data_dir=args.data_dir, encryption_key=BENCH_KEY, log_level="error", **limit
    )
    stores = open_stores(settings)
    events = stores.events
    try:
        day = args.day.isoformat()
        params = {"first": f"{day} 00:00:00"}
        day_events = first_value(
            events.query(
                "SELECT count() FROM events WHERE toDate(timestamp) = toDate({first:DateTime})",
                params,
            )
        )
        day_visits = first_value(
            events.query(
                "SELECT count() FROM sessions FINAL WHERE toDate(start) = toDate({first:DateTime})",
                params,
            )
        )
        print(f"{day}: {day_events:,} events, {day_visits:,} visits; load {os.getloadavg()}")
        steps: list[tuple[str, float, float]] = []
        command = events.command

        def timed(sql: str, params: Mapping[str, Any] | None = None) -> None:
            wall, cpu = time.perf_counter(), time.process_time()
            try:
                command(sql, params)
            except Exception as exc:
                print(f"  {_what(sql)} failed after {time.perf_counter() - wall:.1f} s: {exc}")
                raise
            steps.append((_what(sql), time.perf_counter() - wall, time.process_time() - cpu))

        events.command = timed  # type: ignore[method-assign]
        for run in range(args.repeat):
            steps.clear()
            wall, cpu = time.perf_counter(), time.process_time()
            build_rollups(events, args.day)
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            print(f"\nrun {run + 1}: {'statement':<26}{'wall s':>8}{'CPU s':>8}")
            totals: dict[str, tuple[float, float]] = {}
            for n, (what, w, c) in enumerate(steps, 1):
                print(f"  {n:>2} {what:<28}{w:>8.2f}{c:>8.2f}")
                old = totals.get(what, (0.0, 0.0))
                totals[what] = (old[0] + w, old[1] + c)
            print("  by table:")
            for what, (w, c) in totals.items():
                print(f"     {what:<28}{w:>8.2f}{c:>8.2f}")
            print(f"     {'whole build_rollups':<28}{wall:>8.2f}{cpu:>8.2f}")
            print(f"  load {os.getloadavg()}")
    finally:
        stores.close()
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"peak RSS of the process: {peak:.0f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
