"""The dashboard's pages and internal query API: who may see what, and the same answers as
the Stats API (one engine)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from jetrack.app import create_app
from jetrack.stats.engine import run_query
from jetrack.stats.query import SiteInfo
from jetrack.store.models import Site
from jetrack.store.stores import Stores, open_stores
from jetrack.web import dashboard
from tests.conftest import make_settings
from tests.web.dashboard_world import (
    DEMO,
    EMPTY,
    IMPORTED,
    SHOP,
    SHOP_GOALS,
    Seeded,
    seed_dashboard,
)

# Every test seeds a site with traffic and logs in (a second or two each).
pytestmark = pytest.mark.slow


@pytest.fixture
def fake_build(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A manifest like Vite's, so these tests do not need the npm build."""
    vite = tmp_path / "build" / ".vite"
    vite.mkdir(parents=True)
    manifest = {dashboard.ENTRY: {"file": "assets/main-abc.js", "css": ["assets/main-abc.css"]}}
    (vite / "manifest.json").write_text(json.dumps(manifest))
    monkeypatch.setattr(dashboard, "BUILD_DIR", tmp_path / "build")


@pytest.fixture(scope="module")
def seeded_stores(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Stores, Seeded]]:
    """The seeded stores of the module: seeding is most of a test's time and the tests
    read what it made (the one that renames the site puts the name back)."""
    stores = open_stores(make_settings(tmp_path_factory.mktemp("dashboard") / "data"))
    found = Seeded()
    seed_dashboard(found, visitors_per_day=20)(stores)
    yield stores, found
    stores.close()


@pytest.fixture
def seeded(seeded_stores: tuple[Stores, Seeded]) -> Seeded:
    return seeded_stores[1]


@pytest.fixture
def stores(seeded_stores: tuple[Stores, Seeded]) -> Stores:
    """The module's stores (chDB opens one data path per process at a time)."""
    return seeded_stores[0]


@pytest.fixture
def client(seeded_stores: tuple[Stores, Seeded], fake_build: None) -> Iterator[TestClient]:
    stores = seeded_stores[0]
    app = create_app(stores.settings, stores)
    with TestClient(app, base_url="http://127.0.0.1:8000") as test:
        yield test


def as_user(client: TestClient, token: str) -> None:
    client.cookies.set("jt_session", token)


def bootstrap(html: str) -> dict[str, Any]:
    found = re.search(r'<script id="jt-bootstrap" type="application/json">(.*?)</script>', html)
    assert found, html
    data: dict[str, Any] = json.loads(found.group(1))
    return data


QUERY = {"metrics": ["visitors", "pageviews", "bounce_rate"], "date_range": "30d"}


def test_the_owner_gets_the_shell_with_its_sites_and_settings(
    client: TestClient, seeded: Seeded
) -> None:
    as_user(client, seeded.owner_token)
    page = client.get(f"/sites/{DEMO}")
    assert page.status_code == 200
    assert page.headers["cache-control"] == "no-store"
    assert '<script type="module" src="/static/build/dashboard/assets/main-abc.js">' in page.text
    assert 'href="/static/build/dashboard/assets/main-abc.css"' in page.text
    data = bootstrap(page.text)
    assert data["domain"] == DEMO and data["read_only"] is False
    assert [s["domain"] for s in data["sites"]] == sorted([DEMO, EMPTY, IMPORTED, SHOP])
    assert data["settings_url"] == f"/sites/{DEMO}/settings"
    assert data["csrf_token"] == seeded.owner_csrf
    assert data["query_url"] == f"/api/dashboard/{DEMO}/query"
    assert data["prop_keys_url"] == f"/api/dashboard/{DEMO}/property-keys"
    assert f'data-domain="{DEMO}"' in data["snippet"]


def test_strangers_and_signed_out_visitors_see_nothing(client: TestClient, seeded: Seeded) -> None:
    signed_out = client.get(f"/sites/{DEMO}", follow_redirects=False)
    assert signed_out.status_code == 303
    assert signed_out.headers["location"].startswith("/login?next=")
    assert client.post(f"/api/dashboard/{DEMO}/query", json=QUERY).status_code == 401

    as_user(client, seeded.stranger_token)
    assert client.get(f"/sites/{DEMO}").status_code == 404
    headers = {"X-CSRF-Token": seeded.stranger_csrf}
    answer = client.post(f"/api/dashboard/{DEMO}/query", json=QUERY, headers=headers)
    assert answer.status_code == 404
    # The same answer for a site that does not exist: no existence leak.
    missing = client.post("/api/dashboard/nope.example.com/query", json=QUERY, headers=headers)
    assert missing.status_code == 404


def test_the_query_api_needs_the_csrf_token(client: TestClient, seeded: Seeded) -> None:
    as_user(client, seeded.owner_token)
    assert client.post(f"/api/dashboard/{DEMO}/query", json=QUERY).status_code == 403
    wrong = client.post(
        f"/api/dashboard/{DEMO}/query", json=QUERY, headers={"X-CSRF-Token": "nope"}
    )
    assert wrong.status_code == 403
    other_origin = client.post(
        f"/api/dashboard/{DEMO}/query",
        json=QUERY,
        headers={"X-CSRF-Token": seeded.owner_csrf, "Origin": "https://evil.example"},
    )
    assert other_origin.status_code == 403


def test_the_query_api_answers_like_the_engine(
    client: TestClient, seeded: Seeded, stores: Stores
) -> None:
    as_user(client, seeded.owner_token)
    headers = {"X-CSRF-Token": seeded.owner_csrf}
    query = {
        **QUERY,
        "dimensions": ["visit:source"],
        "order_by": [["visitors", "desc"]],
        "pagination": {"limit": 5, "offset": 0},
        # A body cannot pick another site: the URL names it.
        "site_id": EMPTY,
    }
    answer = client.post(f"/api/dashboard/{DEMO}/query", json=query, headers=headers)
    assert answer.status_code == 200, answer.text
    with stores.control.session() as session:
        site = session.query(Site).filter_by(domain=DEMO).one()
        info = SiteInfo.from_site(site)
    direct = run_query(stores.events, info, {**query, "site_id": DEMO})
    assert answer.json()["results"] == direct["results"]
    assert len(direct["results"]) == 5


def test_a_bad_query_is_a_400_naming_the_field(client: TestClient, seeded: Seeded) -> None:
    as_user(client, seeded.owner_token)
    headers = {"X-CSRF-Token": seeded.owner_csrf}
    bad = client.post(
        f"/api/dashboard/{DEMO}/query",
        json={"metrics": ["visitorz"], "date_range": "30d"},
        headers=headers,
    )
    assert bad.status_code == 400
    assert "metrics" in bad.json()["error"]
    not_json = client.post(f"/api/dashboard/{DEMO}/query", content=b"{", headers=headers)
    assert not_json.status_code == 400


def test_home_sends_people_to_their_first_site(client: TestClient, seeded: Seeded) -> None:
    landing = client.get("/", follow_redirects=False)
    assert landing.status_code == 200
    assert "Privacy-first analytics for indie hackers and startups" in landing.text
    as_user(client, seeded.owner_token)
    assert client.get("/", follow_redirects=False).headers["location"] == f"/sites/{DEMO}"
    as_user(client, seeded.stranger_token)
    assert client.get("/", follow_redirects=False).headers["location"] == "/sites"


def test_the_shared_view_is_read_only(client: TestClient, seeded: Seeded) -> None:
    page = client.get(f"/share/{seeded.slug}")
    assert page.status_code == 200
    data = bootstrap(page.text)
    assert data["read_only"] is True
    assert data["settings_url"] is None and data["sites"] == [] and data["snippet"] == ""
    assert data["query_url"] == f"/api/share/{seeded.slug}/query"
    answer = client.post(f"/api/share/{seeded.slug}/query", json=QUERY)
    assert answer.status_code == 200
    assert answer.json()["results"][0]["metrics"][0] > 0

    assert client.get("/share/unknown-slug").status_code == 404
    assert client.post("/api/share/unknown-slug/query", json=QUERY).status_code == 404


def test_a_password_protected_link_asks_for_its_password(
    client: TestClient, seeded: Seeded
) -> None:
    page = client.get(f"/share/{seeded.protected_slug}", follow_redirects=False)
    assert page.status_code == 303
    assert page.headers["location"] == f"/share/{seeded.protected_slug}/password"
    answer = client.post(f"/api/share/{seeded.protected_slug}/query", json=QUERY)
    assert answer.status_code == 401


def test_bootstrap_data_cannot_break_out_of_its_script(
    client: TestClient, seeded_stores: tuple[Stores, Seeded]
) -> None:
    stores, seeded = seeded_stores
    with stores.control.session() as session:
        site = session.query(Site).filter_by(domain=DEMO).one()
        name, site.name = site.name, "</script><script>alert(1)</script>"
    try:
        as_user(client, seeded.owner_token)
        page = client.get(f"/sites/{DEMO}")
        assert "<script>alert(1)" not in page.text
        assert bootstrap(page.text)["name"] == "</script><script>alert(1)</script>"
    finally:
        with stores.control.session() as session:
            session.query(Site).filter_by(domain=DEMO).one().name = name


def test_a_missing_build_says_how_to_build(
    client: TestClient, seeded: Seeded, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(dashboard, "BUILD_DIR", tmp_path / "nothing")
    as_user(client, seeded.owner_token)
    page = client.get(f"/sites/{DEMO}")
    assert page.status_code == 503
    assert "npm --prefix frontend run build" in page.json()["error"]


def test_property_keys_are_the_ones_seen_in_the_range_most_used_first(
    client: TestClient, seeded: Seeded
) -> None:
    as_user(client, seeded.owner_token)
    headers = {"X-CSRF-Token": seeded.owner_csrf}
    url = f"/api/dashboard/{SHOP}/property-keys"
    # plan: 3 visitors, url: 2 (SHOP_VISITS); nothing in the last 24 hours.
    assert client.post(url, json={"date_range": "30d"}, headers=headers).json() == {
        "keys": ["plan", "url"]
    }
    assert client.post(url, json={"date_range": "day"}, headers=headers).json() == {"keys": []}
    bad = client.post(url, json={"date_range": "fortnight"}, headers=headers)
    assert bad.status_code == 400 and "date_range" in bad.json()["error"]
    assert client.post(url, json={"date_range": "30d"}).status_code == 403  # no CSRF token
    as_user(client, seeded.stranger_token)
    stranger = {"X-CSRF-Token": seeded.stranger_csrf}
    assert client.post(url, json={"date_range": "30d"}, headers=stranger).status_code == 404
    shared = client.post(
        f"/api/share/{seeded.slug}/property-keys", json={"date_range": "30d"}, headers=stranger
    )
    assert shared.status_code == 200 and "plan" in shared.json()["keys"]


def test_goal_conversions_and_a_goal_property_as_the_panels_ask(
    client: TestClient, seeded: Seeded
) -> None:
    as_user(client, seeded.owner_token)
    headers = {"X-CSRF-Token": seeded.owner_csrf}
    url = f"/api/dashboard/{SHOP}/query"
    metrics = ["visitors", "events", "conversion_rate"]
    goals = client.post(
        url,
        json={"metrics": metrics, "date_range": "30d", "dimensions": ["event:goal"]},
        headers=headers,
    ).json()["results"]
    assert {r["dimensions"][0]: tuple(r["metrics"]) for r in goals} == SHOP_GOALS
    signup = [["is", "event:goal", ["Signup"]]]
    plans = client.post(
        url,
        json={
            "metrics": metrics,
            "date_range": "30d",
            "dimensions": ["event:props:plan"],
            "filters": signup,
        },
        headers=headers,
    ).json()["results"]
    assert {r["dimensions"][0]: r["metrics"] for r in plans} == {
        "pro": [2, 2, 20.0],
        "free": [1, 2, 10.0],
    }
