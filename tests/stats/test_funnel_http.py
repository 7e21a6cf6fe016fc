"""Funnels over HTTP: the Stats API's key-authenticated list and report, the dashboard's
session endpoint and a shared link's, all the same answer; 4xx naming the problem."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx2
import pytest
from starlette.testclient import TestClient

from jetrack.accounts.login_sessions import start_session
from jetrack.app import create_app
from jetrack.config import Settings
from jetrack.sites import shared_links
from jetrack.sites.funnels import create_funnel
from jetrack.sites.goals import create_goal, goal_spec
from jetrack.sites.sites import find_site
from jetrack.store.stores import open_stores
from jetrack.web import dashboard
from tests.conftest import seed_site
from tests.stats.helpers import event, insert, visit


@dataclass
class Api:
    client: TestClient
    keys: dict[str, str]
    funnel_id: int = 0
    other_funnel_id: int = 0
    session_token: str = ""
    csrf: str = ""
    slug: str = ""


@pytest.fixture
def api(tmp_path: Path, settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[Api]:
    """mine.com (Berlin) with goals /pricing, Signup and the funnel Signup over three visits
    on 2024-03-10; other.com with a funnel of its own. A fake dashboard build (no npm)."""
    vite = tmp_path / "build" / ".vite"
    vite.mkdir(parents=True)
    (vite / "manifest.json").write_text(json.dumps({dashboard.ENTRY: {"file": "main.js"}}))
    monkeypatch.setattr(dashboard, "BUILD_DIR", tmp_path / "build")
    stores = open_stores(settings)
    keys = {
        "mine": seed_site("mine.com", "Europe/Berlin")(stores),
        "other": seed_site("other.com")(stores),
    }
    found = Api(None, keys)  # type: ignore[arg-type]  # the client comes below
    with stores.control.session() as session:
        ids = {}
        for domain in ("mine.com", "other.com"):
            site = find_site(session, domain)
            assert site is not None
            pricing = create_goal(session, site, goal_spec("page", page_path="/pricing"))
            signup = create_goal(session, site, goal_spec("event", event_name="Signup"))
            funnel = create_funnel(session, site, "Signup", [pricing.id, signup.id])
            ids[domain] = (site.id, funnel.id)
            if domain == "mine.com":
                row, found.session_token = start_session(session, site.owner)
                found.csrf = row.csrf_token
                found.slug = shared_links.create_shared_link(session, site, "public").slug
        found.funnel_id, found.other_funnel_id = ids["mine.com"][1], ids["other.com"][1]
    mine = ids["mine.com"][0]
    # v1: /pricing then Signup; v2: Signup only; v3: / only. All on 2024-03-10 (Berlin).
    rows = visit(1, 1, [("2024-03-10 08:00", "/pricing")], site_id=mine, country_code="DE")
    rows.append(event("2024-03-10 08:01", name="Signup", session_id=1, visitor_id=1,
                      site_id=mine, country_code="DE"))  # fmt: skip
    rows.append(event("2024-03-10 09:00", name="Signup", session_id=2, visitor_id=2, site_id=mine))
    rows += visit(3, 3, [("2024-03-10 10:00", "/")], site_id=mine)
    insert(stores, rows)
    try:
        with TestClient(create_app(settings, stores)) as client:
            found.client = client
            yield found
    finally:
        stores.close()


BODY = {"site_id": "mine.com", "date_range": ["2024-03-10", "2024-03-10"]}
STEPS = [
    {"label": "Visit /pricing", "visitors": 1, "dropoff": 0, "dropoff_percentage": 0.0,
     "conversion_rate": 100.0, "conversion_rate_step": 100.0},
    {"label": "Signup", "visitors": 1, "dropoff": 0, "dropoff_percentage": 0.0,
     "conversion_rate": 100.0, "conversion_rate_step": 100.0},
]  # fmt: skip


def funnel(api: Api, key: str | None, body: dict[str, Any]) -> httpx2.Response:
    headers = {"Authorization": f"Bearer {api.keys[key]}"} if key else {}
    return api.client.post("/api/v2/funnel", json=body, headers=headers)


def test_list_and_report_with_a_key(api: Api) -> None:
    listed = api.client.get(
        "/api/v2/funnels?site_id=mine.com", headers={"Authorization": f"Bearer {api.keys['mine']}"}
    )
    assert listed.status_code == 200
    assert listed.json() == {
        "funnels": [{"id": api.funnel_id, "name": "Signup", "steps": ["Visit /pricing", "Signup"]}]
    }
    answer = funnel(api, "mine", {**BODY, "funnel_id": api.funnel_id})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["steps"] == STEPS
    assert (body["all_visitors"], body["entering_visitors"], body["conversion_rate"]) == (
        3,
        1,
        100.0,
    )
    assert body["query"]["date_range"] == ["2024-03-10T00:00:00+01:00", "2024-03-10T23:59:59+01:00"]
    assert body["meta"] == {"data_available_from": None}
    filtered = funnel(
        api,
        "mine",
        {**BODY, "funnel_id": api.funnel_id, "filters": [["is_not", "visit:country", ["DE"]]]},
    ).json()
    assert [s["visitors"] for s in filtered["steps"]] == [0, 0]
    assert filtered["all_visitors"] == 2


# Refusals come before any event store query: asked on one backend, from one fixture.
BAD_REQUESTS: dict[str, tuple[str | None, dict[str, Any], int, str]] = {
    "no key": (None, {**BODY, "funnel_id": 0}, 401, "missing API key"),
    "another account's site": ("other", {**BODY, "funnel_id": 1}, 404, "site not found: mine.com"),
    "another site's funnel": ("mine", {**BODY, "funnel_id": "other"}, 404, "this site has no funnel"),
    "unknown funnel": ("mine", {**BODY, "funnel_id": 999_999}, 404, "this site has no funnel 999999"),
    "no funnel_id": ("mine", BODY, 400, "funnel_id: required"),
    "huge funnel_id": ("mine", {**BODY, "funnel_id": 10**30}, 400, "funnel_id: required"),
    "a query field": ("mine", {**BODY, "funnel_id": 1, "metrics": ["visitors"]}, 400, "metrics: not a field"),
    "no date range": ("mine", {"site_id": "mine.com", "funnel_id": 1}, 400, "date_range: required"),
    "bad range": ("mine", {**BODY, "funnel_id": 1, "date_range": "5001d"}, 400, "date_range"),
    "bad filter": ("mine", {**BODY, "funnel_id": 1, "filters": [["is", "nope", ["x"]]]}, 400, "filters"),
    "no site": ("mine", {"funnel_id": 1, "date_range": "7d"}, 400, "site_id: required"),
}  # fmt: skip
EMBEDDED_ONLY = pytest.mark.parametrize("settings", ["embedded"], indirect=True)


@EMBEDDED_ONLY
def test_bad_requests_name_the_problem(api: Api) -> None:
    for case, (key, body, status, message) in BAD_REQUESTS.items():
        if body.get("funnel_id") == "other":
            body = {**body, "funnel_id": api.other_funnel_id}
        elif body.get("funnel_id") == 1:
            body = {**body, "funnel_id": api.funnel_id}
        response = funnel(api, key, body)
        assert response.status_code == status, (case, response.text)
        assert message in response.json()["error"], case


@EMBEDDED_ONLY
def test_the_list_needs_a_readable_site(api: Api) -> None:
    mine = {"Authorization": f"Bearer {api.keys['mine']}"}
    assert api.client.get("/api/v2/funnels").status_code == 401
    assert api.client.get("/api/v2/funnels", headers=mine).status_code == 400
    other = api.client.get("/api/v2/funnels?site_id=other.com", headers=mine)
    assert other.status_code == 404 and other.json()["error"] == "site not found: other.com"


def test_the_dashboard_and_a_shared_link_answer_the_same(api: Api) -> None:
    api.client.cookies.set("jt_session", api.session_token)
    page = api.client.get("/sites/mine.com")
    data = bootstrap_of(page.text)
    assert data["funnels"] == [
        {"id": api.funnel_id, "name": "Signup", "steps": ["Visit /pricing", "Signup"]}
    ]
    assert data["funnel_url"] == "/api/dashboard/mine.com/funnel"
    body = {"funnel_id": api.funnel_id, "date_range": BODY["date_range"]}
    headers = {"X-CSRF-Token": api.csrf}
    mine = api.client.post(data["funnel_url"], json=body, headers=headers)
    assert mine.status_code == 200, mine.text
    assert mine.json()["steps"] == STEPS and mine.json()["query"]["site_id"] == "mine.com"
    # The URL names the site: another site's funnel is no funnel of this one.
    other = api.client.post(
        data["funnel_url"], json={**body, "funnel_id": api.other_funnel_id}, headers=headers
    )
    assert other.status_code == 404
    no_csrf = api.client.post(data["funnel_url"], json=body)
    assert no_csrf.status_code == 403

    api.client.cookies.clear()
    shared = bootstrap_of(api.client.get(f"/share/{api.slug}").text)
    assert shared["funnels"] == data["funnels"]
    assert shared["funnel_url"] == f"/api/share/{api.slug}/funnel"
    answer = api.client.post(
        shared["funnel_url"], json=body, headers={"X-CSRF-Token": shared["csrf_token"]}
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["steps"] == STEPS
    assert api.client.post("/api/share/nope/funnel", json=body).status_code in (403, 404)


def bootstrap_of(html: str) -> dict[str, Any]:
    found = re.search(r'<script id="jt-bootstrap" type="application/json">(.*?)</script>', html)
    assert found, html
    data: dict[str, Any] = json.loads(found.group(1))
    return data
