"""The role walk: every site- and team-scoped route and API endpoint, for every role and
for a stranger and an anonymous visitor. Allowed roles get through; everyone else gets
404 (or the log-in redirect / 401) and the control store is left exactly as it was."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy.orm import Session
from starlette.routing import Mount
from starlette.testclient import TestClient

from jetrack.app import create_app
from jetrack.config import Settings
from jetrack.store.stores import Stores
from tests.billing.conftest import unreachable_billing
from tests.web import world as w

# What each role may do: the product's rules, written out independently of the code.
MAY: dict[str, set[str]] = {
    "owner": {
        "view_stats",
        "view_settings",
        "edit_site",
        "delete_site",
        "manage_members",
        "manage_shared_links",
        "manage_team",
        "manage_imports",
        "view_plan",
        "manage_billing",
    },
    "admin": {
        "view_stats",
        "view_settings",
        "edit_site",
        "manage_members",
        "manage_shared_links",
        "manage_imports",
        "view_plan",
    },
    "viewer": {"view_stats", "view_plan"},
    "guest_editor": {"view_stats", "view_settings", "edit_site"},
    "guest_viewer": {"view_stats"},
    "stranger": set(),
    "anonymous": set(),
}
TEAM_ONLY = {"manage_members", "manage_team"}  # on /teams/{id}: guests are no team members


@dataclass(frozen=True)
class Case:
    method: str
    path: str
    action: str
    # Input that passes the permission check but fails validation (400), so that an
    # allowed request proves it got through without destroying the world.
    data: dict[str, str] | None = None
    json: dict[str, Any] | None = None
    prepare: Callable[[Session, w.World], dict[str, str]] | None = None
    # What a role that may read the site's reports but not do `action` gets, when the
    # thing is visible to it (a site segment: 403); 404 otherwise.
    visible_refusal: int = 404


CASES = [
    Case("GET", "/sites/{domain}", "view_stats"),
    Case(
        "POST",
        "/api/dashboard/{domain}/query",
        "view_stats",
        json={"metrics": ["visitors"], "date_range": "7d"},
    ),
    Case("POST", "/api/dashboard/{domain}/export", "view_stats", json={"date_range": "7d"}),
    Case("POST", "/api/dashboard/{domain}/property-keys", "view_stats", json={"date_range": "7d"}),
    # 400 (no funnel_id) once the site may be read; the site is checked first.
    Case("POST", "/api/dashboard/{domain}/funnel", "view_stats", json={"date_range": "7d"}),
    Case("GET", "/sites/{domain}/settings", "view_settings"),
    Case(
        "POST", "/sites/{domain}/settings", "edit_site", data={"timezone": "Not/AZone", "name": "x"}
    ),
    Case("GET", "/api/sites/{domain}/installation", "view_settings"),
    Case("GET", "/sites/{domain}/delete", "delete_site"),
    Case("POST", "/sites/{domain}/delete", "delete_site", data={"confirm": "not the domain"}),
    Case("GET", "/sites/{domain}/access", "manage_members"),
    Case(
        "POST",
        "/sites/{domain}/guests",
        "manage_members",
        data={"email": "not an email", "role": "viewer"},
    ),
    Case(
        "POST",
        "/sites/{domain}/guests/{user_id}/remove",
        "manage_members",
        prepare=w.disposable_guest,
    ),
    Case(
        "POST",
        "/sites/{domain}/invitations/{invitation_id}/revoke",
        "manage_members",
        prepare=lambda s, world: w.disposable_invitation(s, world, site=True),
    ),
    Case("GET", "/sites/{domain}/shared-links", "manage_shared_links"),
    Case("POST", "/sites/{domain}/shared-links", "manage_shared_links", data={"name": ""}),
    Case(
        "POST",
        "/sites/{domain}/shared-links/{link_id}/revoke",
        "manage_shared_links",
        prepare=w.disposable_link,
    ),
    Case(
        "POST", "/sites/{domain}/goals", "edit_site", data={"goal_type": "page", "page_path": "x"}
    ),
    Case(
        "POST",
        "/sites/{domain}/goals/{goal_id}/rename",
        "edit_site",
        data={"display_name": ""},
        prepare=w.disposable_goal,
    ),
    Case(
        "POST",
        "/sites/{domain}/goals/{goal_id}/delete",
        "edit_site",
        prepare=w.disposable_goal,
    ),
    Case("POST", "/sites/{domain}/funnels", "edit_site", data={"name": "", "step": "1"}),
    Case(
        "POST",
        "/sites/{domain}/funnels/{funnel_id}/rename",
        "edit_site",
        data={"name": ""},
        prepare=w.disposable_funnel,
    ),
    Case(
        "POST",
        "/sites/{domain}/funnels/{funnel_id}/delete",
        "edit_site",
        prepare=w.disposable_funnel,
    ),
    Case(
        "POST",
        "/sites/{domain}/shared-links/{link_id}/embedding",
        "manage_shared_links",
        prepare=w.disposable_link,
        data={"embed_origins": "https://blog.example.org"},
    ),
    Case("GET", "/api/dashboard/{domain}/segments", "view_stats"),
    Case(
        "POST",
        "/api/dashboard/{domain}/segments",
        "view_stats",  # a personal segment; a site one needs edit_site (tests/web)
        json={"name": "", "type": "personal", "filters": [["is", "visit:country", ["DE"]]]},
    ),
    Case(
        "PATCH",
        "/api/dashboard/{domain}/segments/{segment_id}",
        "edit_site",
        json={"name": ""},
        prepare=w.disposable_site_segment,
        visible_refusal=403,
    ),
    Case(
        "DELETE",
        "/api/dashboard/{domain}/segments/{segment_id}",
        "edit_site",
        prepare=w.disposable_site_segment,
        visible_refusal=403,
    ),
    Case("GET", "/api/dashboard/{domain}/annotations", "view_stats"),
    Case(
        "POST",
        "/api/dashboard/{domain}/annotations",
        "edit_site",
        json={"date": "not a day", "text": "Launch"},
    ),
    Case(
        "DELETE",
        "/api/dashboard/{domain}/annotations/{annotation_id}",
        "edit_site",
        prepare=w.disposable_annotation,
    ),
    Case("GET", "/sites/{domain}/reports", "view_stats"),
    Case("POST", "/sites/{domain}/reports/mine", "view_stats", data={}),
    Case(
        "POST",
        "/sites/{domain}/reports/recipients",
        "manage_members",
        data={"email": "not an address", "kind": "week"},
    ),
    Case(
        "POST",
        "/sites/{domain}/reports/recipients/{recipient_id}/remove",
        "manage_members",
        prepare=w.disposable_recipient,
    ),
    Case(
        "POST",
        "/sites/{domain}/reports/spike",
        "edit_site",
        data={"spike_threshold": "many", "spike_every_hours": "6"},
    ),
    Case(
        "POST",
        "/sites/{domain}/reports/webhooks",
        "manage_members",
        data={"url": "ftp://nope", "format": "json", "hook_week": "on"},
    ),
    Case(
        "POST",
        "/sites/{domain}/reports/webhooks/{webhook_id}/remove",
        "manage_members",
        prepare=w.disposable_webhook,
    ),
    Case("GET", "/sites/{domain}/imports", "manage_imports"),
    Case("GET", "/api/sites/{domain}/imports", "manage_imports"),
    # 400 (no such kind) once the site may be imported into; no body is read before.
    Case("POST", "/api/sites/{domain}/imports?kind=nope&name=x.zip", "manage_imports", json={}),
    Case(
        "POST",
        "/sites/{domain}/imports/{import_id}/delete",
        "manage_imports",
        prepare=w.disposable_import,
    ),
    Case("GET", "/teams/{team_id}", "manage_members"),
    Case("POST", "/teams/{team_id}/settings", "manage_team", data={"name": ""}),
    Case(
        "POST",
        "/teams/{team_id}/invitations",
        "manage_members",
        data={"email": "nope", "role": "viewer"},
    ),
    Case(
        "POST",
        "/teams/{team_id}/invitations/{invitation_id}/revoke",
        "manage_members",
        prepare=lambda s, world: w.disposable_invitation(s, world, site=False),
    ),
    Case(
        "POST",
        "/teams/{team_id}/members/{user_id}/role",
        "manage_members",
        data={"role": "emperor"},
        prepare=w.disposable_member,
    ),
    Case(
        "POST",
        "/teams/{team_id}/members/{user_id}/remove",
        "manage_members",
        prepare=w.disposable_member,
    ),
]
# The team's plans and billing (billing on; walked by the billing_walk fixture): members see
# the plan, owners alone change it. Each allowed POST fails validation before Stripe.
BILLING_CASES = [
    Case("GET", "/billing/teams/{team_id}", "view_plan"),
    Case(
        "POST",
        "/billing/teams/{team_id}/checkout",
        "manage_billing",
        data={"plan": "free", "interval": "month"},
    ),
    Case("POST", "/billing/teams/{team_id}/portal", "manage_billing"),  # no customer yet
    Case("POST", "/billing/teams/{team_id}/cancel", "manage_billing", data={"at_period_end": "x"}),
    Case("POST", "/billing/teams/{team_id}/switch", "manage_billing", data={"plan": "free"}),
]
# Routes with a site or team in the path that need no permission of their own.
NOT_SCOPED = {("GET", "/dashboard/{domain}")}  # a redirect to /sites/{domain}


@pytest.fixture
def walk(settings: Settings, stores: Stores) -> Iterator[tuple[TestClient, w.World]]:
    world = w.build_world(stores)
    with TestClient(create_app(settings, stores), follow_redirects=False) as client:
        yield client, world


def _send(
    client: TestClient,
    world: w.World,
    role: str,
    case: Case,
    domain: str,
    team_id: int,
    params: dict[str, str],
) -> Any:
    path = (
        case.path.format(domain=domain, team_id=team_id, **params)
        if "{" in case.path
        else case.path
    )
    client.cookies.clear()
    headers = {}
    if role != "anonymous":
        client.cookies.set("jt_session", world.cookies[role])
        headers["X-CSRF-Token"] = world.csrf[role]
    if case.method == "GET":
        return client.get(path)
    if case.json is not None or case.method != "POST":
        return client.request(case.method, path, json=case.json, headers=headers)
    data = dict(case.data or {})
    if role != "anonymous":
        data["csrf_token"] = world.csrf[role]
    return client.post(path, data=data)


def _refused(role: str, case: Case, status: int) -> bool:
    if role == "anonymous":
        return status == (401 if case.path.startswith("/api/") else 303)
    if "view_stats" in MAY[role]:
        return status == case.visible_refusal
    return status == 404


@pytest.fixture
def billing_walk(settings: Settings, stores: Stores) -> Iterator[tuple[TestClient, w.World]]:
    """The walk with billing on; Stripe's address is a closed port: no case may call it."""
    billed = unreachable_billing(settings)
    world = w.build_world(stores)
    with TestClient(create_app(billed, stores), follow_redirects=False) as client:
        yield client, world


@pytest.mark.parametrize("role", w.ROLES)
@pytest.mark.slow
def test_every_scoped_route_for_every_role(
    role: str, walk: tuple[TestClient, w.World], stores: Stores
) -> None:
    _walk_cases(role, walk, stores, CASES)


@pytest.mark.parametrize("role", w.ROLES)
def test_every_billing_route_for_every_role(
    role: str, billing_walk: tuple[TestClient, w.World], stores: Stores
) -> None:
    _walk_cases(role, billing_walk, stores, BILLING_CASES)


def _walk_cases(
    role: str, walk: tuple[TestClient, w.World], stores: Stores, cases: list[Case]
) -> None:
    client, world = walk
    for case in cases:
        params: dict[str, str] = {}
        if case.prepare is not None:
            with stores.control.session() as session:
                params = case.prepare(session, world)
        allowed = case.action in MAY[role]
        before = None if allowed else w.snapshot(stores)
        response = _send(client, world, role, case, world.domain, world.team_id, params)
        where = f"{role} {case.method} {case.path}: {response.status_code} {response.text[:200]}"
        if allowed:
            assert response.status_code in (200, 303, 400), where
            assert response.status_code != 303 or "/login" not in response.headers.get(
                "location", ""
            ), where
        else:
            assert _refused(role, case, response.status_code), where
            assert w.snapshot(stores) == before, f"{where}: the store changed"


@pytest.mark.parametrize("role", ["owner", "admin", "viewer", "guest_editor", "guest_viewer"])
@pytest.mark.slow
def test_another_tenants_site_and_team_answer_404(
    role: str, walk: tuple[TestClient, w.World], stores: Stores
) -> None:
    _another_tenant(role, walk, stores, CASES)


@pytest.mark.parametrize("role", ["owner", "admin", "viewer"])
def test_another_tenants_billing_answers_404(
    role: str, billing_walk: tuple[TestClient, w.World], stores: Stores
) -> None:
    _another_tenant(role, billing_walk, stores, BILLING_CASES)


def _another_tenant(
    role: str, walk: tuple[TestClient, w.World], stores: Stores, cases: list[Case]
) -> None:
    client, world = walk
    # Every case is refused: the store is compared once, after all of them.
    before = w.snapshot(stores)
    for case in cases:
        params = {
            key: "1"
            for key in re.findall(r"\{(\w+)\}", case.path)
            if key not in ("domain", "team_id")
        }
        response = _send(client, world, role, case, world.other_domain, world.other_team_id, params)
        assert response.status_code == 404, (
            f"{role} {case.method} {case.path}: {response.status_code}"
        )
        # A site that does not exist answers the same as one you may not see.
        missing = _send(client, world, role, case, "missing.example", 999_999, params)
        assert missing.status_code == 404
        assert missing.json() == response.json()
    after = w.snapshot(stores)
    assert after == before, [name for name in before if after[name] != before[name]]


def test_every_scoped_route_is_walked(settings: Settings) -> None:
    app = create_app(settings)
    walked = {(case.method, case.path.split("?")[0]) for case in CASES + BILLING_CASES}
    walked |= NOT_SCOPED
    scoped = set()
    for route in app.routes:
        path = getattr(route, "path", "")
        if isinstance(route, Mount) or not re.search(r"\{(domain|team_id)\}", path):
            continue
        for method in getattr(route, "methods", None) or ():
            if method != "HEAD":
                scoped.add((method, path))
    assert scoped - walked == set(), "add these routes to CASES with the action they need"


ACCOUNT_PAGES = [
    "/sites",
    "/sites/new",
    "/teams",
    "/account",
    "/account/sessions",
    "/account/2fa",
    "/account/api-keys",
    "/account/delete",
]


def test_account_pages_need_a_session(walk: tuple[TestClient, w.World]) -> None:
    client, world = walk
    client.cookies.clear()
    for path in ACCOUNT_PAGES:
        response = client.get(path)
        assert response.status_code == 303 and response.headers["location"].startswith(
            "/login?next="
        ), path
    assert client.get("/api/sites").status_code == 401
    assert client.get("/api/account/me").status_code == 401
    client.cookies.set("jt_session", world.cookies["viewer"])
    for path in ACCOUNT_PAGES:
        assert client.get(path).status_code == 200, path


def test_visible_sites_per_role(walk: tuple[TestClient, w.World]) -> None:
    client, world = walk
    for role in w.ROLES[:-1]:
        client.cookies.clear()
        client.cookies.set("jt_session", world.cookies[role])
        domains = [site["domain"] for site in client.get("/api/sites").json()["sites"]]
        assert domains == ([world.other_domain] if role == "stranger" else [world.domain]), role
