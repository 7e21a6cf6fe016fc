"""Funnels in the site settings page: a signed-in editor creates, renames and deletes them
through the server-rendered forms (CSRF token included); bad input is 400 with the message
at the step pickers and what was picked kept."""

from __future__ import annotations

import re
from urllib.parse import urlencode

import pytest
from starlette.testclient import TestClient

from jetrack.sites.funnels import list_funnels, step_names
from jetrack.store.models import Goal, Site
from jetrack.store.stores import Stores
from tests.web.test_goals_page import as_role, post
from tests.web.world import World

SETTINGS = "/sites/acme.example/settings"


def goal_ids(client: TestClient, csrf: str, stores: Stores, world: World) -> dict[str, str]:
    post(client, "/sites/acme.example/goals", csrf, goal_type="page", page_path="/pricing")
    post(client, "/sites/acme.example/goals", csrf, goal_type="event", event_name="Signup")
    post(client, "/sites/acme.example/goals", csrf, goal_type="event", event_name="Purchase")
    with stores.control.session() as session:
        rows = session.query(Goal).filter_by(site_id=world.site_id)
        return {goal.display_name: str(goal.id) for goal in rows}


def funnels_of(stores: Stores, world: World) -> dict[str, list[str]]:
    with stores.control.session() as session:
        site = session.get(Site, world.site_id)
        assert site is not None
        return {f.name: step_names(f) for f in list_funnels(session, site)}


def create(client: TestClient, csrf: str, name: str, *steps: str) -> tuple[int, str]:
    data = [("csrf_token", csrf), ("funnel_name", name), *(("step", step) for step in steps)]
    response = client.post(
        "/sites/acme.example/funnels",
        content=urlencode(data).encode(),
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    return response.status_code, response.text


def test_create_rename_delete_in_the_settings_page(
    client: TestClient, world: World, stores: Stores
) -> None:
    csrf = as_role(client, world, "owner")
    page = client.get(SETTINGS)
    assert "No funnels yet." in page.text and 'id="funnel-needs-goals"' in page.text
    ids = goal_ids(client, csrf, stores, world)
    page = client.get(SETTINGS)
    assert 'id="funnel-needs-goals"' not in page.text
    assert len(re.findall(r'<select name="step"', page.text)) == 8

    # Pickers left on "No step" are skipped, the order kept.
    status, _ = create(
        client, csrf, "Checkout", ids["Visit /pricing"], "", ids["Signup"], "", ids["Purchase"]
    )
    assert status == 303
    assert funnels_of(stores, world) == {"Checkout": ["Visit /pricing", "Signup", "Purchase"]}
    page = client.get(SETTINGS + "?notice=funnel-added")
    assert "Funnel added." in page.text
    assert "Visit /pricing → Signup → Purchase" in page.text

    with stores.control.session() as session:
        site = session.get(Site, world.site_id)
        assert site is not None
        funnel_id = list_funnels(session, site)[0].id
    renamed = post(client, f"/sites/acme.example/funnels/{funnel_id}/rename", csrf, name="Buy")
    assert renamed.status_code == 303
    assert renamed.headers["location"] == f"{SETTINGS}?notice=funnel-renamed#funnels"
    bad = post(client, f"/sites/acme.example/funnels/{funnel_id}/rename", csrf, name="")
    assert bad.status_code == 400 and "must be 1 to 120 printable characters" in bad.text
    deleted = post(client, f"/sites/acme.example/funnels/{funnel_id}/delete", csrf)
    assert deleted.status_code == 303
    assert funnels_of(stores, world) == {}


@pytest.mark.parametrize(
    ("name", "steps", "message"),
    [
        ("One", ["Signup"], "a funnel has 2 to 8 steps, each a goal of this site; got 1"),
        ("Twice", ["Signup", "Signup"], "step 2 repeats the goal &#39;Signup&#39;"),
        ("Unknown", ["Signup", "999999"], "step 2: this site has no goal 999999"),
        ("Nine", ["Signup"] * 9, "got 9"),
        ("", ["Signup", "Purchase"], "must be 1 to 120 printable characters"),
    ],
)
def test_bad_funnel_is_400_with_the_message_and_what_was_picked(
    client: TestClient,
    world: World,
    stores: Stores,
    name: str,
    steps: list[str],
    message: str,
) -> None:
    csrf = as_role(client, world, "owner")
    ids = goal_ids(client, csrf, stores, world)
    picked = [ids.get(step, step) for step in steps]
    status, text = create(client, csrf, name, *picked)
    assert status == 400
    assert message in text
    assert funnels_of(stores, world) == {}
    if name:
        assert f'value="{name}"' in text  # the name typed is kept
    selected = re.findall(r'<option translate="no" value="(\d+)" selected>', text)
    assert selected == picked[: len(selected)] and selected


def test_another_sites_goal_is_no_step(client: TestClient, world: World, stores: Stores) -> None:
    csrf = as_role(client, world, "owner")
    ids = goal_ids(client, csrf, stores, world)
    with stores.control.session() as session:
        other = session.query(Site).filter_by(domain=world.other_domain).one()
        foreign = Goal(site_id=other.id, event_name="Theirs", display_name="Theirs")
        session.add(foreign)
        session.flush()
        foreign_id = str(foreign.id)
    status, text = create(client, csrf, "Mixed", ids["Signup"], foreign_id)
    assert status == 400 and f"step 2: this site has no goal {foreign_id}" in text


def test_a_guest_editor_adds_funnels_too(client: TestClient, world: World, stores: Stores) -> None:
    csrf = as_role(client, world, "owner")
    ids = goal_ids(client, csrf, stores, world)
    csrf = as_role(client, world, "guest_editor")
    assert create(client, csrf, "Signup", ids["Visit /pricing"], ids["Signup"])[0] == 303
    assert funnels_of(stores, world) == {"Signup": ["Visit /pricing", "Signup"]}
