"""Cookieless identity: daily salts, visitor ids, and 30-minute visits across midnight."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from jetrack.enrich import GeoLookup
from jetrack.ingest.client_ip import parse_address
from jetrack.ingest.pipeline import Dropped, Incoming, Pipeline
from jetrack.ingest.sessions import SessionTable
from jetrack.ingest.site_cache import SiteCache
from jetrack.ingest.wire import parse_event
from jetrack.store.salts import SaltRing, rotate_salts, salt_ages
from jetrack.store.schema import EVENT_COLUMNS as COLUMN_NAMES
from jetrack.store.stores import Stores
from tests.ingest.conftest import CHROME

MIDNIGHT = datetime(2031, 3, 10, tzinfo=UTC)  # far from the real clock


def _pipeline(stores: Stores, ring: SaltRing) -> Pipeline:
    sites = SiteCache(stores.control)
    sites.refresh()
    return Pipeline(sites, GeoLookup(), SessionTable(30 * 60), ring)


def _run(
    p: Pipeline,
    at: datetime,
    *,
    ip: str = "203.0.113.7",
    domain: str = "example.com",
    name: str = "pageview",
    ua: str = CHROME,
) -> dict[str, object]:
    wire = parse_event({"n": name, "u": f"https://{domain}/", "d": domain})
    row = p.run(Incoming(wire, domain, parse_address(ip), ua, "", at.timestamp()))
    return dict(zip(COLUMN_NAMES, row, strict=True))


def test_salts_are_random_rotated_at_midnight_and_deleted_after_48h(site_stores: Stores) -> None:
    day1 = rotate_salts(site_stores.control, MIDNIGHT + timedelta(hours=1))
    again = rotate_salts(site_stores.control, MIDNIGHT + timedelta(hours=23, minutes=59))
    assert again.current == day1.current and len(day1.current) >= 16
    day2 = rotate_salts(site_stores.control, MIDNIGHT + timedelta(days=1, seconds=1))
    assert day2.current != day1.current and day2.previous == day1.current
    day3 = rotate_salts(site_stores.control, MIDNIGHT + timedelta(days=2, seconds=1))
    assert day3.previous == day2.current
    ages = salt_ages(site_stores.control, MIDNIGHT + timedelta(days=2, seconds=1))
    assert len(ages) == 2 and max(ages) <= timedelta(hours=48)  # day 1's salt is gone


def test_visits_idle_30_minutes_end(site_stores: Stores) -> None:
    ring = SaltRing(site_stores.control)
    ring.rotate(MIDNIGHT + timedelta(hours=9))
    p = _pipeline(site_stores, ring)
    start = MIDNIGHT + timedelta(hours=9)
    first = _run(p, start)
    same = _run(p, start + timedelta(minutes=29))
    later = _run(p, start + timedelta(minutes=29 + 31))
    assert first["visitor_id"] == same["visitor_id"] == later["visitor_id"]
    assert first["session_id"] == same["session_id"] != later["session_id"]


def test_visitor_ids_differ_by_site_address_agent_and_day(site_stores: Stores) -> None:
    ring = SaltRing(site_stores.control)
    ring.rotate(MIDNIGHT + timedelta(hours=9))
    p = _pipeline(site_stores, ring)
    at = MIDNIGHT + timedelta(hours=9)
    base = _run(p, at)["visitor_id"]
    assert _run(p, at, domain="other.org")["visitor_id"] != base
    assert _run(p, at, ip="203.0.113.8")["visitor_id"] != base
    assert _run(p, at, ua=CHROME.replace("131", "130"))["visitor_id"] != base
    ring.rotate(MIDNIGHT + timedelta(days=1, hours=9))
    assert _run(p, MIDNIGHT + timedelta(days=1, hours=9))["visitor_id"] != base


def test_a_visit_continues_across_midnight_then_ids_rotate(site_stores: Stores) -> None:
    ring = SaltRing(site_stores.control)
    ring.rotate(MIDNIGHT - timedelta(minutes=10))
    p = _pipeline(site_stores, ring)
    before = _run(p, MIDNIGHT - timedelta(minutes=10))
    ring.rotate(MIDNIGHT + timedelta(seconds=5))
    after = _run(p, MIDNIGHT + timedelta(minutes=5))
    assert after["session_id"] == before["session_id"]
    assert after["visitor_id"] == before["visitor_id"]
    # Once that visit is over, the same person is a new visitor of the new day.
    fresh = _run(p, MIDNIGHT + timedelta(hours=2))
    assert (
        fresh["visitor_id"] != before["visitor_id"] and fresh["session_id"] != before["session_id"]
    )


def test_engagement_without_a_visit_is_dropped(site_stores: Stores) -> None:
    p = _pipeline(site_stores, SaltRing(site_stores.control))
    with pytest.raises(Dropped) as caught:
        _run(p, datetime.now(UTC), name="engagement")
    assert caught.value.reason.value == "engagement_without_visit"


def test_cookie_mode_uses_the_first_party_id_only_when_enabled(site_stores: Stores) -> None:
    from tests.ingest.conftest import configure_site

    p = _pipeline(site_stores, SaltRing(site_stores.control))
    now = datetime.now(UTC).timestamp()
    wire = parse_event(
        {
            "n": "pageview",
            "u": "https://example.com/",
            "d": "example.com",
            "c": "random-cookie-id-1",
        }
    )
    without = p.run(Incoming(wire, "example.com", parse_address("203.0.113.7"), CHROME, "", now))
    configure_site(site_stores, "example.com", cookie_mode=True)
    p.sites.refresh()
    with_cookie = p.run(
        Incoming(wire, "example.com", parse_address("198.51.100.1"), CHROME, "", now)
    )
    other_ip = p.run(
        Incoming(
            wire, "example.com", parse_address("198.51.100.2"), CHROME + " x", "", now + 86400 * 3
        )
    )
    visitor = COLUMN_NAMES.index("visitor_id")
    assert with_cookie[visitor] == other_ip[visitor] != without[visitor]
