"""The place Jetrack stores for a DB-IP city record: country, region, city and its id."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import NamedTuple

from jetrack.enrich.geonames import UNKNOWN_CITY, CityIndex
from jetrack.enrich.regions import region_code

__all__ = ["UNKNOWN_PLACE", "GeoInfo", "place_of_record"]


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


def place_of_record(record: object, cities: Callable[[], CityIndex]) -> GeoInfo | None:
    """The place of a city database's record; None when it names no country (the registry
    data answers the country then). `cities` gives the city-id index, asked for only when
    the record names a city."""
    if not isinstance(record, dict):
        return None
    country = str(record.get("country_code") or "")
    if not country:
        return None
    country = country.upper()
    region = region_code(country, str(record.get("state1") or ""))
    city = str(record.get("city") or "")
    if not city:
        return GeoInfo(country, region, "", UNKNOWN_CITY)
    if "(" in city:
        city = _CITY_DISTRICT.sub("", city)
    geoname_id = cities().geoname_id(
        country,
        city,
        float(record.get("latitude") or 0.0),
        float(record.get("longitude") or 0.0),
    )
    return GeoInfo(country, region, city, geoname_id)
