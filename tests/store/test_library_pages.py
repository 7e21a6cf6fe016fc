"""The embedded store gives back the pages of chDB's library that only its start-up touched."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from jetrack.store.events import _mapped_elsewhere

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

def chdb_read_only_flags():
    flags, mapping = [], None
    for line in open("/proc/self/smaps"):
        head = line.split()
        if not head[0].endswith(":"):
            read_only = len(head) >= 6 and "/chdb/" in head[5] and "w" not in head[1]
            mapping = head if read_only else None
        elif mapping is not None and head[0] == "VmFlags:":
            flags.append(set(head[1:]))
    return flags

if sys.argv[2:] == ["server"]:
    from jetrack.store.events import map_library_pages_singly
    map_library_pages_singly()

import chdb
after_import = chdb_resident_kb()
store = ChdbEventStore(Path(sys.argv[1]), None, Limits())
after_connect = chdb_resident_kb()
assert store.query("SELECT 1 + 1 AS two").rows == [(2,)]  # the code still runs
print(after_import, after_connect, chdb_resident_kb())
print(sum("rr" in flags for flags in chdb_read_only_flags()), len(chdb_read_only_flags()))
"""


def probe(events: Path, *args: str, env: dict[str, str] | None = None) -> list[list[int]]:
    # A fresh process: the test runner's own chDB was loaded and used long before.
    result = subprocess.run(
        [sys.executable, "-c", PROBE, str(events), *args],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
        env={**os.environ, **(env or {})},
    )
    return [list(map(int, line.split())) for line in result.stdout.splitlines()]


def test_start_up_pages_of_chdb_are_released_and_the_store_still_works(tmp_path: Path) -> None:
    (after_import, after_connect, after_query), (random_reads, read_only) = probe(
        tmp_path / "events"
    )
    assert after_import > 100_000  # KB: loading the library leaves >100 MB of it resident
    assert after_connect < after_import / 3
    assert after_query < after_import  # what a query needs comes back, not the rest
    assert read_only >= 2 and random_reads == 0  # not a server: readahead as usual


def test_a_servers_library_pages_come_back_one_at_a_time(tmp_path: Path) -> None:
    temp = tmp_path / "temp"
    marks = temp / f"jetrack-{os.getuid()}-library-pages"
    marks.mkdir(parents=True)
    (marks / "an-earlier-boot-0123").touch()
    env = {"TMPDIR": str(temp)}
    _, (random_reads, read_only) = probe(tmp_path / "events", "server", env=env)
    # No readahead on its read-only mappings: a fault reads the one page it needs.
    assert read_only >= 2 and random_reads == read_only
    # Their cached pages were dropped: marked as done for this boot and these files, and
    # the marks of another boot are gone.
    boot = Path("/proc/sys/kernel/random/boot_id").read_text().strip()
    done = sorted(mark.name for mark in marks.iterdir())
    assert done and all(name.startswith(boot) for name in done)
    _, (random_reads, _) = probe(tmp_path / "events", "server", env=env)
    assert random_reads == read_only
    assert sorted(mark.name for mark in marks.iterdir()) == done  # the same files


def test_the_files_another_process_maps_are_found(tmp_path: Path) -> None:
    mapped, unmapped = tmp_path / "mapped.bin", tmp_path / "unmapped.bin"
    for path in (mapped, unmapped):
        path.write_bytes(b"x" * 8192)
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import mmap, sys; f = open(sys.argv[1], 'rb'); "
            "m = mmap.mmap(f.fileno(), 0, prot=mmap.PROT_READ); print('mapped', flush=True); "
            "sys.stdin.read()",
            str(mapped),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "mapped\n"
        assert _mapped_elsewhere([str(mapped), str(unmapped)]) == {str(mapped)}
    finally:
        holder.communicate("", timeout=30)
    assert _mapped_elsewhere([str(mapped)]) == set()
