"""Segments over HTTP: saved from the dashboard, personal or site-wide by role, and applied
with `["is", "segment", [id]]` by the dashboard, the Stats API and shared links.

The site holds the stats fixture (tests/stats/conftest.py) in Europe/Berlin; day D:
  S1 v101 Google DE  / -> /pricing, Signup    180 s
  S2 v102 direct US  /                        bounce
  S3 v103 Twitter US /blog/a                  bounce, 60 s
  S4 v101 Google DE  /blog/a -> /blog/b       600 s
  S5 v104 Newsletter FR / -> /pricing         1200 s (the /pricing view is D+1 in Berlin)
Metrics: visitors, visits, pageviews, bounce_rate, visit_duration."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx2
import pytest
from sqlalchemy import func, select
from starlette.testclient import TestClient

from jetrack.accounts.api_keys import create_api_key
from jetrack.app import create_app
from jetrack.config import Settings
from jetrack.sites import shared_links
from jetrack.sites.funnels import create_funnel
from jetrack.sites.goals import create_goal, goal_spec
from jetrack.store.models import Segment, Site, User
from jetrack.store.stores import Stores
from tests.conftest import row
from tests.stats.conftest import fixture_rows
from tests.stats.helpers import insert
from tests.web import world as w

pytestmark = pytest.mark.slow  # a world of seven accounts and a chDB fixture per test

METRICS = ["visitors", "visits", "pageviews", "bounce_rate", "visit_duration"]
DAY_D = ["2024-03-10", "2024-03-10"]
GERMANS = [["is", "visit:country", ["DE"]]]
AMERICANS = [["is", "visit:country", ["US"]]]
EVERYONE = [5 - 1, 5, 7, 40, 408]  # 4 visitors (v101 twice), S2 and S3 bounce of 5


@dataclass
class Acme:
    client: TestClient
    world: w.World
    stores: Stores
    keys: dict[str, str] = field(default_factory=dict)
    slug: str = ""

    def as_role(self, role: str) -> dict[str, str]:
        self.client.cookies.clear()
        self.client.cookies.set("jt_session", self.world.cookies[role])
        return {"X-CSRF-Token": self.world.csrf[role]}

    def save(self, role: str, name: str, kind: str, filters: list[Any]) -> httpx2.Response:
        return self.client.post(
            f"/api/dashboard/{self.world.domain}/segments",
            json={"name": name, "type": kind, "filters": filters},
            headers=self.as_role(role),
        )

    def listed(self, role: str) -> list[str]:
        self.as_role(role)
        answer = self.client.get(f"/api/dashboard/{self.world.domain}/segments")
        assert answer.status_code == 200, answer.text
        return [s["name"] for s in answer.json()["segments"]]

    def dashboard(self, role: str, filters: list[Any]) -> httpx2.Response:
        body = {"metrics": METRICS, "date_range": DAY_D, "filters": filters}
        return self.client.post(
            f"/api/dashboard/{self.world.domain}/query", json=body, headers=self.as_role(role)
        )

    def api(self, key: str, filters: list[Any]) -> httpx2.Response:
        self.client.cookies.clear()
        body = {"site_id": self.world.domain, "metrics": METRICS, "date_range": DAY_D}
        return self.client.post(
            "/api/v2/query",
            json={**body, "filters": filters},
            headers={"Authorization": f"Bearer {self.keys[key]}"},
        )

    def shared(self, filters: list[Any]) -> httpx2.Response:
        self.client.cookies.clear()
        body = {"metrics": METRICS, "date_range": DAY_D, "filters": filters}
        return self.client.post(f"/api/share/{self.slug}/query", json=body)


def numbers(response: httpx2.Response) -> list[Any]:
    assert response.status_code == 200, response.text
    metrics: list[Any] = response.json()["results"][0]["metrics"]
    return metrics


@pytest.fixture
def acme(settings: Settings, stores: Stores) -> Iterator[Acme]:
    world = w.build_world(stores)
    keys: dict[str, str] = {}
    with stores.control.session() as session:
        site = row(session, Site, world.site_id)
        site.timezone = "Europe/Berlin"
        for role in ("owner", "viewer", "stranger"):
            user = session.get(User, world.users[role])
            assert user is not None
            keys[role] = create_api_key(session, user, "segments")[1]
        slug = shared_links.create_shared_link(session, site, "public").slug
    insert(stores, [r | {"site_id": world.site_id} for r in fixture_rows()])
    with TestClient(create_app(settings, stores)) as client:
        yield Acme(client, world, stores, keys, slug)


def test_without_a_segment_the_day_is_whole(acme: Acme) -> None:
    assert numbers(acme.dashboard("owner", [])) == EVERYONE


def test_a_personal_segment_is_its_owners_alone(acme: Acme) -> None:
    saved = acme.save("viewer", "Germans", "personal", GERMANS)
    assert saved.status_code == 201, saved.text
    segment = saved.json()
    assert (segment["type"], segment["saved_by_you"], segment["can_edit"]) == (
        "personal",
        True,
        True,
    )
    segment_filter = [["is", "segment", [segment["id"]]]]
    # DE: S1 and S4 of v101: 4 pageviews, no bounce, (180 + 600) / 2 s.
    assert numbers(acme.dashboard("viewer", segment_filter)) == [1, 2, 4, 0, 390]
    assert numbers(acme.api("viewer", segment_filter)) == [1, 2, 4, 0, 390]
    assert acme.listed("viewer") == ["Germans"]
    for other in ("owner", "admin", "guest_editor"):
        assert acme.listed(other) == []
    refused = acme.dashboard("owner", segment_filter)
    assert refused.status_code == 400
    assert f"segment {segment['id']} is not a segment of this site" in refused.json()["error"]
    assert acme.api("owner", segment_filter).status_code == 400
    assert acme.shared(segment_filter).status_code == 400  # a link sees site segments only


def test_the_dashboards_csv_export_takes_segments(acme: Acme) -> None:
    mine = acme.save("viewer", "Germans", "personal", GERMANS).json()["id"]
    body = {"date_range": DAY_D, "filters": [["is", "segment", [mine]]]}
    path = f"/api/dashboard/{acme.world.domain}/export"
    zipped = acme.client.post(path, json=body, headers=acme.as_role("viewer"))
    assert zipped.status_code == 200, zipped.text
    with zipfile.ZipFile(io.BytesIO(zipped.content)) as archive:
        countries = archive.read("countries.csv").decode().splitlines()
    assert countries == ["country,visitors", "DE,1"]  # the segment's one German visitor
    refused = acme.client.post(path, json=body, headers=acme.as_role("owner"))
    assert refused.status_code == 400 and f"segment {mine}" in refused.json()["error"]


def test_a_segment_combines_with_more_filters(acme: Acme) -> None:
    germans = acme.save("owner", "Germans", "site", GERMANS).json()["id"]
    americans = acme.save("owner", "Americans", "site", AMERICANS).json()["id"]
    cases = [
        # DE and the /blog/a page: S4 alone, one matching pageview, 600 s.
        ([["is", "segment", [germans]], ["is", "event:page", ["/blog/a"]]], [1, 1, 1, 0, 600]),
        # Two ids: DE or US, S1-S4: v101, v102, v103; 6 pageviews; S2, S3 bounce; 840 / 4 s.
        ([["is", "segment", [germans, americans]]], [3, 4, 6, 50, 210]),
        # Everyone but the Americans: S1, S4, S5: 2 + 2 + 1 pageviews (S5's second one is
        # past midnight in Berlin), (180 + 600 + 1200) / 3 s.
        ([["not", ["is", "segment", [americans]]]], [2, 3, 5, 0, 660]),
        # Inside an or: US, or a visit from Google (DE): the same four visits as above.
        (
            [["or", [["is", "segment", [americans]], ["is", "visit:source", ["Google"]]]]],
            [3, 4, 6, 50, 210],
        ),
    ]
    for filters, expected in cases:
        assert numbers(acme.api("viewer", filters)) == expected, filters
        assert numbers(acme.dashboard("guest_viewer", filters)) == expected, filters
        assert numbers(acme.shared(filters)) == expected, filters
    echoed = acme.api("owner", cases[0][0]).json()["query"]["filters"]
    assert echoed == [["is", "visit:country", ["DE"]], ["is", "event:page", ["/blog/a"]]]


def test_site_segments_need_an_editor(acme: Acme) -> None:
    for role in ("viewer", "guest_viewer"):
        before = w.snapshot(acme.stores)
        refused = acme.save(role, "Everyone's", "site", GERMANS)
        assert refused.status_code == 403, refused.text
        assert "editors, admins and owners" in refused.json()["error"]
        assert w.snapshot(acme.stores) == before
    made = {
        role: acme.save(role, f"by {role}", "site", GERMANS) for role in ("admin", "guest_editor")
    }
    assert {role: r.status_code for role, r in made.items()} == {"admin": 201, "guest_editor": 201}
    for role in w.ROLES[:5]:
        assert sorted(acme.listed(role)) == ["by admin", "by guest_editor"], role
    segment_id = made["admin"].json()["id"]
    path = f"/api/dashboard/{acme.world.domain}/segments/{segment_id}"
    viewer = acme.as_role("viewer")
    assert acme.client.patch(path, json={"name": "mine"}, headers=viewer).status_code == 403
    assert acme.client.delete(path, headers=viewer).status_code == 403
    # A viewer may not turn their personal segment into a site one either.
    own = acme.save("viewer", "own", "personal", GERMANS).json()["id"]
    own_path = f"/api/dashboard/{acme.world.domain}/segments/{own}"
    turned = acme.client.patch(own_path, json={"type": "site"}, headers=acme.as_role("viewer"))
    assert turned.status_code == 403
    # The owner may not see or touch the viewer's personal segment: it does not exist for them.
    owner = acme.as_role("owner")
    assert acme.client.patch(own_path, json={"name": "x"}, headers=owner).status_code == 404
    assert acme.client.delete(own_path, headers=owner).status_code == 404
    # An editor renames a site segment and becomes its owner; then deletes it.
    editor = acme.as_role("guest_editor")
    renamed = acme.client.patch(path, json={"name": "Germany"}, headers=editor)
    assert renamed.status_code == 200, renamed.text
    assert (renamed.json()["name"], renamed.json()["saved_by_you"]) == ("Germany", True)
    assert acme.client.delete(path, headers=editor).status_code == 200
    assert acme.client.delete(path, headers=editor).status_code == 404


def test_another_sites_segment_is_refused(acme: Acme) -> None:
    with acme.stores.control.session() as session:
        other = session.scalar(select(Site).where(Site.domain == acme.world.other_domain))
        assert other is not None
        theirs = Segment(site_id=other.id, owner_id=acme.world.users["stranger"], name="x",
                         type="site", filters=GERMANS)  # fmt: skip
        session.add(theirs)
        session.flush()
        theirs_id = theirs.id
    refused = acme.api("owner", [["is", "segment", [theirs_id]]])
    assert refused.status_code == 400
    assert f"segment {theirs_id} is not a segment of this site" in refused.json()["error"]
    assert acme.dashboard("owner", [["is", "segment", [theirs_id]]]).status_code == 400
    unknown = acme.api("owner", [["is", "segment", [987654]]])
    assert "segment 987654" in unknown.json()["error"]
    # The stranger's own key cannot read this site at all, segment or not.
    assert acme.api("stranger", [["is", "segment", [theirs_id]]]).status_code == 404


BAD_FILTERS: list[tuple[list[Any], str]] = [
    ([["is_not", "segment", [1]]], "filters[0][0]"),
    ([["is", "segment", ["1"]]], "filters[0][2][0]"),
    ([["is", "segment", list(range(1, 12))]], "filters[0][2]"),
    ([["is", "segment", [1, 2, 3, 4, 5, 6]], ["is", "segment", [7, 8, 9, 10, 11]]], "at most 10"),
]


def test_bad_segment_filters_are_named(acme: Acme) -> None:
    for filters, named in BAD_FILTERS:
        refused = acme.api("owner", filters)
        assert refused.status_code == 400, filters
        assert named in refused.json()["error"], refused.text


SAVE_REFUSALS: list[tuple[dict[str, Any], str]] = [
    ({"name": "", "type": "personal", "filters": GERMANS}, "name:"),
    ({"name": "x" * 256, "type": "personal", "filters": GERMANS}, "name:"),
    ({"name": "x", "type": "team", "filters": GERMANS}, "type:"),
    ({"name": "x", "type": "personal", "filters": []}, "at least one filter"),
    (
        {"name": "x", "type": "personal", "filters": [["is", "visit:planet", ["Mars"]]]},
        "filters[0][1]",
    ),
    ({"name": "x", "type": "personal", "filters": [["is", "segment", [1]]]}, "another segment"),
    (
        {
            "name": "x",
            "type": "personal",
            "filters": [["is", "event:page", ["/" + "a" * 1999]]] * 3,
        },
        "5120 bytes",
    ),
]


def test_bad_segments_are_not_saved(acme: Acme) -> None:
    headers = acme.as_role("owner")
    for body, named in SAVE_REFUSALS:
        response = acme.client.post(
            f"/api/dashboard/{acme.world.domain}/segments", json=body, headers=headers
        )
        assert response.status_code == 400, response.text
        assert named in response.json()["error"], response.text
    path = f"/api/dashboard/{acme.world.domain}/segments/1"
    assert acme.client.patch(path, json={}, headers=headers).status_code == 400
    with acme.stores.control.session() as session:
        assert session.scalar(select(func.count()).select_from(Segment)) == 0


def test_shared_link_lists_site_segments_only(acme: Acme) -> None:
    acme.save("owner", "Mine", "personal", GERMANS)
    acme.save("owner", "Team's", "site", AMERICANS)
    acme.client.cookies.clear()
    listed = acme.client.get(f"/api/share/{acme.slug}/segments").json()
    assert [s["name"] for s in listed["segments"]] == ["Team's"]
    assert "can_edit" not in listed["segments"][0] and listed["can_manage_site_segments"] is False
    assert acme.client.get("/api/share/no-such-link/segments").status_code == 404


def test_funnels_take_segments_everywhere_a_query_does(acme: Acme) -> None:
    # The funnel routes used to look no segment up: every segment was refused by number.
    with acme.stores.control.session() as session:
        site = row(session, Site, acme.world.site_id)
        home = create_goal(session, site, goal_spec("page", page_path="/"))
        pricing = create_goal(session, site, goal_spec("page", page_path="/pricing"))
        funnel_id = create_funnel(session, site, "Home to pricing", [home.id, pricing.id]).id
    mine = acme.save("viewer", "Germans", "personal", GERMANS).json()["id"]
    theirs = acme.save("owner", "Germans too", "site", GERMANS).json()["id"]
    body = {"funnel_id": funnel_id, "date_range": DAY_D}

    def steps(answer: httpx2.Response) -> list[int]:
        assert answer.status_code == 200, answer.text
        return [step["visitors"] for step in answer.json()["steps"]]

    def dashboard(role: str, filters: list[Any]) -> httpx2.Response:
        path = f"/api/dashboard/{acme.world.domain}/funnel"
        return acme.client.post(path, json={**body, "filters": filters}, headers=acme.as_role(role))

    def api(key: str, filters: list[Any]) -> httpx2.Response:
        acme.client.cookies.clear()
        return acme.client.post(
            "/api/v2/funnel",
            json={**body, "site_id": acme.world.domain, "filters": filters},
            headers={"Authorization": f"Bearer {acme.keys[key]}"},
        )

    germans = steps(dashboard("viewer", GERMANS))
    assert germans != steps(dashboard("viewer", []))  # the segment narrows something
    assert steps(dashboard("viewer", [["is", "segment", [mine]]])) == germans
    assert steps(api("viewer", [["is", "segment", [mine]]])) == germans
    acme.client.cookies.clear()
    shared = acme.client.post(
        f"/api/share/{acme.slug}/funnel", json={**body, "filters": [["is", "segment", [theirs]]]}
    )
    assert steps(shared) == germans
    # Whose segment it is still counts: another account's personal one is refused.
    refused = dashboard("owner", [["is", "segment", [mine]]])
    assert refused.status_code == 400 and f"segment {mine}" in refused.json()["error"]


def test_a_segment_with_a_goal_answers_the_conversion_metrics(acme: Acme) -> None:
    # The dashboard switches to conversion metrics when the applied segment holds a goal
    # (frontend segments.ts useConversions) and asks for them with the segment filter; the
    # rate divides by the visitors without the goal, the segment's other filters kept.
    with acme.stores.control.session() as session:
        create_goal(
            session, row(session, Site, acme.world.site_id), goal_spec("event", event_name="Signup")
        )
    signup = [["is", "event:goal", ["Signup"]]]
    plain = acme.save("owner", "Signed up", "site", signup).json()["id"]
    german = acme.save("owner", "German sign-ups", "site", [*signup, *GERMANS]).json()["id"]
    conversions = ["visitors", "events", "conversion_rate"]
    cases = [
        # v101's one Signup, of the day's 4 visitors in Berlin.
        ([["is", "segment", [plain]]], [1, 1, 25.0]),
        # Of the German visitors (v101 alone).
        ([["is", "segment", [german]]], [1, 1, 100.0]),
    ]
    for filters, expected in cases:
        body = {"metrics": conversions, "date_range": DAY_D, "filters": filters}
        answer = acme.client.post(
            f"/api/dashboard/{acme.world.domain}/query", json=body, headers=acme.as_role("viewer")
        )
        assert numbers(answer) == expected, filters
