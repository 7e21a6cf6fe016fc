"""Goals in the site settings page: a signed-in browser session creates, renames and
deletes them through the server-rendered forms (CSRF token included)."""

from __future__ import annotations

from typing import Any

import httpx2
import pytest
from starlette.testclient import TestClient

from jetrack.store.models import Goal
from jetrack.store.stores import Stores
from tests.web.world import World


def as_role(client: TestClient, world: World, role: str) -> str:
    client.cookies.clear()
    client.cookies.set("jt_session", world.cookies[role])
    return world.csrf[role]


def post(client: TestClient, path: str, csrf: str, **data: str) -> httpx2.Response:
    return client.post(path, data={"csrf_token": csrf, **data})


def goals_of(stores: Stores, world: World) -> list[tuple[Any, ...]]:
    with stores.control.session() as session:
        rows = session.query(Goal).filter_by(site_id=world.site_id).order_by(Goal.id)
        return [(g.display_name, g.event_name, g.page_path, g.custom_props) for g in rows]


def test_create_rename_delete_in_the_settings_page(
    client: TestClient, world: World, stores: Stores
) -> None:
    csrf = as_role(client, world, "owner")
    page = client.get("/sites/acme.example/settings")
    assert page.status_code == 200 and "No goals yet." in page.text

    added = post(client, "/sites/acme.example/goals", csrf, goal_type="page", page_path="/blog/**")
    assert added.status_code == 303
    assert added.headers["location"] == "/sites/acme.example/settings?notice=goal-added#goals"
    post(client, "/sites/acme.example/goals", csrf, goal_type="event", event_name="Signup",
         display_name="Customer", prop_key="plan", prop_value="pro")  # fmt: skip
    assert goals_of(stores, world) == [
        ("Visit /blog/**", None, "/blog/**", {}),
        ("Customer", "Signup", None, {"plan": "pro"}),
    ]
    page = client.get("/sites/acme.example/settings?notice=goal-added")
    assert "Visit /blog/**" in page.text and "Events already received count" in page.text
    assert "<code>plan</code> = <code>pro</code>" in page.text

    with stores.control.session() as session:
        goal_id = session.query(Goal).filter_by(display_name="Customer").one().id
    renamed = post(client, f"/sites/acme.example/goals/{goal_id}/rename", csrf, display_name="Pro")
    assert renamed.status_code == 303
    clash = post(client, f"/sites/acme.example/goals/{goal_id}/rename", csrf,
                 display_name="Visit /blog/**")  # fmt: skip
    assert clash.status_code == 400 and "already named" in clash.text
    deleted = post(client, f"/sites/acme.example/goals/{goal_id}/delete", csrf)
    assert deleted.status_code == 303
    assert goals_of(stores, world) == [("Visit /blog/**", None, "/blog/**", {})]


def test_a_revenue_goal_gets_its_currency_in_the_settings_page(
    client: TestClient, world: World, stores: Stores
) -> None:
    csrf = as_role(client, world, "owner")
    page = client.get("/sites/acme.example/settings")
    assert '<option value="EUR" >EUR - Euro</option>' in page.text
    added = post(client, "/sites/acme.example/goals", csrf, goal_type="event",
                 event_name="Purchase", currency="EUR")  # fmt: skip
    assert added.status_code == 303
    with stores.control.session() as session:
        goal = session.query(Goal).filter_by(site_id=world.site_id).one()
        assert (goal.display_name, goal.currency) == ("Purchase", "EUR")
    page = client.get("/sites/acme.example/settings")
    assert 'revenue in <abbr data-currency="EUR">EUR</abbr>' in page.text
    # A bad one is refused with the currency kept selected.
    again = post(client, "/sites/acme.example/goals", csrf, goal_type="page", page_path="/x",
                 currency="USD")  # fmt: skip
    assert again.status_code == 400 and '<option value="USD" selected>' in again.text


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"goal_type": "page", "page_path": "blog"}, "must start with /"),
        ({"goal_type": "page", "page_path": ""}, "is required for a page goal"),
        ({"goal_type": "event", "event_name": ""}, "is required for an event goal"),
        ({"goal_type": "event", "event_name": "pageview"}, "is reserved"),
        ({"goal_type": "page", "page_path": "/", "prop_value": "x"}, "name the property"),
        ({"goal_type": "page", "page_path": "/a"}, "this goal already exists"),
        ({"goal_type": "page", "page_path": "/b", "display_name": "Visit /a"}, "already named"),
        ({"goal_type": "bogus"}, "must be event or page"),
        ({"goal_type": "page", "page_path": "/c", "currency": "EUR"},
         "only custom event goals have a currency"),
        ({"goal_type": "event", "event_name": "Buy", "currency": "ZZZ"},
         "must be a three-letter ISO 4217 currency code"),
    ],
)  # fmt: skip
def test_bad_goal_is_400_with_the_message_and_what_was_typed(
    client: TestClient, world: World, stores: Stores, data: dict[str, str], message: str
) -> None:
    csrf = as_role(client, world, "owner")
    post(client, "/sites/acme.example/goals", csrf, goal_type="page", page_path="/a")
    answer = post(client, "/sites/acme.example/goals", csrf, **data)
    assert answer.status_code == 400
    assert message in answer.text
    assert "jt-error" in answer.text or "jt-alert-error" in answer.text
    assert len(goals_of(stores, world)) == 1


def test_without_the_csrf_token_nothing_is_created(
    client: TestClient, world: World, stores: Stores
) -> None:
    as_role(client, world, "owner")
    answer = client.post("/sites/acme.example/goals", data={"goal_type": "page", "page_path": "/"})
    assert answer.status_code == 403
    assert goals_of(stores, world) == []


def test_roles_that_may_not_edit_see_no_goal_forms(
    client: TestClient, world: World, stores: Stores
) -> None:
    as_role(client, world, "guest_editor")
    assert (
        'action="/sites/acme.example/goals#goals"'
        in client.get("/sites/acme.example/settings").text
    )
    csrf = as_role(client, world, "viewer")
    refused = post(client, "/sites/acme.example/goals", csrf, goal_type="page", page_path="/")
    assert refused.status_code == 404
    assert goals_of(stores, world) == []
