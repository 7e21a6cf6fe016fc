"""The IPv4 range table against the DB-IP city database it is built from: the same answer
for every IPv4 address, the cost of a lookup both ways, and what each keeps resident.

    PYTHONPATH=src .venv/bin/python bench/geo_ranges.py [--geo-dir geo] [--lookups 200000]

Exhaustive: both answers are constant between consecutive edges of the database's tree
(its leaves' first addresses and the addresses after them) and of the table (its range
starts), so comparing the raw answers (place or none) at every such edge compares them
for all 2^32 addresses.
"""

from __future__ import annotations

import argparse
import ipaddress
import json
import random
import resource
import sys
import time
from pathlib import Path

import maxminddb
import numpy as np

from jetrack.enrich import ip_ranges
from jetrack.enrich.geo import CITY_DATABASE_FILES, GeoLookup
from jetrack.enrich.geonames import city_index
from jetrack.enrich.places import place_of_record

ROOT = Path(__file__).resolve().parents[1]


def cpu() -> float:
    return time.process_time()


def resident_kb(name_part: str) -> int:
    """Resident kB of this process's mappings whose path contains `name_part`."""
    total, inside = 0, False
    for line in Path("/proc/self/smaps").read_text().splitlines():
        head = line.split()
        if not head[0].endswith(":"):
            inside = len(head) >= 6 and name_part in head[5]
        elif inside and head[0] == "Rss:":
            total += int(head[1])
    return total


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--geo-dir", type=Path, default=ROOT / "geo")
    parser.add_argument("--lookups", type=int, default=200_000)
    parser.add_argument("--skip-exhaustive", action="store_true")
    args = parser.parse_args()
    database = args.geo_dir / CITY_DATABASE_FILES[0]
    reader = maxminddb.open_database(str(database), maxminddb.MODE_AUTO)
    out = ip_ranges.table_file(database, reader.metadata().build_epoch)
    report: dict[str, object] = {"table": out.name}
    if not out.is_file():
        started = time.monotonic()
        ip_ranges.build_table_in_child(database, out)
        report["build_wall_s"] = round(time.monotonic() - started, 1)
    ranges = ip_ranges.IPv4Ranges(out)
    report |= {
        "table_bytes": out.stat().st_size,
        "ranges": len(ranges),
        "places": ranges.place_count,
        "database_bytes": database.stat().st_size,
    }

    if not args.skip_exhaustive:
        cities = city_index(args.geo_dir)
        first, size, _ = ip_ranges._tree_leaves(database, reader)
        end = first + size
        blocks = np.frombuffer(ranges._blocks, np.uint32).astype(np.uint64)
        lows = np.frombuffer(ranges._lows, np.uint16).astype(np.uint64)
        block_of = np.repeat(np.arange(1 << 16, dtype=np.uint64), np.diff(blocks).astype(np.int64))
        starts = (block_of << np.uint64(16)) | lows
        edges = np.unique(np.concatenate([first, end[end < (1 << 32)], starts]))
        report["edges_compared"] = len(edges)
        started_cpu, differ = cpu(), []
        for value in edges.tolist():
            text = str(ipaddress.IPv4Address(value))
            expected = place_of_record(reader.get(text), lambda: cities)
            if ranges.place(value) != expected:
                differ.append(text)
        report["edges_differing"] = len(differ)
        report["differing_examples"] = differ[:5]
        report["exhaustive_cpu_s"] = round(cpu() - started_cpu, 1)
    ranges.close()
    reader.close()  # each file mapped once below: by the lookup that uses it

    # Cost of a lookup as the pipeline makes it (lookup_v4), both ways, on random public
    # addresses; process CPU, best of 3 passes each, alternating.
    rng = random.Random(7)
    values = [rng.randrange(1 << 24, 224 << 24) for _ in range(args.lookups)]
    texts = [str(ipaddress.IPv4Address(v)) for v in values]
    both = {
        "mmdb": GeoLookup([database], range_table=False),
        "table": GeoLookup([database]),
    }
    assert both["table"]._ranges is not None
    best = dict.fromkeys(both, float("inf"))
    for _ in range(3):
        for name, geo in both.items():
            lookup_v4 = geo.lookup_v4
            started_cpu = cpu()
            for text, value in zip(texts, values, strict=True):
                lookup_v4(text, value)
            best[name] = min(best[name], (cpu() - started_cpu) / len(values) * 1e6)
    report["us_per_lookup_v4"] = {name: round(us, 2) for name, us in best.items()}
    same = sum(
        both["mmdb"].lookup_v4(t, v) == both["table"].lookup_v4(t, v)
        for t, v in zip(texts, values, strict=True)
    )
    report["random_lookups_same"] = f"{same} of {len(values)}"
    report["resident_kb_after_lookups"] = {
        "mmdb": resident_kb(database.name),
        "table": resident_kb(".ranges"),
    }
    report["max_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
    json.dump(report, sys.stdout, indent=1)
    print()


if __name__ == "__main__":
    main()
