"""Goals as specs: validation, wildcard meaning, and conversions counted through the Stats
API (event:goal filter and breakdown) on events inserted into the real event store."""

from __future__ import annotations

import re
from typing import Any

import httpx2
import pytest
from starlette.testclient import TestClient

from jetrack.sites.goals import GoalError, create_goal, goal_spec, rename_goal
from jetrack.stats.filters import wildcard_regex
from jetrack.store.models import Site
from jetrack.store.stores import Stores
from tests.stats.helpers import event, insert
from tests.web.world import Keys, World

# (goal_type, fields, the field named by the error or None, the display name when valid)
SPECS: list[tuple[str, dict[str, Any], str | None, str]] = [
    ("event", {"event_name": "Signup"}, None, "Signup"),
    ("event", {"event_name": "  Signup  "}, None, "Signup"),
    ("event", {"event_name": "Signup", "display_name": "New customer"}, None, "New customer"),
    ("event", {"event_name": "Buy", "custom_props": {"plan": "pro"}}, None, "Buy (plan=pro)"),
    ("page", {"page_path": "/signup"}, None, "Visit /signup"),
    ("page", {"page_path": "/blog/*"}, None, "Visit /blog/*"),
    ("page", {"page_path": "/docs/**"}, None, "Visit /docs/**"),
    ("event", {}, "event_name", ""),
    ("event", {"event_name": "   "}, "event_name", ""),
    ("event", {"event_name": "x" * 121}, "event_name", ""),
    ("event", {"event_name": "pageview"}, "event_name", ""),
    ("event", {"event_name": "a\nb"}, "event_name", ""),
    ("event", {"event_name": 7}, "event_name", ""),
    ("page", {}, "page_path", ""),
    ("page", {"page_path": "signup"}, "page_path", ""),
    ("page", {"page_path": "/a b"}, "page_path", ""),
    ("page", {"page_path": "/a/***"}, "page_path", ""),
    ("page", {"page_path": "/" + "a" * 2000}, "page_path", ""),
    ("visit", {"page_path": "/"}, "goal_type", ""),
    ("event", {"event_name": "B", "custom_props": {"a": "1", "b": "2", "c": "3", "d": "4"}},
     "custom_props", ""),
    ("event", {"event_name": "B", "custom_props": {"a": None}}, "custom_props", ""),
    ("event", {"event_name": "B", "custom_props": ["a"]}, "custom_props", ""),
    ("event", {"event_name": "B", "custom_props": {"": "x"}}, "custom_props", ""),
    ("event", {"event_name": "B", "display_name": "x" * 201}, "display_name", ""),
    # Revenue goals: an ISO 4217 currency, custom event goals only.
    ("event", {"event_name": "Purchase", "currency": "EUR"}, None, "Purchase"),
    ("event", {"event_name": "Purchase", "currency": " usd "}, None, "Purchase"),
    ("event", {"event_name": "Purchase", "currency": ""}, None, "Purchase"),
    ("event", {"event_name": "Purchase", "currency": "EURO"}, "currency", ""),
    ("event", {"event_name": "Purchase", "currency": "XAU"}, "currency", ""),  # gold
    ("event", {"event_name": "Purchase", "currency": 978}, "currency", ""),
    ("page", {"page_path": "/thanks", "currency": "EUR"}, "currency", ""),
]  # fmt: skip


@pytest.mark.parametrize(("goal_type", "fields", "bad", "name"), SPECS)
def test_goal_validation(
    goal_type: str, fields: dict[str, Any], bad: str | None, name: str
) -> None:
    if bad is None:
        spec = goal_spec(goal_type, **fields)
        assert spec.display_name == name
        given = (fields.get("currency") or "").strip().upper()
        assert spec.currency == (given or None)
    else:
        with pytest.raises(GoalError) as caught:
            goal_spec(goal_type, **fields)
        assert caught.value.field == bad and str(caught.value)


# Plausible's documented meaning: * stays within one path segment, ** crosses segments.
WILDCARDS = [
    ("/blog/*", "/blog/a", True),
    ("/blog/*", "/blog/", True),
    ("/blog/*", "/blog/a/b", False),
    ("/blog/*", "/blog", False),
    ("/blog/*", "/blogs/a", False),
    ("/blog/**", "/blog/a/b/c", True),
    ("/blog/**", "/blog/", True),
    ("/blog/**", "/blog", False),
    ("/blog*", "/blog", True),
    ("/blog*", "/blogs", True),
    ("/blog*", "/blog/a", False),
    ("/*/pricing", "/de/pricing", True),
    ("/*/pricing", "/de/at/pricing", False),
    ("/**/pricing", "/de/at/pricing", True),
    ("/a.b", "/a.b", True),
    ("/a.b", "/axb", False),
    ("/(x)", "/(x)", True),
    ("/signup", "/signup/", False),
]


@pytest.mark.parametrize(("pattern", "path", "matches"), WILDCARDS)
def test_wildcards(pattern: str, path: str, matches: bool) -> None:
    assert bool(re.match(wildcard_regex(pattern), path)) is matches


def _site(stores: Stores, world: World) -> Site:
    with stores.control.session() as session:
        site = session.get(Site, world.site_id)
        assert site is not None
        return site


def _seed_events(stores: Stores, world: World) -> None:
    """Four visitors on 2024-03-10 (UTC):
    v1: /blog/a, /blog/a/b, Signup plan=pro
    v2: /blog, /docs/x/y, Signup plan=free
    v3: /docs, /docs/, Purchase plan=pro
    v4: /blogs/a, Signup (no props), Signup plan=pro twice more"""
    sid = world.site_id

    def ev(n: int, minute: int, **values: Any) -> dict[str, Any]:
        return event(f"2024-03-10 10:{minute:02d}", site_id=sid, visitor_id=n, session_id=n,
                     **values)  # fmt: skip

    rows = [
        ev(1, 0, pathname="/blog/a"), ev(1, 1, pathname="/blog/a/b"),
        ev(1, 2, name="Signup", props={"plan": "pro"}),
        ev(2, 0, pathname="/blog"), ev(2, 1, pathname="/docs/x/y"),
        ev(2, 2, name="Signup", props={"plan": "free"}),
        ev(3, 0, pathname="/docs"), ev(3, 1, pathname="/docs/"),
        ev(3, 2, name="Purchase", props={"plan": "pro"}),
        ev(4, 0, pathname="/blogs/a"), ev(4, 1, name="Signup"),
        ev(4, 2, name="Signup", props={"plan": "pro"}), ev(4, 3, name="Signup", props={"plan": "pro"}),
    ]  # fmt: skip
    insert(stores, rows)


def query(client: TestClient, key: str, **body: Any) -> httpx2.Response:
    base = {"site_id": "acme.example", "date_range": ["2024-03-10", "2024-03-10"],
            "metrics": ["visitors", "events"]}  # fmt: skip
    return client.post(
        "/api/v2/query", json={**base, **body}, headers={"Authorization": f"Bearer {key}"}
    )


def test_conversions_through_the_stats_api(
    client: TestClient, keys: Keys, stores: Stores, world: World
) -> None:
    _seed_events(stores, world)
    key = keys.stats["owner"]
    # No goal yet: asking for one is a clear 400.
    early = query(client, key, filters=[["is", "event:goal", ["Signup"]]])
    assert early.status_code == 400 and "Signup" in early.json()["error"]

    # The goals are created after the events: they count them all the same.
    site = _site(stores, world)
    with stores.control.session() as session:
        site = session.merge(site)
        specs: list[tuple[str, dict[str, Any]]] = [
            ("page", {"page_path": "/blog/*"}),
            ("page", {"page_path": "/docs/**"}),
            ("event", {"event_name": "Signup"}),
            ("event", {"event_name": "Signup", "custom_props": {"plan": "pro"},
                       "display_name": "Pro signup"}),
            ("event", {"event_name": "Purchase", "custom_props": {"plan": "pro"}}),
            ("event", {"event_name": "Signup", "custom_props": {"plan": ""},
                       "display_name": "Blank plan"}),
        ]  # fmt: skip
        for goal_type, fields in specs:
            create_goal(session, site, goal_spec(goal_type, **fields))

    breakdown = query(client, key, dimensions=["event:goal"])
    assert breakdown.status_code == 200, breakdown.text
    rows = {r["dimensions"][0]: r["metrics"] for r in breakdown.json()["results"]}
    # Hand-computed from the docstring of _seed_events: [visitors, events].
    assert rows == {
        "Visit /blog/*": [1, 1],  # v1 /blog/a only
        "Visit /docs/**": [2, 2],  # v2 /docs/x/y, v3 /docs/
        "Signup": [3, 5],  # v1, v2, v4 (three)
        "Pro signup": [2, 3],  # v1, v4 (two)
        "Purchase (plan=pro)": [1, 1],  # v3
    }
    for name, expected in [("Pro signup", [2, 3]), ("Blank plan", [0, 0]),
                           ("Visit /docs/**", [2, 2])]:  # fmt: skip
        filtered = query(client, key, filters=[["is", "event:goal", [name]]])
        assert filtered.status_code == 200, filtered.text
        assert filtered.json()["results"][0]["metrics"] == expected, name

    # A renamed goal reports under its new name at once.
    with stores.control.session() as session:
        site = session.merge(site)
        pro = next(g for g in site.goals if g.display_name == "Pro signup")
        rename_goal(session, site, pro.id, "Pro plan signup")
    renamed = query(client, key, filters=[["is", "event:goal", ["Pro plan signup"]]])
    assert renamed.json()["results"][0]["metrics"] == [2, 3]


def test_a_goal_put_through_the_sites_api_counts_earlier_events(
    client: TestClient, keys: Keys, stores: Stores, world: World
) -> None:
    _seed_events(stores, world)
    put = client.put(
        "/api/v1/sites/goals",
        json={"site_id": "acme.example", "goal_type": "page", "page_path": "/blog*"},
        headers={"Authorization": f"Bearer {keys.sites['owner']}"},
    )
    assert put.status_code == 200, put.text
    answer = query(client, keys.stats["owner"], filters=[["is", "event:goal", ["Visit /blog*"]]])
    # v2 /blog only: /blogs/a and /blog/a go past the segment a single * may match.
    assert answer.json()["results"][0]["metrics"] == [1, 1]
