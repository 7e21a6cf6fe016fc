"""The sites list: each site's visitors over the last 24 hours or 7 days with a sparkline and
the change, for 200 sites from one event-store statement (counted in the store's own query
log), and nothing for a site whose owner restricts processing."""

from __future__ import annotations

import contextlib
import logging
import re
import time
from datetime import UTC, datetime, timedelta

import pyarrow as pa
import pytest
from starlette.testclient import TestClient

from jetrack.accounts.login_sessions import start_session
from jetrack.accounts.teams import personal_team
from jetrack.accounts.users import create_user
from jetrack.app import create_app
from jetrack.config import Settings
from jetrack.privacy.restriction import set_restricted
from jetrack.sites.sites import add_site
from jetrack.store.models import Membership, User
from jetrack.store.sessions import rebuild_sessions
from jetrack.store.stores import Stores
from tests.stats.helpers import COLUMNS, event

ZONES = ["UTC", "Asia/Kolkata", "America/New_York", "Europe/Berlin"]
SITES = 200


def _seed(stores: Stores) -> tuple[str, str, dict[str, int]]:
    """200 sites of one owner (a viewer in the owner's team); site n has n % 7 visitors in
    the last hours and, for every fifth, 4 visitors the day before."""
    with stores.control.session() as session:
        owner = create_user(session, "owner@example.com", password="a long password")
        viewer = create_user(session, "viewer@example.com", password="a long password")
        team = personal_team(session, owner)
        session.add(Membership(team_id=team.id, user_id=viewer.id, role="viewer"))
        ids = {
            f"site{n:03d}.example.com": add_site(
                session, owner, f"site{n:03d}.example.com", timezone=ZONES[n % len(ZONES)]
            ).id
            for n in range(SITES)
        }
        _, owner_token = start_session(session, owner)
        _, viewer_token = start_session(session, viewer)
    recent = (datetime.now(UTC) - timedelta(minutes=50)).strftime("%Y-%m-%d %H:%M")
    before = (datetime.now(UTC) - timedelta(hours=30)).strftime("%Y-%m-%d %H:%M")
    rows = []
    for n, site_id in enumerate(ids.values()):
        rows += [event(recent, site_id=site_id, visitor_id=v) for v in range(n % 7)]
        if n % 5 == 0:
            rows += [event(before, site_id=site_id, visitor_id=100 + v) for v in range(4)]
    # One insert and one sessions rebuild for all 200 sites (the list reads events only).
    arrays = [pa.array([r[name] for r in rows], type=kind) for name, kind, _ in COLUMNS]
    stores.events.insert_arrow(
        "events", pa.Table.from_arrays(arrays, names=[c[0] for c in COLUMNS])
    )
    rebuild_sessions(stores.events)
    return owner_token, viewer_token, ids


def _figures(page: str) -> dict[str, tuple[int, str]]:
    """Domain -> (visitors, change text) as the page shows them."""
    cards = re.findall(r'data-site="([^"]+)"(.*?)</section>', page, re.S)
    found = {}
    for domain, card in cards:
        visitors = re.search(r'data-visitors="(\d+)"', card)
        change = re.search(r'class="jt-change[^"]*"[^>]*>([^<]*)<', card)
        if visitors and change:
            found[domain] = (int(visitors.group(1)), change.group(1).strip())
    return found


def test_two_hundred_sites_with_trends_from_one_statement(
    settings: Settings, stores: Stores, caplog: pytest.LogCaptureFixture
) -> None:
    owner_token, _, _ = _seed(stores)
    # The app without its lifespan: no background service (jobs, ingest) queries the event
    # store meanwhile, so the store's query log holds this request's statements alone.
    app = create_app(settings, stores)
    app.state.stores, app.state.settings = stores, settings
    with contextlib.closing(TestClient(app)) as client:
        client.cookies.set("jt_session", owner_token)
        for period in ("", "?period=7d"):
            caplog.clear()
            with caplog.at_level(logging.DEBUG, logger="jetrack.events"):
                started = time.perf_counter()
                page = client.get("/sites" + period)
                elapsed = time.perf_counter() - started
            assert page.status_code == 200, page.text
            statements = [r.getMessage() for r in caplog.records if r.name == "jetrack.events"]
            assert len(statements) == 1, statements
            assert elapsed < 10
            figures = _figures(page.text)
            assert len(figures) == SITES
            assert page.text.count('class="jt-spark"') == SITES
            assert figures["site003.example.com"] == (3, "–")  # nothing the period before
            if period == "":
                # 1 visitor now against 4 the day before: -75 %.
                assert figures["site015.example.com"] == (1, "↓ 75%")
                assert figures["site000.example.com"] == (0, "↓ 100%")
            else:
                # Over 7 days the day-before visitors are in the period itself.
                assert figures["site015.example.com"] == (5, "–")
        assert 'aria-current="true">Last 7 days' in page.text
        bad = client.get("/sites?period=30d")
        assert bad.status_code == 400 and "period: must be 24h or 7d" in bad.text


def test_a_restricted_owner_s_figures_are_shown_to_nobody_else(
    settings: Settings, stores: Stores
) -> None:
    owner_token, viewer_token, _ = _seed(stores)
    with stores.control.session() as session:
        owner = session.query(User).filter_by(email="owner@example.com").one()
        set_restricted(session, owner, True)
    with TestClient(create_app(settings, stores)) as client:
        client.cookies.set("jt_session", viewer_token)
        viewer_page = client.get("/sites")
        client.cookies.clear()
        client.cookies.set("jt_session", owner_token)
        owner_page = client.get("/sites")
    assert viewer_page.status_code == owner_page.status_code == 200
    assert viewer_page.text.count("data-site=") == SITES  # listed, but without figures
    assert _figures(viewer_page.text) == {} and "jt-spark" not in viewer_page.text
    assert len(_figures(owner_page.text)) == SITES
