"""The Stats API over HTTP: auth, access, rate limit, v2 and v1 shapes, one live server."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import httpx2
import pytest
from starlette.testclient import TestClient

from jetrack.app import create_app
from jetrack.sites.sites import find_site
from jetrack.store.models import Goal
from jetrack.store.stores import Stores, open_stores
from tests.conftest import LiveServer, make_settings, seed_site
from tests.stats.helpers import at, event, insert, visit


@pytest.fixture
def api(tmp_path: Path) -> Iterator[tuple[TestClient, dict[str, str]]]:
    """A client, and API keys of two accounts: `mine` owns mine.com, `other` owns other.com."""
    settings = make_settings(tmp_path / "data", api_rate_limit_per_hour=10)
    stores = open_stores(settings)
    keys = {
        "mine": seed_site("mine.com", "Europe/Berlin")(stores),
        "other": seed_site("other.com")(stores),
    }
    with stores.control.session() as session:
        site = find_site(session, "mine.com")
        assert site is not None
        session.add(Goal(site_id=site.id, event_name="Signup", display_name="Signup"))
        site_id = site.id
    rows = visit(1, 1, [("2024-03-10 08:00", "/"), ("2024-03-10 08:02", "/pricing")],
                 site_id=site_id, source="Google")  # fmt: skip
    rows += visit(2, 2, [("2024-03-10 09:00", "/")], site_id=site_id)
    rows.append(event("2024-03-10 09:01", name="Signup", session_id=2, visitor_id=2,
                      site_id=site_id))  # fmt: skip
    insert(stores, rows)
    try:
        with TestClient(create_app(settings, stores)) as client:
            yield client, keys
    finally:
        stores.close()


def post(client: TestClient, key: str | None, body: dict[str, Any]) -> httpx2.Response:
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    return client.post("/api/v2/query", json=body, headers=headers)


BODY = {"site_id": "mine.com", "metrics": ["visitors", "pageviews"],
        "date_range": ["2024-03-10", "2024-03-10"]}  # fmt: skip


@pytest.mark.slow
def test_v2_query(api: tuple[TestClient, dict[str, str]]) -> None:
    client, keys = api
    response = post(client, keys["mine"], {**BODY, "dimensions": ["visit:source"]})
    assert response.status_code == 200, response.text
    assert response.json()["results"] == [
        {"dimensions": ["Direct / None"], "metrics": [1, 1]},
        {"dimensions": ["Google"], "metrics": [1, 2]},
    ]


@pytest.mark.parametrize(
    ("key", "body", "status", "message"),
    [
        (None, BODY, 401, "missing API key"),
        ("jt_wrong", BODY, 401, "invalid API key"),
        ("other", BODY, 404, "site not found: mine.com"),
        ("mine", {**BODY, "site_id": "nowhere.com"}, 404, "site not found: nowhere.com"),
        ("mine", {**BODY, "metrics": ["visitorz"]}, 400, "metrics[0]"),
        ("mine", {**BODY, "date_range": "5001d"}, 400, "date_range"),
    ],
    ids=["no key", "bad key", "another account's site", "unknown site", "bad metric", "bad range"],
)
def test_v2_errors(
    api: tuple[TestClient, dict[str, str]],
    key: str | None,
    body: dict[str, Any],
    status: int,
    message: str,
) -> None:
    client, keys = api
    response = post(client, keys.get(key or "", key), body)
    assert response.status_code == status
    assert message in response.json()["error"]


@pytest.mark.slow
def test_rate_limit_per_key(api: tuple[TestClient, dict[str, str]]) -> None:
    client, keys = api
    for _ in range(10):
        assert post(client, keys["mine"], BODY).status_code == 200
    limited = post(client, keys["mine"], BODY)
    assert limited.status_code == 429
    assert int(limited.headers["Retry-After"]) > 3500
    assert post(client, keys["other"], {**BODY, "site_id": "other.com"}).status_code == 200


@pytest.mark.slow
def test_v1_endpoints(api: tuple[TestClient, dict[str, str]]) -> None:
    client, keys = api
    auth = {"Authorization": f"Bearer {keys['mine']}"}
    common = "site_id=mine.com&period=custom&date=2024-03-10,2024-03-11"

    def get(path: str) -> Any:
        response = client.get(path, headers=auth)
        assert response.status_code == 200, response.text
        return response.json()

    assert get(f"/api/v1/stats/aggregate?{common}&metrics=visitors,pageviews,bounce_rate") == {
        "results": {
            "visitors": {"value": 2},
            "pageviews": {"value": 3},
            "bounce_rate": {"value": 0},
        }
    }
    assert get(f"/api/v1/stats/timeseries?{common}&metrics=visitors") == {
        "results": [{"date": "2024-03-10", "visitors": 2}, {"date": "2024-03-11", "visitors": 0}]
    }
    assert get(
        f"/api/v1/stats/breakdown?{common}&property=event:page&filters=event:page%3D%3D/p*"
    ) == {"results": [{"page": "/pricing", "visitors": 1}]}
    assert get(f"/api/v1/stats/breakdown?{common}&property=event:goal&metrics=visitors,events") == {
        "results": [{"goal": "Signup", "visitors": 1, "events": 1}]
    }
    assert get("/api/v1/stats/realtime/visitors?site_id=mine.com") == 0
    response = client.get(f"/api/v1/stats/aggregate?{common}&compare=last_week", headers=auth)
    assert response.status_code == 400 and "compare" in response.json()["error"]


def test_live_server_end_to_end(live_server_factory: Callable[..., LiveServer]) -> None:
    seed = seed_site("live.com")

    def seed_with_events(stores: Stores) -> None:
        seed(stores)
        with stores.control.session() as session:
            site = find_site(session, "live.com")
            assert site is not None
            site_id = site.id
        insert(stores, visit(1, 1, [("2024-03-10 08:00", "/")], site_id=site_id))

    server = live_server_factory(seed_with_events)
    key = seed.key
    response = httpx.post(
        f"{server.url}/api/v2/query",
        json={**BODY, "site_id": "live.com"},
        headers={"Authorization": f"Bearer {key}"},
        timeout=30,
    )
    assert response.status_code == 200, response.text
    assert response.json()["results"] == [{"dimensions": [], "metrics": [1, 1]}]
    assert at("2024-03-10 08:00")  # the fixture's day
