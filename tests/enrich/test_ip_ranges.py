"""The IPv4 range table answers what the city database it is built from answers."""

from __future__ import annotations

import ipaddress
import random
import shutil
from pathlib import Path

import maxminddb
import pytest
from mmdb_writer import MMDBWriter
from netaddr import IPSet

from jetrack.enrich import geonames, ip_ranges
from jetrack.enrich.geo import CITY_DATABASE_FILES, GeoLookup
from jetrack.enrich.geonames import city_index
from jetrack.enrich.places import GeoInfo, place_of_record
from tests.enrich.test_geo import dbip_record

VIEW = dbip_record("US", "California", "Mountain View", (37.422, -122.085))
LONDON = dbip_record("GB", "England", "London", (51.514, -0.091))
FRANKFURT = dbip_record("DE", "Hesse", "Frankfurt", (50.11, 8.68))
MOSCOW = dbip_record("RU", "Moscow", "Moscow (Tsentralnyy administrativnyy okrug)", (55.75, 37.62))
NO_CITY = dbip_record("FR", "Île-de-France", "", (48.86, 2.35))
NO_COUNTRY = dbip_record("", "", "", (0.0, 0.0))
# Same place as VIEW through another record: a lower-case country, other coordinates.
VIEW_AGAIN = dbip_record("us", "California", "Mountain View", (37.41, -122.08))
RECORDS = [VIEW, LONDON, FRANKFURT, MOSCOW, NO_CITY, NO_COUNTRY, VIEW_AGAIN]

NETWORKS = [
    ("0.0.0.0/24", VIEW),  # the first address
    ("1.0.0.0/24", VIEW),
    ("1.0.1.0/24", VIEW),  # the same record next door: one range
    ("1.0.2.0/24", VIEW_AGAIN),  # the same place through another record
    ("1.0.4.0/23", LONDON),  # after a gap
    ("2.0.0.0/8", FRANKFURT),  # across 256 blocks of /16
    ("3.3.3.3/32", MOSCOW),  # one address
    ("3.3.3.4/32", LONDON),
    ("4.0.0.0/16", NO_COUNTRY),  # a record without a country: the registry's country
    ("5.5.0.0/16", NO_CITY),
    ("8.8.8.0/24", VIEW),
    ("128.0.0.0/1", LONDON),  # the upper half, then more specific networks inside it
    ("200.1.0.0/16", FRANKFURT),
    ("223.255.255.255/32", MOSCOW),
    ("255.255.255.0/24", MOSCOW),  # up to the last address
]


@pytest.fixture(scope="module")
def geo_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An IPv4 city database with adjacent, nested, tiny and huge networks, gaps, records
    shared by several networks, and a few hundred random ones."""
    root = tmp_path_factory.mktemp("geo")
    writer = MMDBWriter(ip_version=4, database_type="dbip-city-test")
    rng = random.Random(3)
    for prefix in rng.sample(range(10, 100), 60):
        for _ in range(5):
            length = rng.randint(20, 32)
            start = (prefix << 24) | (rng.getrandbits(24) & ~((1 << (32 - length)) - 1))
            network = f"{ipaddress.IPv4Address(start)}/{length}"
            writer.insert_network(IPSet([network]), rng.choice(RECORDS))
    for network, record in NETWORKS:
        writer.insert_network(IPSet([network]), record)
    writer.to_db_file(str(root / CITY_DATABASE_FILES[0]))
    # The city-id tables the builder's child process reads, as `make geo`'s directory has them.
    tables = geonames._packed_tables(None)
    (root / geonames._cache_file(root).name).write_bytes(tables.dumps())
    return root


def _edges(database: Path) -> list[int]:
    """Every address where an answer may change (a network's first address and the one
    after it), its neighbours, the blocks' first and last addresses, and random ones."""
    reader = maxminddb.open_database(str(database))
    first, size, _ = ip_ranges._tree_leaves(database, reader)
    reader.close()
    edges: set[int] = set()
    for start, count in zip(first.tolist(), size.tolist(), strict=True):
        edges.update((start - 1, start, start + 1, start + count - 1, start + count))
    edges.update(block << 16 for block in range(1 << 16))
    edges.update((block << 16) - 1 for block in range(1, 1 << 16))
    rng = random.Random(5)
    edges.update(rng.getrandbits(32) for _ in range(20_000))
    return sorted(value for value in edges if 0 <= value < 1 << 32)


def test_table_answers_every_address_as_the_database(geo_dir: Path, tmp_path: Path) -> None:
    database = geo_dir / CITY_DATABASE_FILES[0]
    out = tmp_path / "table.ranges"
    cities = city_index(geo_dir)
    ip_ranges.build_table(database, out, lambda: cities)
    table = ip_ranges.IPv4Ranges(out)
    reader = maxminddb.open_database(str(database))
    places = set()
    for value in _edges(database):
        expected = place_of_record(reader.get(str(ipaddress.IPv4Address(value))), lambda: cities)
        assert table.place(value) == expected, ipaddress.IPv4Address(value)
        places.add(expected)
    reader.close()
    assert {
        GeoInfo("US", "US-CA", "Mountain View", 5375480),
        GeoInfo("RU", "RU-MOW", "Moscow", 524901),
        GeoInfo("FR", "FR-IDF", "", 0),
        None,
    } <= places
    # Neighbours of one place are one range, blocks of /16 are split: far fewer ranges
    # than networks and gaps, at least one per block.
    assert 1 << 16 < len(table) < (1 << 16) + 700
    assert table.place_count == len(places - {None})
    table.close()


@pytest.fixture(scope="module")
def both(geo_dir: Path) -> dict[str, GeoLookup]:
    """The lookup from the database, and one whose table `warm_up` built in a child."""
    databases = [geo_dir / CITY_DATABASE_FILES[0]]
    table = GeoLookup(databases)
    assert not table.wait_for_ranges()  # not built yet
    table.warm_up()
    assert table.wait_for_ranges(120)
    assert table.has_city_data
    return {"database": GeoLookup(databases, range_table=False), "table": table}


def test_lookups_agree_both_ways(geo_dir: Path, both: dict[str, GeoLookup]) -> None:
    """The whole lookup as the pipeline makes it (special ranges, the registry's country
    where the database has none) and from text, IPv4-mapped IPv6 included."""
    database, table = both["database"], both["table"]
    for value in _edges(geo_dir / CITY_DATABASE_FILES[0])[::20]:
        text = str(ipaddress.IPv4Address(value))
        assert table.lookup_v4(text, value) == database.lookup_v4(text, value), text
        assert table.lookup(text) == database.lookup(text), text
        assert table.lookup(f"::ffff:{text}") == database.lookup(f"::ffff:{text}"), text
    assert table.lookup("4.0.0.1") == GeoInfo("US", "", "")  # no country in the database
    assert table.lookup("10.0.0.1") == GeoInfo("", "", "")


def test_next_process_maps_the_kept_table(geo_dir: Path, both: dict[str, GeoLookup]) -> None:
    """The table is kept beside the database, named for it: the next process maps it at
    once; another build of the database (another build time) gets a table of its own."""
    database = geo_dir / CITY_DATABASE_FILES[0]
    (kept,) = geo_dir.glob("*.ranges")
    reader = maxminddb.open_database(str(database))
    epoch = reader.metadata().build_epoch
    reader.close()
    assert kept == ip_ranges.table_file(database, epoch)
    assert ip_ranges.table_file(database, epoch + 1) != kept
    assert GeoLookup([database]).wait_for_ranges()


def test_a_damaged_table_is_built_again(
    geo_dir: Path, tmp_path: Path, both: dict[str, GeoLookup]
) -> None:
    copy = tmp_path / CITY_DATABASE_FILES[0]
    shutil.copy(geo_dir / CITY_DATABASE_FILES[0], copy)
    for name in geo_dir.glob("geonames-*"):
        shutil.copy(name, tmp_path)
    reader = maxminddb.open_database(str(copy))
    table = ip_ranges.table_file(copy, reader.metadata().build_epoch)
    reader.close()
    for damage in (
        b"",
        b"not a table",
        next(geo_dir.glob("*.ranges")).read_bytes()[:-4],
    ):
        table.write_bytes(damage)
        lookup = GeoLookup([copy])
        assert not lookup.wait_for_ranges()  # not read: the database answers
        assert lookup.lookup("8.8.8.8") == GeoInfo("US", "US-CA", "Mountain View", 5375480)
    lookup.warm_up()
    assert lookup.wait_for_ranges(120)
    assert lookup.lookup("8.8.8.8") == GeoInfo("US", "US-CA", "Mountain View", 5375480)
    lookup.close()
    assert not lookup.has_city_data
