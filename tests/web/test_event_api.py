"""POST /api/event and /api/events against the real app, pipeline and chDB."""

from __future__ import annotations

import random
from collections.abc import Callable

import httpx2
import orjson
import pytest
from starlette.testclient import TestClient

from jetrack.store.stores import Stores
from tests.conftest import METRICS_AUTH, app_state
from tests.ingest.conftest import CHROME, configure_site, odd_requests, stored

Client = Callable[..., TestClient]


def post(client: TestClient, body: object, **headers: str) -> httpx2.Response:
    return client.post(
        "/api/event", content=orjson.dumps(body), headers={"Content-Type": "text/plain", **headers}
    )


def test_pageview_is_enriched_and_stored(ingest_client: Client, site_stores: Stores) -> None:
    with ingest_client() as client:
        response = client.post(
            "/api/event",
            content=orjson.dumps(
                {
                    "n": "pageview",
                    "u": "https://www.example.com/pricing?utm_source=newsletter&utm_medium=email&utm_campaign=launch&secret=1",
                    "d": "example.com",
                    "r": "https://www.google.com/search?q=private+words",
                    "w": 390,
                    "p": {"plan": "pro"},
                }
            ),
            headers={"Content-Type": "text/plain", "Accept-Language": "de-DE,de;q=0.9"},
        )
        assert response.status_code == 202
        assert response.text == "ok"
        assert "x-jetrack-dropped" not in response.headers
        assert response.headers["access-control-allow-origin"] == "*"
    [row] = stored(site_stores)
    assert row["hostname"] == "example.com"
    assert row["pathname"] == "/pricing"
    assert (row["utm_source"], row["utm_medium"], row["utm_campaign"]) == (
        "newsletter",
        "email",
        "launch",
    )
    assert row["channel"] == "Email"
    assert row["referrer"] == "https://www.google.com/search"  # no search words kept
    assert (row["browser"], row["os"], row["device"]) == ("Chrome", "Windows", "Desktop")
    assert row["screen_size"] == "Mobile"
    assert row["language"] == "de"
    assert row["entry_page"] == "/pricing"
    assert dict(row["props"]) == {"plan": "pro"}
    assert row["visitor_id"] != 0 and row["session_id"] != 0
    assert "secret" not in str(row)


def test_visit_groups_events_and_engagement(ingest_client: Client, site_stores: Stores) -> None:
    with ingest_client() as client:
        post(
            client,
            {
                "n": "pageview",
                "u": "https://example.com/",
                "d": "example.com",
                "r": "https://news.ycombinator.com/",
            },
        )
        post(client, {"n": "pageview", "u": "https://example.com/docs", "d": "example.com"})
        post(
            client,
            {
                "n": "Signup",
                "u": "https://example.com/docs",
                "d": "example.com",
                "$": {"amount": "49.90", "currency": "USD"},
            },
        )
        post(
            client,
            {
                "n": "engagement",
                "u": "https://example.com/docs",
                "d": "example.com",
                "sd": 75,
                "e": 12000,
            },
        )
    rows = stored(site_stores)
    assert [r["name"] for r in rows] == ["pageview", "pageview", "Signup", "engagement"]
    assert len({r["session_id"] for r in rows}) == 1
    assert {r["source"] for r in rows} == {"Hacker News"}  # visit attributes fixed at its start
    assert {r["entry_page"] for r in rows} == {"/"}
    assert str(rows[2]["revenue_amount"]) == "49.900" and rows[2]["revenue_currency"] == "USD"
    assert (rows[3]["scroll_depth"], rows[3]["engagement_ms"], rows[3]["interactive"]) == (
        75,
        12000,
        0,
    )


def test_several_domains_record_for_each_site(ingest_client: Client, site_stores: Stores) -> None:
    with ingest_client() as client:
        response = post(
            client,
            {"n": "pageview", "u": "https://example.com/", "d": "example.com,other.org,nope.net"},
        )
        assert response.headers["x-jetrack-dropped"] == "unknown_site"
    assert len({r["site_id"] for r in stored(site_stores)}) == 2


@pytest.mark.parametrize(
    ("site_settings", "body_change", "headers", "reason"),
    [
        ({}, {"d": "unknown.example"}, {}, "unknown_site"),
        ({"paused": True}, {}, {}, "paused"),
        (
            {},
            {},
            {
                "User-Agent": "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"
            },
            "bot_ua",
        ),
        ({}, {}, {"User-Agent": CHROME.replace("Chrome/", "HeadlessChrome/")}, "automation"),
        ({}, {"r": "https://semalt.com/"}, {}, "referrer_spam"),
        ({"shields": {"blocked_ips": ["203.0.113.0/24"]}}, {}, {}, "shield_ip"),
        (
            {"shields": {"blocked_paths": ["/admin/*"]}},
            {"u": "https://example.com/admin/users"},
            {},
            "shield_path",
        ),
        (
            {"shields": {"allowed_hostnames": ["example.com"]}},
            {"u": "https://staging.example.net/"},
            {},
            "shield_hostname",
        ),
        ({"shields": {"blocked_countries": ["US"]}}, {}, {}, "shield_country"),
    ],
)
def test_drops_answer_202_with_a_reason(
    ingest_client: Client,
    site_stores: Stores,
    site_settings: dict[str, object],
    body_change: dict[str, str],
    headers: dict[str, str],
    reason: str,
) -> None:
    if site_settings:
        configure_site(site_stores, "example.com", **site_settings)
    body = {"n": "pageview", "u": "https://example.com/", "d": "example.com", **body_change}
    # 8.8.8.8 is in the US for the country shield case.
    with ingest_client(
        ("8.8.8.8", 1) if reason == "shield_country" else ("203.0.113.7", 1)
    ) as client:
        response = post(client, body, **headers)
        assert response.status_code == 202
        assert response.headers["x-jetrack-dropped"] == reason
        metrics = client.get("/metrics", headers=METRICS_AUTH).text
        assert f'jetrack_events_total{{outcome="{reason}"}} 1' in metrics
    assert stored(site_stores) == []


def test_events_of_a_visit_under_way_keep_its_place_and_meet_a_new_country_shield(
    ingest_client: Client, site_stores: Stores
) -> None:
    """Later events of a visit take its place without a lookup of their own, unless the
    site blocks countries: then each event is looked up and the shield applies."""
    page = {"n": "pageview", "u": "https://example.com/", "d": "example.com"}
    with ingest_client(("8.8.8.8", 1)) as client:  # in the US
        assert "x-jetrack-dropped" not in post(client, page).headers
        post(client, {**page, "u": "https://example.com/second"})
        configure_site(site_stores, "example.com", shields={"blocked_countries": ["US"]})
        app_state(client).ingest.pipeline.sites.refresh()
        third = post(client, {**page, "u": "https://example.com/third"})
        assert third.headers["x-jetrack-dropped"] == "shield_country"
    rows = stored(site_stores)
    assert [(r["pathname"], r["country_code"]) for r in rows] == [("/", "US"), ("/second", "US")]
    assert len({r["session_id"] for r in rows}) == 1


def test_allowed_hostname_wildcard_lets_subdomains_in(
    ingest_client: Client, site_stores: Stores
) -> None:
    configure_site(site_stores, "example.com", shields={"allowed_hostnames": ["*.example.com"]})
    with ingest_client() as client:
        for url in ("https://example.com/", "https://app.example.com/", "https://evil.com/"):
            post(client, {"n": "pageview", "u": url, "d": "example.com"})
    assert sorted(r["hostname"] for r in stored(site_stores)) == ["app.example.com", "example.com"]


@pytest.mark.parametrize(
    ("body", "headers", "status", "field"),
    [
        (b"{not json", {}, 400, "body"),
        (b"", {}, 400, "body"),
        (b"[]", {}, 400, "body"),
        (b'{"n":"pageview","d":"example.com"}', {}, 400, "url"),
        (b'{"n":"pageview","u":"https://example.com/"}', {}, 400, "domain"),
        (b'{"u":"https://example.com/","d":"example.com"}', {}, 400, "name"),
        (
            b'{"n":"pageview","u":"https://example.com/","d":"example.com","p":{"a":{"b":1}}}',
            {},
            400,
            "props.a",
        ),
        (
            b'{"n":"pageview","u":"https://example.com/","d":"example.com"}',
            {"User-Agent": ""},
            400,
            "User-Agent",
        ),
        (
            b'{"n":"pageview","u":"https://example.com/","d":"example.com","p":{"a":"'
            + b"x" * 1_000_100
            + b'"}}',
            {},
            413,
            "body",
        ),
    ],
)
def test_bad_requests_name_the_field(
    ingest_client: Client, body: bytes, headers: dict[str, str], status: int, field: str
) -> None:
    with ingest_client() as client:
        response = client.post(
            "/api/event", content=body, headers={"Content-Type": "application/json", **headers}
        )
    assert response.status_code == status
    assert response.json()["field"] == field
    assert response.json()["error"].startswith(field)


def test_batch_endpoint(ingest_client: Client, site_stores: Stores) -> None:
    events = [
        {"name": "pageview", "url": f"https://example.com/p{i}", "domain": "example.com"}
        for i in range(50)
    ]
    with ingest_client() as client:
        assert client.post("/api/events", json=events).status_code == 202
        bad = client.post("/api/events", json=[*events[:2], {"name": "x"}])
        assert bad.status_code == 400 and bad.json()["field"] == "[2].url"
    assert len(stored(site_stores)) == 50


def test_preflight_and_methods(ingest_client: Client) -> None:
    with ingest_client() as client:
        preflight = client.options(
            "/api/event",
            headers={"Origin": "https://example.com", "Access-Control-Request-Method": "POST"},
        )
        assert preflight.status_code == 204
        assert preflight.headers["access-control-allow-origin"] == "*"
        for method in ("GET", "PUT", "DELETE", "PATCH"):
            assert client.request(method, "/api/event").status_code == 405


def test_nothing_a_client_sends_causes_a_500(ingest_client: Client, site_stores: Stores) -> None:
    with ingest_client() as client:
        post(client, {"n": "pageview", "u": "https://example.com/kept", "d": "example.com"})
        for path, raw, headers in odd_requests(random.Random(7), 400):
            response = client.post(path, content=raw, headers=headers)
            assert response.status_code in (202, 400, 413), response.text
    assert any(r["pathname"] == "/kept" for r in stored(site_stores))


def test_display_spoofing_characters_are_not_stored(
    ingest_client: Client, site_stores: Stores
) -> None:
    with ingest_client() as client:
        response = post(
            client,
            {
                "n": "Down\u202eload",
                "u": "https://example.com/%E2%80%AEgpj.exe?utm_campaign=sale%E2%81%A6",
                "d": "example.com",
                "p": {"file\u200f": "a\x00b"},
            },
        )
        assert response.status_code == 202
    [row] = stored(site_stores)
    assert (row["name"], row["pathname"], row["entry_page"]) == ("Download", "/gpj.exe", "/gpj.exe")
    assert row["utm_campaign"] == "sale"
    assert dict(row["props"]) == {"file": "ab"}
