"""visit:city is the city's GeoNames id, visit:city_name its name (Plausible's meaning),
through the Stats API: breakdowns, filters by id (number or digits), and a 400 for a name."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from starlette.testclient import TestClient

from jetrack.app import create_app
from jetrack.store.models import Segment
from jetrack.store.stores import open_stores
from tests.conftest import make_settings, seed_site
from tests.stats.helpers import SITE_ID, insert, visit

BERLIN, MUNICH = 2950159, 2867714
BODY = {
    "site_id": "cities.example",
    "metrics": ["visitors"],
    "date_range": ["2024-03-01", "2024-03-31"],
}


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient, str]]:
    config = make_settings(tmp_path_factory.mktemp("cities") / "data")
    stores = open_stores(config)
    key = seed_site("cities.example")(stores)
    places = [("Berlin", BERLIN)] * 3 + [("Munich", MUNICH)] * 2 + [("Kleinkleckersdorf", 0)]
    rows = []
    for number, (city, geoname_id) in enumerate(places, start=1):
        rows += visit(number, number, [("2024-03-10 08:00", "/")], site_id=SITE_ID,
                      country_code="DE", city=city, city_geoname_id=geoname_id)  # fmt: skip
    insert(stores, rows)
    with stores.control.session() as session:  # saved while visit:city held names
        filters = [["is", "visit:city", ["Munich"]]]
        session.add(Segment(site_id=SITE_ID, name="Munich", type="site", filters=filters))
    try:
        with TestClient(create_app(config, stores), raise_server_exceptions=False) as client:
            yield client, key
    finally:
        stores.close()


def test_city_ids_and_names_through_the_stats_api(api: tuple[TestClient, str]) -> None:
    client, key = api

    def ask(**body: object) -> dict[str, object]:
        response = client.post(
            "/api/v2/query", json={**BODY, **body}, headers={"Authorization": f"Bearer {key}"}
        )
        assert response.status_code == 200, response.text
        return response.json()  # type: ignore[no-any-return]

    def rows(**body: object) -> list[tuple[list[object], list[object]]]:
        return [(r["dimensions"], r["metrics"]) for r in ask(**body)["results"]]  # type: ignore[attr-defined]

    # Breakdowns: ids as JSON numbers (0: not a GeoNames city), names as text, or both.
    assert rows(dimensions=["visit:city"]) == [([BERLIN], [3]), ([MUNICH], [2]), ([0], [1])]
    assert rows(dimensions=["visit:city_name"]) == [
        (["Berlin"], [3]), (["Munich"], [2]), (["Kleinkleckersdorf"], [1])
    ]  # fmt: skip
    assert rows(dimensions=["visit:city", "visit:city_name"])[:2] == [
        ([BERLIN, "Berlin"], [3]), ([MUNICH, "Munich"], [2])
    ]  # fmt: skip
    # Filters: by id (a number, or its digits as text), negated; by name with city_name.
    assert rows(filters=[["is", "visit:city", [BERLIN]]]) == [([], [3])]
    assert rows(filters=[["is", "visit:city", [MUNICH, BERLIN]]]) == [([], [5])]
    assert rows(filters=[["is", "visit:city", [str(MUNICH)]]]) == [([], [2])]
    assert rows(filters=[["is_not", "visit:city", [BERLIN, 0]]]) == [([], [2])]
    assert rows(filters=[["is", "visit:city_name", ["Munich"]]]) == [([], [2])]
    assert rows(dimensions=["visit:city_name"], filters=[["is", "visit:city", [MUNICH]]]) == [
        (["Munich"], [2])
    ]
    # A segment saved with a city name under visit:city still means that name.
    assert rows(filters=[["is", "segment", [1]]]) == [([], [2])]
    # A name where an id belongs: a 400 saying where names go.
    refused = client.post(
        "/api/v2/query",
        json={**BODY, "filters": [["is", "visit:city", ["Berlin"]]]},
        headers={"Authorization": f"Bearer {key}"},
    )
    assert refused.status_code == 400
    assert "visit:city_name" in refused.json()["error"]
