"""The embedded store gives back the pages of chDB's library that only its start-up touched."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

PROBE = """
import sys
from pathlib import Path
from jetrack.store.events import ChdbEventStore, Limits

def chdb_resident_kb():
    total, in_chdb = 0, False
    for line in open("/proc/self/smaps"):
        head = line.split()
        if not head[0].endswith(":"):
            in_chdb = len(head) >= 6 and "/chdb/" in head[5]
        elif in_chdb and head[0] == "Rss:":
            total += int(head[1])
    return total

import chdb
after_import = chdb_resident_kb()
store = ChdbEventStore(Path(sys.argv[1]), None, Limits())
after_connect = chdb_resident_kb()
assert store.query("SELECT 1 + 1 AS two").rows == [(2,)]  # the code still runs
print(after_import, after_connect, chdb_resident_kb())
"""


def test_start_up_pages_of_chdb_are_released_and_the_store_still_works(tmp_path: Path) -> None:
    # A fresh process: the test runner's own chDB was loaded and used long before.
    result = subprocess.run(
        [sys.executable, "-c", PROBE, str(tmp_path / "events")],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    after_import, after_connect, after_query = map(int, result.stdout.split())
    assert after_import > 100_000  # KB: loading the library leaves >100 MB of it resident
    assert after_connect < after_import / 3
    assert after_query < after_import  # what a query needs comes back, not the rest
