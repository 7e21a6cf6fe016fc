"""The process's memory: the embedded engine's settings under a memory limit, and giving
back what an idle server holds (docs/deployment.md "Small servers")."""

from __future__ import annotations

import contextlib
import ctypes
import gc
import importlib.abc
import logging
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from importlib.machinery import ModuleSpec
from types import ModuleType

log = logging.getLogger("jetrack.memory")

MB = 2**20


@dataclass(frozen=True)
class EngineMemory:
    """What the embedded engine may use under a process limit (JETRACK_MEMORY_LIMIT).

    The interpreter, the libraries' code and the visits in memory take ~250 MB of any
    limit; the engine's own allocations get the rest, queries a share of that, and large
    aggregations and sorts spill to disk instead of growing."""

    server_bytes: int  # max_server_memory_usage: the engine refuses work beyond it
    query_bytes: int  # max_memory_usage of one query
    spill_bytes: int  # GROUP BY / ORDER BY state kept in memory before spilling to disk
    cache_bytes: int  # mark, primary index and query condition caches, each

    @classmethod
    def for_limit(cls, limit: int) -> EngineMemory:
        engine = max(limit - 256 * MB, 96 * MB)
        return cls(
            server_bytes=engine,
            query_bytes=engine * 3 // 4,
            spill_bytes=engine // 4,
            cache_bytes=max(limit // 64, 4 * MB),
        )

    def server_settings(self) -> dict[str, int]:
        """Server settings of the engine's config file (its top level)."""
        return {
            "max_server_memory_usage": self.server_bytes,
            "mark_cache_size": self.cache_bytes,
            "index_mark_cache_size": self.cache_bytes,
            "primary_index_cache_size": self.cache_bytes,
            "query_condition_cache_size": self.cache_bytes,
            "uncompressed_cache_size": 0,
            "index_uncompressed_cache_size": 0,
            "mmap_cache_size": 256,
            # Two merges at a time on the events, sessions and rollups tables are plenty
            # at this size; each merge holds a block of every column.
            "background_pool_size": 2,
            "background_merges_mutations_concurrency_ratio": 1,
        }

    def query_settings(self) -> dict[str, int]:
        """Settings of every statement (queries, inserts, the jobs' commands)."""
        return {
            "max_memory_usage": self.query_bytes,
            "max_bytes_before_external_group_by": self.spill_bytes,
            "max_bytes_before_external_sort": self.spill_bytes,
            "max_threads": 1,
            # An INSERT ... SELECT squashes up to 1M rows into one block of every column
            # before writing a part: ~200 MB for the events table.
            "min_insert_block_size_rows": 65_536,
            "min_insert_block_size_bytes": self.spill_bytes // 4,
        }


# Always: ClickHouse sizes its thread pools for big servers and keeps up to 1,000 idle
# threads, each with its stack and allocator cache; after loading or cleaning many parts
# (a fresh install's first rollups) the embedded engine kept ~130 idle threads.
THREAD_SETTINGS = {
    "max_thread_pool_free_size": 8,
    "max_io_thread_pool_free_size": 0,
    "max_parts_cleaning_thread_pool_size": 2,
    "max_active_parts_loading_thread_pool_size": 2,
    "max_outdated_parts_loading_thread_pool_size": 2,
}


def server_config_xml(settings: dict[str, int]) -> str:
    return "".join(f"  <{name}>{value}</{name}>\n" for name, value in settings.items())


class _NoPandas(importlib.abc.MetaPathFinder):
    """Makes `import pandas` fail as if pandas were not installed."""

    def find_spec(
        self, name: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> ModuleSpec | None:
        if name.partition(".")[0] == "pandas":
            raise ModuleNotFoundError(f"No module named {name!r} (kept out of Jetrack)", name=name)
        return None


def keep_pandas_out() -> None:
    """Keep pandas out of this process. Jetrack never uses it, but it is installed (chDB
    depends on it), and then pyarrow imports it on its first array and chDB to ask whether
    an object is a DataFrame: ~40 MB of memory and ~2 s for nothing. Both libraries work
    without it. A process that already imported it keeps it."""
    if "pandas" in sys.modules or any(isinstance(f, _NoPandas) for f in sys.meta_path):
        return
    sys.meta_path.insert(0, _NoPandas())


def give_back_freed_memory() -> None:
    """Return the memory Python's and C's allocators keep after frees to the system."""
    gc.collect()
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):  # AttributeError: not glibc
            ctypes.CDLL(None).malloc_trim(0)


__all__: Sequence[str] = [
    "THREAD_SETTINGS",
    "EngineMemory",
    "give_back_freed_memory",
    "keep_pandas_out",
    "server_config_xml",
]
