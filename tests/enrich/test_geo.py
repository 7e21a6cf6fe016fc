"""GeoLookup: country from registry data; region and city from a DB-IP-shaped city database."""

from __future__ import annotations

import ipaddress
import marshal
from pathlib import Path

import pytest
from mmdb_writer import MMDBWriter
from netaddr import IPSet

from jetrack.enrich import geonames
from jetrack.enrich.geo import CITY_DATABASE_FILES, GEO_ATTRIBUTION, GeoInfo, GeoLookup

# Coordinates of the places below, as DB-IP gives them (they pick the GeoNames city).
_AT = {
    "Mountain View": (37.422, -122.085),
    "London": (51.514, -0.091),
    "Stockholm": (59.33, 18.07),
    "Moscow (Tsentralnyy administrativnyy okrug)": (55.75, 37.62),
    "Chiyoda City": (35.69, 139.75),
}


def dbip_record(
    country: str, state: str, city: str, at: tuple[float, float] | None = None
) -> dict[str, object]:
    """A record in the layout of the ip-location-db DB-IP city databases."""
    latitude, longitude = at or _AT.get(city, (0.0, 0.0))
    return {
        "country_code": country,
        "state1": state,
        "state2": "",
        "city": city,
        "postcode": "",
        "latitude": latitude,
        "longitude": longitude,
        "timezone": "",
    }


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data dir with tiny IPv4 and IPv6 city databases (real networks, real places)."""
    root = tmp_path_factory.mktemp("data")
    (root / "geo").mkdir()
    v4 = MMDBWriter(ip_version=4, database_type="dbip-city-test")
    v4.insert_network(IPSet(["8.8.8.0/24"]), dbip_record("US", "California", "Mountain View"))
    v4.insert_network(IPSet(["81.2.69.0/24"]), dbip_record("GB", "England", "London"))
    v4.insert_network(IPSet(["89.160.20.0/24"]), dbip_record("SE", "Stockholm", "Stockholm"))
    v4.insert_network(
        IPSet(["77.88.8.0/24"]),
        dbip_record("RU", "Moscow", "Moscow (Tsentralnyy administrativnyy okrug)"),
    )
    v4.insert_network(IPSet(["133.242.0.0/24"]), dbip_record("JP", "Tokyo", "Chiyoda City"))
    # Two German cities named Frankfurt, told apart by where DB-IP puts them; a name
    # GeoNames has far from where DB-IP puts it, and one it lacks: no id.
    v4.insert_network(IPSet(["5.9.0.0/24"]), dbip_record("DE", "Hesse", "Frankfurt", (50.11, 8.68)))
    v4.insert_network(
        IPSet(["5.9.1.0/24"]), dbip_record("DE", "Brandenburg", "Frankfurt", (52.34, 14.55))
    )
    v4.insert_network(
        IPSet(["5.9.2.0/24"]), dbip_record("DE", "Bavaria", "Frankfurt", (48.1, 11.6))
    )
    v4.insert_network(
        IPSet(["5.9.3.0/24"]), dbip_record("DE", "Bavaria", "Nowhereville", (48.1, 11.6))
    )
    v4.insert_network(
        IPSet(["5.9.4.0/24"]), dbip_record("DE", "North Rhine-Westphalia", "Köln", (50.94, 6.96))
    )
    v4.to_db_file(str(root / "geo" / CITY_DATABASE_FILES[0]))
    v6 = MMDBWriter(ip_version=6, database_type="dbip-city-test")
    v6.insert_network(
        IPSet(["2001:4860:4860::/48"]), dbip_record("US", "California", "Mountain View")
    )
    v6.to_db_file(str(root / "geo" / CITY_DATABASE_FILES[1]))
    return root


def _databases(data_dir: Path) -> list[Path]:
    return [data_dir / "geo" / name for name in CITY_DATABASE_FILES]


@pytest.fixture(scope="module", params=["database", "range table"])
def city_lookup(data_dir: Path, request: pytest.FixtureRequest) -> GeoLookup:
    """Both ways IPv4 addresses are answered: from the city database, and from the range
    table built from it (IPv6 from the database either way)."""
    lookup = GeoLookup(_databases(data_dir), range_table=request.param == "range table")
    lookup.warm_up()
    assert lookup.wait_for_ranges(120) == (request.param == "range table")
    assert lookup.has_city_data
    return lookup


NOT_PUBLIC = [
    "10.1.2.3",
    "172.16.0.9",
    "192.168.1.1",
    "127.0.0.1",
    "::1",
    "fe80::1",
    "fd00::1",
    "100.64.0.1",
    "169.254.1.1",
    "224.0.0.1",
    "192.0.2.10",
    "0.0.0.0",
    "",
    "not-an-ip",
    "999.1.1.1",
    "8.8.8.8/24",
]


@pytest.mark.parametrize(
    ("ip", "country"),
    [
        ("8.8.8.8", "US"),
        ("9.9.9.9", "US"),
        ("2001:4860:4860::8888", "US"),
        ("81.2.69.142", "GB"),
        ("193.0.6.139", "NL"),
        ("2001:67c:2e8:22::c100:68b", "NL"),
        ("200.160.2.3", "BR"),
        ("202.12.27.33", "JP"),
        ("77.88.8.8", "RU"),
        ("::ffff:8.8.8.8", "US"),
        (" 8.8.8.8 ", "US"),
    ],
)
def test_country_without_city_database(ip: str, country: str) -> None:
    assert GeoLookup().lookup(ip) == GeoInfo(country, "", "")


@pytest.mark.parametrize(
    ("ip", "expected"),
    [
        # The GeoNames id: the same-named city nearest to DB-IP's coordinates.
        ("8.8.8.8", GeoInfo("US", "US-CA", "Mountain View", 5375480)),
        ("::ffff:8.8.8.8", GeoInfo("US", "US-CA", "Mountain View", 5375480)),
        ("2001:4860:4860::8888", GeoInfo("US", "US-CA", "Mountain View", 5375480)),
        ("81.2.69.142", GeoInfo("GB", "GB-ENG", "London", 2643743)),
        ("89.160.20.112", GeoInfo("SE", "SE-AB", "Stockholm", 2673730)),
        ("77.88.8.8", GeoInfo("RU", "RU-MOW", "Moscow", 524901)),
        ("133.242.0.3", GeoInfo("JP", "JP-13", "Chiyoda City", 11749713)),
        ("5.9.0.1", GeoInfo("DE", "DE-HE", "Frankfurt", 2925533)),  # am Main
        ("5.9.1.1", GeoInfo("DE", "DE-BB", "Frankfurt", 2925535)),  # (Oder)
        ("5.9.2.1", GeoInfo("DE", "DE-BY", "Frankfurt", 0)),  # 500 km from either
        ("5.9.3.1", GeoInfo("DE", "DE-BY", "Nowhereville", 0)),
        ("5.9.4.1", GeoInfo("DE", "DE-NW", "Köln", 2886242)),  # GeoNames: Cologne
        # Not in the small database: the registry country still answers.
        ("200.160.2.3", GeoInfo("BR", "", "")),
        ("2001:67c:2e8:22::c100:68b", GeoInfo("NL", "", "")),
    ],
)
def test_region_and_city_from_city_database(
    city_lookup: GeoLookup, ip: str, expected: GeoInfo
) -> None:
    assert city_lookup.lookup(ip) == expected


@pytest.mark.parametrize(
    "ip", ["8.8.8.8", "81.2.69.142", "77.88.8.8", "200.160.2.3", *NOT_PUBLIC[:4], "100.64.0.1"]
)
def test_parsed_ipv4_lookup_agrees(city_lookup: GeoLookup, ip: str) -> None:
    value = int(ipaddress.IPv4Address(ip))
    assert city_lookup.lookup_v4(ip, value) == city_lookup.lookup(ip)
    assert GeoLookup().lookup_v4(ip, value) == GeoLookup().lookup(ip)


@pytest.mark.parametrize("ip", NOT_PUBLIC)
def test_private_loopback_and_invalid_addresses_are_unknown(
    city_lookup: GeoLookup, ip: str
) -> None:
    assert city_lookup.lookup(ip) == GeoInfo("", "", "")
    assert GeoLookup().lookup(ip) == GeoInfo("", "", "")


def test_missing_data_dir_still_gives_countries(tmp_path: Path) -> None:
    lookup = GeoLookup.from_data_dir(tmp_path / "nowhere")
    assert not lookup.has_city_data
    assert lookup.lookup("8.8.8.8") == GeoInfo("US", "", "")


def test_warm_up_builds_the_city_index_only_with_city_databases(
    data_dir: Path, tmp_path: Path
) -> None:
    """The ingest service warms the lookup at start: with city databases the city-id index
    is built then (not on the first event, which would stall the requests behind it)."""
    without = GeoLookup.from_data_dir(tmp_path / "nowhere")
    without.warm_up()
    assert without._cities is None
    with_cities = GeoLookup(_databases(data_dir), range_table=False)
    with_cities.warm_up()
    assert with_cities._cities is not None and len(with_cities._cities) > 30_000
    with_cities.close()
    # The tables are kept beside the city databases: the next process reads them.
    cache = tmp_path / "cache"
    cache.mkdir()
    tables = geonames._packed_tables(cache)
    (kept,) = cache.glob("geonames-*.marshal")
    assert kept.read_bytes() == tables.dumps()
    assert geonames._packed_tables(cache).dumps() == tables.dumps()  # read, not built
    assert len(tables.city_ids) == len(with_cities._cities)
    assert len(tables.key_ends) > len(tables.city_ids)


def test_packed_tables_answer_what_the_dicts_answer() -> None:
    """The index keeps GeoNames' tables packed in arrays (~5 MB instead of ~30 MB of
    dicts): every name key gives the same ids in the same order, every city the same
    coordinates, and names not there nothing."""
    names, coordinates = geonames._tables_from_data()
    tables = geonames.CompactTables.loads(geonames.CompactTables.pack(names, coordinates).dumps())
    for key, found in names.items():
        assert tuple(tables.candidates(key)) == ((found,) if isinstance(found, int) else found)
    for city, at in coordinates.items():
        assert tables.coordinates(city) == at
    for missing in ("DE\tnowhereville", "", "XX\tlondon", "GB\tlondo", "GB\tlondon "):
        assert not tables.candidates(missing)
    assert len(tables.city_ids) == len(coordinates) > 30_000
    # A cache file of another format is not read as this one.
    with pytest.raises(ValueError, match="city-id tables"):
        geonames.CompactTables.loads(marshal.dumps((names, coordinates)))


def test_close_releases_databases(data_dir: Path) -> None:
    lookup = GeoLookup.from_data_dir(data_dir)
    lookup.close()
    assert not lookup.has_city_data
    assert lookup.lookup("8.8.8.8") == GeoInfo("US", "", "")


def test_attribution_credits_db_ip() -> None:
    assert (
        "DB-IP" in GEO_ATTRIBUTION
        and "db-ip.com" in GEO_ATTRIBUTION
        and "CC BY 4.0" in GEO_ATTRIBUTION
    )


# `make install` fetches the DB-IP databases here (scripts/fetch_geo.sh).
REAL_GEO_DIR = Path(__file__).resolve().parents[2] / "geo"


@pytest.mark.parametrize(
    ("ip", "country", "region"), [("8.8.8.8", "US", "US-CA"), ("81.2.69.142", "GB", "GB-ENG")]
)
def test_real_city_database(ip: str, country: str, region: str) -> None:
    info = GeoLookup([REAL_GEO_DIR / name for name in CITY_DATABASE_FILES]).lookup(ip)
    assert (info.country_code, info.region_code) == (country, region)
    assert info.city
