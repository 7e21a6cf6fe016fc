"""The Sites API driven with the requests a Plausible provisioning script sends."""

from __future__ import annotations

from typing import Any

import httpx2
import pytest
from starlette.testclient import TestClient

from jetrack.sites.sites import find_site
from jetrack.store.models import Goal, Invitation, SiteGuest
from jetrack.store.stores import Stores
from tests.web.conftest import Inbox
from tests.web.world import Keys, World

INVALID_KEY = (
    "Invalid API key. Please make sure you're using a valid API key with access to the "
    "resource you've requested."
)


def call(
    client: TestClient, method: str, path: str, key: str | None, **kwargs: Any
) -> httpx2.Response:
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    headers.update(kwargs.pop("headers", {}))
    return client.request(method, path, headers=headers, **kwargs)


def test_provisioning_script_end_to_end(
    client: TestClient, keys: Keys, stores: Stores, inbox: Inbox
) -> None:
    key = keys.sites["owner"]
    created = call(client, "POST", "/api/v1/sites", key,
                   json={"domain": "shop.example", "timezone": "Europe/Tallinn"})  # fmt: skip
    assert created.status_code == 200, created.text
    assert created.json() == {
        "domain": "shop.example",
        "timezone": "Europe/Tallinn",
        "custom_properties": [],
    }
    assert call(client, "GET", "/api/v1/sites/shop.example", key).json() == created.json()

    # Goals of each type, each PUT twice: the second answers the same goal.
    bodies: list[dict[str, Any]] = [
        {"goal_type": "event", "event_name": "Signup"},
        {"goal_type": "page", "page_path": "/blog/**"},
        {"goal_type": "event", "event_name": "Purchase", "custom_props": {"plan": "pro"},
         "display_name": "Pro purchase"},
        # A revenue goal, as Plausible's goal creation takes it: a currency.
        {"goal_type": "event", "event_name": "Order", "currency": "EUR"},
    ]  # fmt: skip
    answers = []
    for body in bodies:
        first = call(
            client, "PUT", "/api/v1/sites/goals", key, json={"site_id": "shop.example", **body}
        )
        again = call(
            client, "PUT", "/api/v1/sites/goals", key, json={"site_id": "shop.example", **body}
        )
        assert first.status_code == again.status_code == 200, (first.text, again.text)
        assert first.json() == again.json()
        answers.append(first.json())
    assert answers[0] == {
        "id": answers[0]["id"],
        "display_name": "Signup",
        "goal_type": "event",
        "event_name": "Signup",
        "page_path": None,
        "custom_props": {},
        "currency": None,
        "domain": "shop.example",
    }
    assert (answers[1]["display_name"], answers[1]["goal_type"]) == ("Visit /blog/**", "page")
    assert answers[2]["custom_props"] == {"plan": "pro"}
    assert answers[2]["display_name"] == "Pro purchase"
    assert (answers[3]["display_name"], answers[3]["currency"]) == ("Order", "EUR")
    # The same event goal again with another currency is the same goal: a goal's currency
    # is set when it is created.
    same = call(client, "PUT", "/api/v1/sites/goals", key,
                json={"site_id": "shop.example", "goal_type": "event", "event_name": "Order",
                      "currency": "USD"})  # fmt: skip
    assert same.json() == answers[3]
    with stores.control.session() as session:
        site = find_site(session, "shop.example")
        assert site is not None
        assert len(site.goals) == 4

    listed = call(client, "GET", "/api/v1/sites/goals?site_id=shop.example", key).json()
    assert [g["id"] for g in listed["goals"]] == [a["id"] for a in reversed(answers)]
    assert listed["meta"] == {"before": None, "after": None, "limit": 100}
    assert "domain" not in listed["goals"][0]

    deleted = call(client, "DELETE", f"/api/v1/sites/goals/{answers[0]['id']}", key,
                   params={"site_id": "shop.example"})  # fmt: skip
    assert deleted.json() == {"deleted": True}
    for goal_id in (str(answers[0]["id"]), "x", "9" * 30):
        gone = call(client, "DELETE", f"/api/v1/sites/goals/{goal_id}", key,
                    params={"site_id": "shop.example"})  # fmt: skip
        assert (gone.status_code, gone.json()) == (404, {"error": "Goal could not be found"})

    # Custom properties: PUT twice, list, delete (an absent one too).
    for _ in range(2):
        put = call(client, "PUT", "/api/v1/sites/custom-props", key,
                   json={"site_id": "shop.example", "property": "plan"})  # fmt: skip
        assert put.json() == {"created": True}
    call(client, "PUT", "/api/v1/sites/custom-props", key,
         json={"site_id": "shop.example", "property": "a/b"})  # fmt: skip
    props = call(client, "GET", "/api/v1/sites/custom-props?site_id=shop.example", key)
    assert props.json() == {"custom_properties": [{"property": "plan"}, {"property": "a/b"}]}
    assert call(client, "GET", "/api/v1/sites/shop.example", key).json()["custom_properties"] == [
        "plan",
        "a/b",
    ]
    for prop in ("a/b", "never-added"):
        removed = call(client, "DELETE", f"/api/v1/sites/custom-props/{prop}", key,
                       params={"site_id": "shop.example"})  # fmt: skip
        assert removed.json() == {"deleted": True}
    props = call(client, "GET", "/api/v1/sites/custom-props?site_id=shop.example", key)
    assert props.json() == {"custom_properties": [{"property": "plan"}]}

    # Shared link: find-or-create by name.
    link = call(client, "PUT", "/api/v1/sites/shared-links", key,
                json={"site_id": "shop.example", "name": "WordPress"})  # fmt: skip
    again = call(client, "PUT", "/api/v1/sites/shared-links", key,
                 json={"site_id": "shop.example", "name": "WordPress"})  # fmt: skip
    assert link.status_code == 200, link.text
    assert link.json()["name"] == "WordPress"
    assert link.json()["url"].startswith("http") and "/share/" in link.json()["url"]
    assert again.json() == link.json()

    # Guests: invite (mailed once), invite again (same answer, no second mail), list, delete.
    invite = call(client, "PUT", "/api/v1/sites/guests?site_id=shop.example", key,
                  json={"email": "Guest@Example.com", "role": "viewer"})  # fmt: skip
    assert invite.json() == {"email": "guest@example.com", "role": "viewer", "status": "invited"}
    # The access page's wording: the domain quoted and defanged, as every name in a mail.
    assert 'to the site "shop[.]example"' in Inbox.text(inbox.last_to("guest@example.com"))
    again = call(client, "PUT", "/api/v1/sites/guests?site_id=shop.example", key,
                 json={"email": "guest@example.com", "role": "editor"})  # fmt: skip
    assert again.json() == {"email": "guest@example.com", "role": "viewer", "status": "invited"}
    assert len(inbox.to("guest@example.com")) == 1
    guests = call(client, "GET", "/api/v1/sites/guests?site_id=shop.example", key).json()
    assert guests == {
        "guests": [{"email": "guest@example.com", "role": "viewer", "status": "invited"}],
        "meta": {"before": None, "after": None, "limit": 100},
    }
    for _ in range(2):
        removed = call(client, "DELETE", "/api/v1/sites/guests/guest@example.com", key,
                       params={"site_id": "shop.example"})  # fmt: skip
        assert removed.json() == {"deleted": True}
    guests = call(client, "GET", "/api/v1/sites/guests?site_id=shop.example", key).json()
    assert guests["guests"] == []

    # Update, then delete the site.
    moved = call(client, "PUT", "/api/v1/sites/shop.example", key, json={"domain": "shop2.example"})
    assert moved.json()["domain"] == "shop2.example"
    assert call(client, "GET", "/api/v1/sites/shop.example", key).status_code == 404
    assert call(client, "DELETE", "/api/v1/sites/shop2.example", key).json() == {"deleted": True}
    gone = call(client, "GET", "/api/v1/sites/shop2.example", key)
    assert (gone.status_code, gone.json()) == (404, {"error": "Site could not be found"})


def test_form_encoded_bodies_as_curl_sends_them(client: TestClient, keys: Keys) -> None:
    key = keys.sites["owner"]
    goal = call(client, "PUT", "/api/v1/sites/goals", key,
                data={"site_id": "acme.example", "goal_type": "event", "event_name": "Buy",
                      "custom_props[plan]": "pro"})  # fmt: skip
    assert goal.status_code == 200, goal.text
    assert (goal.json()["event_name"], goal.json()["custom_props"]) == ("Buy", {"plan": "pro"})
    multipart = call(client, "PUT", "/api/v1/sites/goals", key,
                     files={"site_id": (None, "acme.example"), "goal_type": (None, "page"),
                            "page_path": (None, "/thanks")})  # fmt: skip
    assert multipart.status_code == 200, multipart.text
    assert multipart.json()["display_name"] == "Visit /thanks"


def test_lists_are_paginated_with_cursors(client: TestClient, keys: Keys) -> None:
    key = keys.sites["owner"]
    ids = []
    for n in range(5):
        answer = call(client, "PUT", "/api/v1/sites/goals", key,
                      json={"site_id": "acme.example", "goal_type": "event", "event_name": f"E{n}"})  # fmt: skip
        ids.append(answer.json()["id"])
    newest_first = list(reversed(ids))
    first = call(client, "GET", "/api/v1/sites/goals?site_id=acme.example&limit=2", key).json()
    assert [g["id"] for g in first["goals"]] == newest_first[:2]
    assert first["meta"]["before"] is None and first["meta"]["limit"] == 2
    after = first["meta"]["after"]
    second = call(
        client, "GET", f"/api/v1/sites/goals?site_id=acme.example&limit=2&after={after}", key
    ).json()
    assert [g["id"] for g in second["goals"]] == newest_first[2:4]
    third = call(
        client,
        "GET",
        f"/api/v1/sites/goals?site_id=acme.example&limit=2&after={second['meta']['after']}",
        key,
    ).json()
    assert [g["id"] for g in third["goals"]] == newest_first[4:]
    assert third["meta"]["after"] is None and isinstance(third["meta"]["before"], str)
    back = call(
        client,
        "GET",
        f"/api/v1/sites/goals?site_id=acme.example&limit=2&before={third['meta']['before']}",
        key,
    ).json()
    assert [g["id"] for g in back["goals"]] == newest_first[2:4]

    sites = call(client, "GET", "/api/v1/sites?limit=1", key).json()
    assert sites == {
        "sites": [{"domain": "acme.example", "timezone": "UTC"}],
        "meta": {"before": None, "after": None, "limit": 1},
    }
    for bad in ("limit=0", "limit=1001", "limit=x", "after=%%%", "after=WzFd!"):
        answer = call(client, "GET", f"/api/v1/sites/goals?site_id=acme.example&{bad}", key)
        assert answer.status_code == 400, (bad, answer.text)
        assert bad.split("=")[0] in answer.json()["error"]


@pytest.mark.parametrize(
    ("method", "path", "body", "message"),
    [
        ("PUT", "/api/v1/sites/goals", {"goal_type": "event", "event_name": "S"},
         "Parameter `site_id` is required to create a goal"),
        ("PUT", "/api/v1/sites/goals", {"site_id": "acme.example", "event_name": "S"},
         "Parameter `goal_type` is required to create a goal"),
        ("PUT", "/api/v1/sites/goals", {"site_id": "acme.example", "goal_type": "event"},
         "Parameter `event_name` is required to create a goal"),
        ("PUT", "/api/v1/sites/goals", {"site_id": "acme.example", "goal_type": "page"},
         "Parameter `page_path` is required to create a goal"),
        ("PUT", "/api/v1/sites/goals",
         {"site_id": "acme.example", "goal_type": "page", "page_path": "blog"},
         "page_path: must start with /, e.g. /signup or /blog/*"),
        ("PUT", "/api/v1/sites/goals",
         {"site_id": "acme.example", "goal_type": "event", "event_name": "P",
          "custom_props": {"a": "1", "b": "2", "c": "3", "d": "4"}},
         "custom_props: use at most 3 properties per goal"),
        ("PUT", "/api/v1/sites/goals",
         {"site_id": "acme.example", "goal_type": "event", "event_name": "P",
          "custom_props": {"count": 42}},
         "custom_props: must be a map with string keys and string values"),
        ("PUT", "/api/v1/sites/goals",
         {"site_id": "acme.example", "goal_type": "event", "event_name": "P", "currency": "€"},
         "currency: must be a three-letter ISO 4217 currency code, e.g. EUR"),
        ("PUT", "/api/v1/sites/goals",
         {"site_id": "acme.example", "goal_type": "page", "page_path": "/t", "currency": "EUR"},
         "currency: only custom event goals have a currency (revenue goals)"),
        ("PUT", "/api/v1/sites/custom-props", {"property": "p"},
         "Parameter `site_id` is required to create a custom property"),
        ("PUT", "/api/v1/sites/custom-props", {"site_id": "acme.example"},
         "Parameter `property` is required to create a custom property"),
        ("PUT", "/api/v1/sites/custom-props", {"site_id": "acme.example", "property": "x" * 301},
         "Parameter `property` is too long (at most 300 characters)"),
        ("PUT", "/api/v1/sites/shared-links", {"name": "WordPress"},
         "Parameter `site_id` is required to create a shared link"),
        ("PUT", "/api/v1/sites/guests", {"site_id": "acme.example", "email": "a@b.example",
                                         "role": "owner"},
         "Parameter `role` is required to create guest. Possible values: `viewer` or `editor`"),
        ("POST", "/api/v1/sites", {}, "domain: can't be blank"),
        ("POST", "/api/v1/sites", {"domain": "x.example", "timezone": "d"},
         "timezone: must be an IANA time zone such as Europe/Berlin or UTC"),
        ("PUT", "/api/v1/sites/acme.example", {"foo": "bar"},
         "Payload must contain at least one of the parameters 'domain', "
         "'tracker_script_configuration' (or Jetrack's 'timezone')"),
        ("PUT", "/api/v1/sites/acme.example", {"domain": "acme.example"},
         "domain: New domain must be different than the current one"),
        ("GET", "/api/v1/sites/goals", None, "Parameter `site_id` is required to list goals"),
        ("GET", "/api/v1/sites/custom-props", None,
         "Parameter `site_id` is required to list custom properties"),
    ],
)  # fmt: skip
def test_bad_input_is_400_naming_the_field(
    client: TestClient,
    keys: Keys,
    method: str,
    path: str,
    body: dict[str, Any] | None,
    message: str,
) -> None:
    answer = call(client, method, path, keys.sites["owner"], json=body)
    assert (answer.status_code, answer.json()) == (400, {"error": message})


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "/api/v1/sites", {"domain": "new.example"}),
        ("PUT", "/api/v1/sites/goals", {"site_id": "acme.example", "goal_type": "event",
                                        "event_name": "S"}),
        ("DELETE", "/api/v1/sites/acme.example", None),
        ("PUT", "/api/v1/sites/custom-props", {"site_id": "acme.example", "property": "p"}),
        ("PUT", "/api/v1/sites/shared-links", {"site_id": "acme.example", "name": "n"}),
        ("GET", "/api/v1/sites/guests?site_id=acme.example", None),
    ],
)  # fmt: skip
def test_a_stats_key_cannot_provision(
    client: TestClient, keys: Keys, stores: Stores, method: str, path: str, body: Any
) -> None:
    answer = call(client, method, path, keys.stats["owner"], json=body)
    assert (answer.status_code, answer.json()) == (401, {"error": INVALID_KEY})
    with stores.control.session() as session:
        site = find_site(session, "acme.example")
        assert site is not None and site.goals == [] and site.allowed_props == []
        assert find_site(session, "new.example") is None


def test_a_stats_key_may_list_as_plausible_allows(client: TestClient, keys: Keys) -> None:
    key = keys.stats["owner"]
    assert call(client, "GET", "/api/v1/sites", key).status_code == 200
    assert call(client, "GET", "/api/v1/sites/acme.example", key).status_code == 200
    assert call(client, "GET", "/api/v1/sites/goals?site_id=acme.example", key).status_code == 200
    listed = call(client, "GET", "/api/v1/sites/custom-props?site_id=acme.example", key)
    assert listed.status_code == 200


def test_missing_unknown_and_revoked_keys_are_401(client: TestClient) -> None:
    missing = call(client, "GET", "/api/v1/sites", None)
    assert missing.status_code == 401 and "Missing API key" in missing.json()["error"]
    for key in ("jt_not-a-key", "plausible-key", "x" * 300):
        answer = call(client, "GET", "/api/v1/sites", key)
        assert (answer.status_code, answer.json()) == (401, {"error": INVALID_KEY})


def test_another_tenants_site_is_404_and_roles_are_enforced(
    client: TestClient, keys: Keys, stores: Stores
) -> None:
    goal = {"site_id": "other.example", "goal_type": "event", "event_name": "S"}
    for method, path, body in [
        ("GET", "/api/v1/sites/other.example", None),
        ("PUT", "/api/v1/sites/other.example", {"domain": "mine.example"}),
        ("DELETE", "/api/v1/sites/other.example", None),
        ("PUT", "/api/v1/sites/goals", goal),
        ("GET", "/api/v1/sites/goals?site_id=other.example", None),
        (
            "PUT",
            "/api/v1/sites/guests?site_id=other.example",
            {"email": "a@b.example", "role": "viewer"},
        ),
        ("GET", "/api/v1/sites/goals?site_id=no-such.example", None),
    ]:
        answer = call(client, method, path, keys.sites["owner"], json=body)
        assert (answer.status_code, answer.json()) == (404, {"error": "Site could not be found"})
    acme_goal = {**goal, "site_id": "acme.example"}
    # A viewer sees the site and its goals but may not change them; a guest editor may.
    assert (
        call(
            client, "GET", "/api/v1/sites/goals?site_id=acme.example", keys.sites["viewer"]
        ).status_code
        == 200
    )
    refused = call(client, "PUT", "/api/v1/sites/goals", keys.sites["viewer"], json=acme_goal)
    assert refused.status_code == 403
    assert "does not have access" in refused.json()["error"]
    assert (
        call(
            client, "PUT", "/api/v1/sites/goals", keys.sites["guest_editor"], json=acme_goal
        ).status_code
        == 200
    )
    assert (
        call(client, "DELETE", "/api/v1/sites/acme.example", keys.sites["admin"]).status_code == 403
    )
    assert (
        call(
            client, "GET", "/api/v1/sites/guests?site_id=acme.example", keys.sites["guest_editor"]
        ).status_code
        == 403
    )
    with stores.control.session() as session:
        assert find_site(session, "acme.example") is not None
    listed = call(client, "GET", "/api/v1/sites", keys.sites["guest_viewer"]).json()
    assert [s["domain"] for s in listed["sites"]] == ["acme.example"]


def test_guest_listing_and_removal_spare_team_members(
    client: TestClient, keys: Keys, stores: Stores, world: World
) -> None:
    key = keys.sites["owner"]
    guests = call(client, "GET", "/api/v1/sites/guests?site_id=acme.example", key).json()["guests"]
    assert guests == [
        {"email": "guest_viewer@example.com", "role": "viewer", "status": "accepted"},
        {"email": "guest_editor@example.com", "role": "editor", "status": "accepted"},
    ]
    existing = call(client, "PUT", "/api/v1/sites/guests?site_id=acme.example", key,
                    json={"email": "guest_viewer@example.com", "role": "editor"})  # fmt: skip
    assert existing.json() == {"email": "guest_viewer@example.com", "role": "viewer",
                               "status": "accepted"}  # fmt: skip
    for email in ("admin@example.com", "guest_viewer@example.com"):
        call(client, "DELETE", f"/api/v1/sites/guests/{email}?site_id=acme.example", key)
    with stores.control.session() as session:
        left = session.query(SiteGuest).filter_by(site_id=world.site_id).all()
        assert [g.user_id for g in left] == [world.users["guest_editor"]]
        assert session.query(Invitation).count() == 0
    admin_still = call(client, "GET", "/api/v1/sites/acme.example", keys.sites["admin"])
    assert admin_still.status_code == 200


def test_bodies_are_capped_and_must_be_objects(client: TestClient, keys: Keys) -> None:
    key = keys.sites["owner"]
    big = {"site_id": "acme.example", "goal_type": "event", "event_name": "S", "pad": "x" * 70_000}
    answer = call(client, "PUT", "/api/v1/sites/goals", key, json=big)
    assert answer.status_code == 413
    for raw in (b"[1, 2]", b"{not json", b'"text"', b"[" * 60_000, b"\xff\xfe"):
        answer = call(client, "PUT", "/api/v1/sites/goals", key, content=raw,
                      headers={"Content-Type": "application/json"})  # fmt: skip
        assert answer.status_code == 400 and "must be" in answer.json()["error"]
    # Without a key the body is never read: a declared length above the cap is refused
    # before reading (web/policy.py), and a small body without a key is a 401.
    assert call(client, "PUT", "/api/v1/sites/goals", None, json=big).status_code == 413
    small = {"site_id": "acme.example", "goal_type": "event", "event_name": "S"}
    assert call(client, "PUT", "/api/v1/sites/goals", None, json=small).status_code == 401


def test_rate_limit_per_key(tmp_path: Any, keys: Keys, stores: Stores) -> None:
    from jetrack.app import create_app
    from tests.conftest import make_settings

    settings = make_settings(tmp_path / "data", api_rate_limit_per_hour=3)
    with TestClient(create_app(settings, stores)) as limited:
        answers = [
            call(limited, "GET", "/api/v1/sites", keys.sites["owner"]).status_code for _ in range(4)
        ]
        other = call(limited, "GET", "/api/v1/sites", keys.sites["admin"]).status_code
        last = call(limited, "GET", "/api/v1/sites", keys.sites["owner"])
    assert answers == [200, 200, 200, 429] and other == 200
    assert int(last.headers["Retry-After"]) > 0


def test_goal_put_keeps_one_goal_per_target(client: TestClient, keys: Keys, stores: Stores) -> None:
    """Different display names for the same target answer the first goal (find-or-create);
    a taken display name for another target is a 400."""
    key = keys.sites["owner"]
    put = {"site_id": "acme.example", "goal_type": "event", "event_name": "Signup"}
    first = call(client, "PUT", "/api/v1/sites/goals", key, json={**put, "display_name": "A"})
    second = call(client, "PUT", "/api/v1/sites/goals", key, json={**put, "display_name": "B"})
    assert first.json()["id"] == second.json()["id"] and second.json()["display_name"] == "A"
    clash = call(client, "PUT", "/api/v1/sites/goals", key,
                 json={**put, "event_name": "Other", "display_name": "A"})  # fmt: skip
    assert clash.status_code == 400 and clash.json()["error"].startswith("display_name:")
    with stores.control.session() as session:
        assert session.query(Goal).count() == 1


def test_a_sites_key_made_in_the_account_page_provisions(client: TestClient, world: World) -> None:
    client.cookies.set("jt_session", world.cookies["owner"])
    page = client.post(
        "/account/api-keys",
        data={"csrf_token": world.csrf["owner"], "name": "provision", "scope": "sites:provision:*"},
    )
    assert page.status_code == 200 and "Sites API" in page.text
    key = page.text.split('id="new-api-key">')[1].split("<")[0]
    client.cookies.clear()
    created = call(client, "POST", "/api/v1/sites", key, json={"domain": "paged.example"})
    assert created.status_code == 200, created.text
    bad = call(client, "GET", "/api/v1/sites", None)
    assert bad.status_code == 401
    client.cookies.set("jt_session", world.cookies["owner"])
    refused = client.post(
        "/account/api-keys",
        data={"csrf_token": world.csrf["owner"], "name": "x", "scope": "admin:*"},
    )
    assert refused.status_code == 400 and "must be one of" in refused.text
