"""Build small hand-made event fixtures: full-width rows with defaults for every column."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pyarrow as pa

from jetrack.demo import seed_demo
from jetrack.sites.sites import find_site
from jetrack.stats.query import GoalInfo, SiteInfo
from jetrack.store.sessions import rebuild_sessions
from jetrack.store.stores import Stores

SITE_ID = 1

# Arrow types in the column order of the events table (0001_events.sql).
COLUMNS: list[tuple[str, pa.DataType, Any]] = [
    ("site_id", pa.uint32(), SITE_ID),
    ("timestamp", pa.timestamp("s", tz="UTC"), None),
    ("name", pa.string(), "pageview"),
    ("visitor_id", pa.uint64(), 1),
    ("session_id", pa.uint64(), 1),
    ("hostname", pa.string(), "example.com"),
    ("pathname", pa.string(), "/"),
    ("referrer", pa.string(), ""),
    ("source", pa.string(), ""),
    ("channel", pa.string(), "Direct"),
    ("utm_medium", pa.string(), ""),
    ("utm_source", pa.string(), ""),
    ("utm_campaign", pa.string(), ""),
    ("utm_content", pa.string(), ""),
    ("utm_term", pa.string(), ""),
    ("click_id_param", pa.string(), ""),
    ("entry_page", pa.string(), "/"),
    ("country_code", pa.string(), ""),
    ("region_code", pa.string(), ""),
    ("city", pa.string(), ""),
    ("city_geoname_id", pa.uint32(), 0),
    ("device", pa.string(), "Desktop"),
    ("screen_size", pa.string(), "Desktop"),
    ("browser", pa.string(), "Firefox"),
    ("browser_version", pa.string(), "120"),
    ("os", pa.string(), "Linux"),
    ("os_version", pa.string(), ""),
    ("language", pa.string(), "en"),
    ("props", pa.map_(pa.string(), pa.string()), None),
    ("revenue_amount", pa.decimal128(18, 3), Decimal(0)),
    ("revenue_currency", pa.string(), ""),
    ("interactive", pa.uint8(), None),
    ("scroll_depth", pa.uint8(), 0),
    ("engagement_ms", pa.uint32(), 0),
]


def at(text: str) -> datetime:
    """A UTC instant from 'YYYY-MM-DD HH:MM[:SS]'."""
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def event(when: str, **values: Any) -> dict[str, Any]:
    """One events row; `when` is UTC. `interactive` defaults from the event name."""
    row = {name: default for name, _, default in COLUMNS}
    row["timestamp"] = at(when)
    row.update(values)
    if row["interactive"] is None:
        row["interactive"] = 0 if row["name"] == "engagement" else 1
    row["props"] = list((row["props"] or {}).items())
    return row


def visit(
    session_id: int, visitor_id: int, steps: list[tuple[str, str]], **attrs: Any
) -> list[dict[str, Any]]:
    """Pageviews of one visit: steps are (utc time, path); entry_page is the first path."""
    attrs.setdefault("entry_page", steps[0][1])
    return [
        event(when, session_id=session_id, visitor_id=visitor_id, pathname=path, **attrs)
        for when, path in steps
    ]


def insert(stores: Stores, rows: list[dict[str, Any]]) -> None:
    """Insert events rows, then rebuild the sessions rows of their visits (as ingestion
    would have written them)."""
    arrays = [pa.array([r[name] for r in rows], type=kind) for name, kind, _ in COLUMNS]
    table = pa.Table.from_arrays(arrays, names=[name for name, _, _ in COLUMNS])
    stores.events.insert_arrow("events", table)
    # One statement for every site (a test may insert for 200): a visit id another site
    # also has gets its row rebuilt from its own events, the row it already had.
    sites = {r["site_id"] for r in rows}
    rebuild_sessions(
        stores.events,
        site_id=next(iter(sites)) if len(sites) == 1 else None,
        session_ids={r["session_id"] for r in rows},
    )


def demo_site(stores: Stores, now: datetime, *goals: GoalInfo) -> SiteInfo:
    """The demo's traffic (a week up to `now`, 300 visitors a day) as a UTC site with the
    demo's goals and `goals`."""
    made = seed_demo(stores, owner_email="owner@example.com", days=7, visitors_per_day=300,
                     now=int(now.timestamp()))  # fmt: skip
    with stores.control.session() as session:
        found = find_site(session, made.domain)
        assert found is not None
        demo = SiteInfo.from_site(found)
    return SiteInfo(made.id, made.domain, "UTC", (*demo.goals, *goals))
