"""A real PostgreSQL database with Umami's tables (their names, columns and types as
Umami's migrations define them) and rows written here, with known totals: imported
through `jetrack import umami` (stopped midway and run again), read through the Stats API."""

from __future__ import annotations

import uuid
from typing import Any

import orjson
import psycopg
import pytest

from jetrack.imports import registry
from jetrack.imports.context import ImportRefused
from jetrack.imports.foreground import run_in_foreground
from jetrack.store.job_queue import Stopping
from jetrack.store.stores import Stores
from tests.imports.helpers import import_with_a_stop, make_site, report, stop_at

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

# Umami's tables, as its migrations leave them (the columns an import reads, and others).
UMAMI_TABLES = """
CREATE TABLE website (
    website_id UUID PRIMARY KEY, name VARCHAR(100) NOT NULL, domain VARCHAR(500),
    reset_at TIMESTAMPTZ(6), user_id UUID, team_id UUID, created_by UUID,
    created_at TIMESTAMPTZ(6) DEFAULT CURRENT_TIMESTAMP, updated_at TIMESTAMPTZ(6),
    deleted_at TIMESTAMPTZ(6)
);
CREATE TABLE session (
    session_id UUID PRIMARY KEY, website_id UUID NOT NULL, browser VARCHAR(20),
    os VARCHAR(20), device VARCHAR(20), screen VARCHAR(11), language VARCHAR(35),
    country CHAR(2), region VARCHAR(20), city VARCHAR(50), distinct_id VARCHAR(50),
    created_at TIMESTAMPTZ(6) DEFAULT CURRENT_TIMESTAMP
);
CREATE TABLE website_event (
    event_id UUID PRIMARY KEY, website_id UUID NOT NULL, session_id UUID NOT NULL,
    visit_id UUID NOT NULL, created_at TIMESTAMPTZ(6) DEFAULT CURRENT_TIMESTAMP,
    url_path VARCHAR(500) NOT NULL, url_query VARCHAR(500), utm_source VARCHAR(255),
    utm_medium VARCHAR(255), utm_campaign VARCHAR(255), utm_content VARCHAR(255),
    utm_term VARCHAR(255), referrer_path VARCHAR(500), referrer_query VARCHAR(500),
    referrer_domain VARCHAR(500), page_title VARCHAR(500), gclid VARCHAR(255),
    fbclid VARCHAR(255), event_type INTEGER NOT NULL DEFAULT 1, event_name VARCHAR(50),
    tag VARCHAR(50), hostname VARCHAR(100)
);
CREATE TABLE event_data (
    event_data_id UUID PRIMARY KEY, website_id UUID NOT NULL, website_event_id UUID NOT NULL,
    data_key VARCHAR(500) NOT NULL, string_value VARCHAR(500), number_value DECIMAL(19, 4),
    date_value TIMESTAMPTZ(6), data_type INTEGER NOT NULL,
    created_at TIMESTAMPTZ(6) DEFAULT CURRENT_TIMESTAMP
);
"""
WEBSITE, OTHER = uuid.uuid4(), uuid.uuid4()
# session -> (browser, os, device, screen, language, country, region, city)
SESSIONS: dict[str, tuple[str, ...]] = {
    "s1": ("chrome", "Windows 10", "desktop", "1920x1080", "en-GB", "GB", "GB-ENG", "London"),
    "s2": ("firefox", "Linux", "laptop", "1366x768", "en-US", "US", "US-TX", "Austin"),
    "s3": ("ios", "iOS", "mobile", "390x844", "de-DE", "DE", "DE-BE", "Berlin"),
    "s4": ("firefox", "Linux", "desktop", "1366x768", "fr-FR", "FR", "FR-IDF", "Paris"),
}
# (session, UTC time, path, query, referrer domain, referrer path, event type, event name)
EVENTS = [
    ("s1", "2024-03-05 10:00:00", "/", None, "www.google.com", "/search", 1, None),
    ("s1", "2024-03-05 10:01:00", "/pricing", None, "example.com", "/", 1, None),
    ("s1", "2024-03-05 10:02:00", "/pricing", None, None, None, 2, "signup"),
    ("s1", "2024-03-05 10:03:00", "/about.html", None, None, None, 1, None),
    ("s2", "2024-03-05 11:00:00", "/pricing", None, "news.ycombinator.com", "/", 1, None),
    ("s3", "2024-03-05 12:00:00", "/blog/", "utm_source=newsletter", None, None, 1, None),
    ("s2", "2024-03-05 12:10:00", "/", None, None, None, 1, None),
    ("s4", "2024-03-06 00:05:00", "/", None, None, None, 1, None),
    ("s4", "2024-03-06 00:06:00", "/pricing", None, None, None, 1, None),
]


def umami_database(url: str) -> str:
    """Umami's tables in the test's database, with the rows above (and another website's)."""
    url = url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(UMAMI_TABLES)
        for website in (WEBSITE, OTHER):
            conn.execute(
                "INSERT INTO website (website_id, name, domain) VALUES (%s, %s, %s)",
                (website, "Example", "example.com"),
            )
        ids = {name: uuid.uuid4() for name in SESSIONS}
        for name, values in SESSIONS.items():
            conn.execute(
                "INSERT INTO session (session_id, website_id, browser, os, device, screen,"
                " language, country, region, city) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
                (ids[name], WEBSITE, *values),
            )
        rows: list[tuple[Any, ...]] = [
            (uuid.uuid4(), WEBSITE, ids[s], uuid.uuid4(), f"{when}+00", path, query, domain,
             ref_path, kind, name, "example.com")
            for s, when, path, query, domain, ref_path, kind, name in EVENTS
        ]  # fmt: skip
        rows.append(  # another website's event: not imported
            (uuid.uuid4(), OTHER, ids["s1"], uuid.uuid4(), "2024-03-05 10:00:00+00", "/x",
             None, None, None, 1, None, "other.example")
        )  # fmt: skip
        signup = next(r[0] for r in rows if r[10] == "signup")
        for key, text, number in (("plan", "pro", None), ("seats", None, "3.0000")):
            conn.execute(
                "INSERT INTO event_data (event_data_id, website_id, website_event_id, data_key,"
                " string_value, number_value, data_type) VALUES (%s, %s, %s, %s, %s, %s, %s)",
                (uuid.uuid4(), WEBSITE, signup, key, text, number, 1 if text else 2),
            )
        conn.cursor().executemany(
            "INSERT INTO website_event (event_id, website_id, session_id, visit_id, created_at,"
            " url_path, url_query, referrer_domain, referrer_path, event_type, event_name,"
            " hostname) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
            rows,
        )
    return url


def test_umami_tables_import_with_known_totals_after_a_stop(
    stores: Stores, postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = umami_database(postgres_url)
    site = make_site(stores)
    params = {"website_id": str(WEBSITE)}
    secrets = {"database_url": url}
    outcome = import_with_a_stop(stores, site, "umami", params, monkeypatch, 3, secrets)
    assert (outcome.rows, outcome.skipped) == (9, {})
    assert report(stores, site, "2024-03-05", "2024-03-06") == {
        # 4 visitors, 5 visits, 8 pageviews (and 1 custom event), 3 bounces, 240 s / 5
        "totals": [4, 5, 8, 60.0, 48],
        "sources": [["Direct / None", 2], ["Google", 1], ["Hacker News", 1], ["newsletter", 1]],
        "pages": [["/", 3, 3], ["/about.html", 1, 1], ["/blog/", 1, 1], ["/pricing", 3, 3]],
        "countries": [["DE", 1], ["FR", 1], ["GB", 1], ["US", 1]],
        "devices": [["Desktop", 3], ["Mobile", 1]],
        "browsers": [["Chrome", 1], ["Firefox", 2], ["Safari", 1]],
    }
    props = stores.events.query("SELECT name, props FROM events WHERE name != 'pageview'").rows
    assert [(name, dict(p)) for name, p in props] == [("signup", {"plan": "pro", "seats": "3"})]
    with pytest.raises(ImportRefused, match="no website"):
        run_in_foreground(stores, site, "umami", "t", {"website_id": str(uuid.uuid4())}, secrets)
    # Stopped, then run again without the URL (as the job runner would after a restart):
    # refused, and its day salts are gone from the checkpoint.
    record_progress = stop_at(monkeypatch, 3)
    other = make_site(stores, "other.example")
    with pytest.raises(Stopping):
        run_in_foreground(stores, other, "umami", "t", params, secrets)
    monkeypatch.setattr(registry, "record_progress", record_progress)
    with pytest.raises(ImportRefused, match="URL is not stored"):
        run_in_foreground(stores, other, "umami", "t", params)
    with stores.control.session() as session:
        (record,) = registry.list_imports(session, other.id)
        assert record.status == registry.FAILED
        assert orjson.loads(record.checkpoint)["salts"] == {}
