"""What a plan allows, through the pages and APIs: with billing on, one more site or
member and a plan's missing features are refused (402, naming the plan and the upgrade
page); past the quota's grace the dashboards, shared links and Stats API answer 402 while
events are still stored; with billing off (the default) none of it exists."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import orjson
import pytest
from starlette.testclient import TestClient

from jetrack.accounts.api_keys import SITES_SCOPE, STATS_SCOPE, create_api_key
from jetrack.app import create_app
from jetrack.billing.changes import apply_plan
from jetrack.billing.quota import GRACE_DAYS
from jetrack.jobs.quota import check_team
from jetrack.sites.shared_links import create_shared_link
from jetrack.store.models import Site, Team, User, utcnow
from jetrack.store.stores import Stores, open_stores
from tests.billing.helpers import BILLING_ON, add_events, over_quota_since, team_with_sites
from tests.conftest import copy_template, make_settings
from tests.ingest.conftest import CHROME, VISITOR
from tests.privacy.helpers import count_events
from tests.web.logins import login


@contextmanager
def instance(tmp_path: Path, template: Path, billing: bool) -> Iterator[Stores]:
    settings = make_settings(tmp_path / "data", **(BILLING_ON if billing else {}))
    copy_template(template, settings)
    stores = open_stores(settings)
    try:
        yield stores
    finally:
        stores.close()


@pytest.fixture
def billed(tmp_path: Path, data_dir_template: Path) -> Iterator[Stores]:
    with instance(tmp_path, data_dir_template, billing=True) as stores:
        yield stores


@pytest.fixture
def unbilled(tmp_path: Path, data_dir_template: Path) -> Iterator[Stores]:
    with instance(tmp_path, data_dir_template, billing=False) as stores:
        yield stores


@contextmanager
def signed_in(stores: Stores, user_id: int) -> Iterator[tuple[TestClient, str]]:
    app = create_app(stores.settings, stores)
    with TestClient(app, follow_redirects=False, client=VISITOR) as client:
        session = login(stores, user_id)
        session.use(client)
        yield client, session.csrf


def form(client: TestClient, path: str, csrf: str, **data: Any) -> Any:
    return client.post(path, data={"csrf_token": csrf, **data}, headers={"Accept": "text/html"})


def new_site(client: TestClient, csrf: str, domain: str) -> Any:
    return form(client, "/sites/new", csrf, domain=domain, name="", timezone="UTC", team_id="")


def test_billing_on_refuses_beyond_the_plan_naming_it_and_the_upgrade(billed: Stores) -> None:
    user_id, team_id, _ = team_with_sites(billed, "ann@a.example", "a.example")
    upgrade = f"/billing/teams/{team_id}"
    with signed_in(billed, user_id) as (client, csrf):
        refused = new_site(client, csrf, "b.example")
        assert refused.status_code == 402
        assert "The Free plan allows 1 site(s)." in refused.text and upgrade in refused.text

        invited = form(client, f"/teams/{team_id}/invitations", csrf, email="bo@x.example",
                       role="viewer")  # fmt: skip
        assert invited.status_code == 402 and "allows 1 team member(s)" in invited.text

        funnel = form(client, "/sites/a.example/funnels", csrf, funnel_name="F", step="1")
        assert funnel.status_code == 402 and "does not include funnels" in funnel.text

        revenue = form(client, "/sites/a.example/goals", csrf, goal_type="event",
                       event_name="Buy", currency="EUR")  # fmt: skip
        assert revenue.status_code == 402 and "does not include revenue goals" in revenue.text
        plain = form(client, "/sites/a.example/goals", csrf, goal_type="event", event_name="Buy")
        assert plain.status_code == 303  # a goal without revenue is in every plan

        key = form(client, "/account/api-keys", csrf, name="k", scope=STATS_SCOPE)
        assert key.status_code == 402 and "does not include the Stats API" in key.text

        upload = client.post(
            "/api/sites/a.example/imports?kind=plausible&name=e.zip",
            content=b"x",
            headers={"X-CSRF-Token": csrf},
        )
        assert upload.status_code == 201  # Free includes imports
    with billed.control.session() as session:
        apply_plan(session, session.get_one(Team, team_id), "business", reason="checkout",
                   now=utcnow())  # fmt: skip
        assert session.query(Site).count() == 1
    with signed_in(billed, user_id) as (client, csrf):
        assert new_site(client, csrf, "b.example").status_code == 303
        created = form(client, "/sites/a.example/funnels", csrf, funnel_name="F", step="1")
        assert created.status_code != 402


def test_the_sites_api_answers_402_json(billed: Stores) -> None:
    user_id, team_id, _ = team_with_sites(billed, "ann@a.example", "a.example")

    with billed.control.session() as session:
        _, key = create_api_key(session, session.get_one(User, user_id), "sites", SITES_SCOPE)
    with TestClient(create_app(billed.settings, billed)) as client:
        answer = client.post(
            "/api/v1/sites",
            json={"domain": "b.example"},
            headers={"Authorization": f"Bearer {key}"},
        )
    assert answer.status_code == 402
    assert answer.json() == {
        "error": f"The Free plan allows 1 site(s). Upgrade: /billing/teams/{team_id}",
        "plan": "free",
        "upgrade_url": f"/billing/teams/{team_id}",
    }


def test_billing_off_a_free_team_has_no_limits_and_sees_nothing_of_billing(
    unbilled: Stores,
) -> None:
    user_id, team_id, (site_id,) = team_with_sites(unbilled, "ann@a.example", "a.example")
    with signed_in(unbilled, user_id) as (client, csrf):
        for number in range(2, 6):
            assert new_site(client, csrf, f"s{number}.example").status_code == 303
        funnel = form(client, "/sites/a.example/funnels", csrf, funnel_name="F", step="1")
        assert funnel.status_code != 402
        revenue = form(client, "/sites/a.example/goals", csrf, goal_type="event",
                       event_name="Buy", currency="EUR")  # fmt: skip
        assert revenue.status_code == 303
        assert (
            form(client, "/account/api-keys", csrf, name="k", scope=STATS_SCOPE).status_code == 200
        )
        team_page = client.get(f"/teams/{team_id}").text
        assert "data-usage" not in team_page and "Usage" not in team_page
        # Even a team far over Free's quota: no banner, no lock.
        add_events(unbilled.events, site_id, utcnow(), 20_000)
        over_quota_since(unbilled, team_id, GRACE_DAYS + 1)
        sites = client.get("/sites").text
        assert "jt-billing-banner" not in sites and "/billing/" not in sites
        assert client.get("/sites/a.example").status_code == 200
    with unbilled.control.session() as session:
        assert session.query(Site).count() == 5


def post_event(client: TestClient, domain: str) -> int:
    body = orjson.dumps({"n": "pageview", "u": f"https://{domain}/", "d": domain})
    return client.post(
        "/api/event", content=body, headers={"Content-Type": "text/plain", "User-Agent": CHROME}
    ).status_code


def test_locked_past_the_grace_events_kept_then_an_upgrade_unlocks(billed: Stores) -> None:
    user_id, team_id, (site_id,) = team_with_sites(billed, "ann@a.example", "a.example")
    add_events(billed.events, site_id, utcnow(), 10_500)
    over_quota_since(billed, team_id, GRACE_DAYS + 1)
    with billed.control.session() as session:
        _, stats_key = create_api_key(session, session.get_one(User, user_id), "k", STATS_SCOPE)
        link = create_shared_link(session, session.get_one(Site, site_id), "public")
        slug = link.slug
    with signed_in(billed, user_id) as (client, csrf):
        page = client.get("/sites/a.example", headers={"Accept": "text/html"})
        assert page.status_code == 402
        assert "Over quota" in page.text and f"/billing/teams/{team_id}" in page.text
        query = client.post(
            "/api/dashboard/a.example/query",
            json={"metrics": ["visitors"], "date_range": "day"},
            headers={"X-CSRF-Token": csrf},
        )
        assert (
            query.status_code == 402 and query.json()["upgrade_url"] == f"/billing/teams/{team_id}"
        )
        assert query.json()["used"] == 10_500 and query.json()["quota"] == 10_000
        assert client.get(f"/share/{slug}").status_code == 402
        sites = client.get("/sites").text
        assert 'data-banner="locked"' in sites
        assert "data-visitors" not in sites  # no figures while locked, here either
        # The tracker's events are stored all the while.
        assert post_event(client, "a.example") == 202
    assert count_events(billed.events, site_id) == 10_501
    with TestClient(create_app(billed.settings, billed)) as api:
        stats = api.post(
            "/api/v2/query",
            json={"site_id": "a.example", "metrics": ["visitors"], "date_range": "day"},
            headers={"Authorization": f"Bearer {stats_key}"},
        )
        assert stats.status_code == 402  # Free: no Stats API, and locked besides
    with billed.control.session() as session:
        apply_plan(session, session.get_one(Team, team_id), "growth", reason="checkout",
                   now=utcnow())  # fmt: skip
    with signed_in(billed, user_id) as (client, csrf):
        assert client.get("/sites/a.example").status_code == 200
        query = client.post(
            "/api/dashboard/a.example/query",
            json={"metrics": ["pageviews"], "date_range": "day"},
            headers={"X-CSRF-Token": csrf},
        )
        assert query.status_code == 200
        assert query.json()["results"][0]["metrics"] == [10_501]
        assert client.get(f"/share/{slug}").status_code == 200
        sites = client.get("/sites").text
        assert "jt-billing-banner" not in sites and "data-visitors" in sites
    with TestClient(create_app(billed.settings, billed)) as api:
        stats = api.post(
            "/api/v2/query",
            json={"site_id": "a.example", "metrics": ["visitors"], "date_range": "day"},
            headers={"Authorization": f"Bearer {stats_key}"},
        )
        assert stats.status_code == 200


def test_the_team_page_shows_usage_against_the_plan(billed: Stores) -> None:
    user_id, team_id, (site_id,) = team_with_sites(billed, "ann@a.example", "a.example")
    add_events(billed.events, site_id, utcnow(), 8_500)
    with billed.control.session() as session:
        check_team(session, billed.events, session.get_one(Team, team_id), utcnow())
    with signed_in(billed, user_id) as (client, _):
        page = client.get(f"/teams/{team_id}").text
        assert 'data-used="8500"' in page and "8,500 / 10,000" in page
        assert 'max="10000" value="8500"' in page
        assert "Plan: Free" in page
        sites = client.get("/sites").text
        assert 'data-banner="warning"' in sites and "85%" in sites


def test_the_plan_pages_show_only_translated_text(billed: Stores) -> None:
    """The banners, the team's Usage and the locked page in the pseudo-language of
    tests/web/test_translated_pages.py: no text skipped the translations."""
    from jetrack.i18n.catalogs import add_language
    from tests.i18n.pseudo import PSEUDO, pseudo_translations
    from tests.web.test_translated_pages import untranslated

    add_language(pseudo_translations())
    ann, ann_team, (ann_site,) = team_with_sites(
        billed, "ann@a.example", "a.example", plan="business"
    )
    with billed.control.session() as session:
        apply_plan(session, session.get_one(Team, ann_team), "free", reason="cancelled",
                   now=utcnow())  # fmt: skip
    add_events(billed.events, ann_site, utcnow(), 10_200)
    over_quota_since(billed, ann_team, 1)
    bob, bob_team, (bob_site,) = team_with_sites(billed, "bob@b.example", "b.example")
    add_events(billed.events, bob_site, utcnow(), 10_200)
    over_quota_since(billed, bob_team, GRACE_DAYS + 1)
    pages = {ann: ["/sites", f"/teams/{ann_team}"], bob: ["/sites", "/sites/b.example"]}
    found = {}
    for user_id, paths in pages.items():
        with signed_in(billed, user_id) as (client, _):
            for path in paths:
                page = client.get(path, headers={"Accept-Language": PSEUDO, "Accept": "text/html"})
                assert (
                    "data-banner" in page.text
                    or "data-usage" in page.text
                    or page.status_code == 402
                )
                if left := untranslated(page.text):
                    found[path] = left
    assert found == {}
