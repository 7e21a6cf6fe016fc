"""Queries built without a database, for the unit tests of each stage of the engine."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from jetrack.stats.optimize import optimize
from jetrack.stats.parse import parse
from jetrack.stats.query import GoalInfo, Query, SiteInfo

NOW = datetime(2024, 3, 20, 12, 0, tzinfo=UTC)
GOALS = (GoalInfo("Signup", event_name="Signup"), GoalInfo("Blog", page_path="/blog/*"))
UTC_SITE = SiteInfo(7, "example.com", "UTC", GOALS)
BERLIN = SiteInfo(7, "example.com", "Europe/Berlin", GOALS)


def parsed(site: SiteInfo = UTC_SITE, first_data_day: date | None = None, **request: Any) -> Query:
    """`request` (date_range 2024-03-09..11 and visitors unless given) parsed for `site`."""
    body = {"site_id": site.domain, "date_range": ["2024-03-09", "2024-03-11"],
            "metrics": ["visitors"], **request}  # fmt: skip
    return parse(body, site, NOW, first_data_day)


def optimized(site: SiteInfo = UTC_SITE, **request: Any) -> Query:
    return optimize(parsed(site, **request))
