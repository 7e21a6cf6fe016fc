"""time:minute for the realtime view: labels per minute, counts in the right minute."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from jetrack.stats.engine import run_query
from jetrack.stats.errors import QueryError
from jetrack.stats.query import SiteInfo
from jetrack.store.stores import Stores
from tests.stats.helpers import insert, visit

SITE = SiteInfo(id=7, domain="minutes.example", timezone="Europe/Berlin", goals=())
NOW = datetime(2024, 5, 1, 12, 30, tzinfo=UTC)


def test_visitors_per_minute_with_labels(stores: Stores) -> None:
    insert(
        stores,
        visit(1, 1, [("2024-05-01 12:01:10", "/"), ("2024-05-01 12:01:50", "/a")], site_id=7),
    )
    insert(stores, visit(2, 2, [("2024-05-01 12:03:00", "/")], site_id=7))
    answer = run_query(
        stores.events,
        SITE,
        {
            "site_id": SITE.domain,
            "metrics": ["visitors", "pageviews"],
            "date_range": ["2024-05-01T12:00:00Z", "2024-05-01T12:05:00Z"],
            "dimensions": ["time:minute"],
            "include": {"time_labels": True},
        },
        now=NOW,
    )
    # Berlin is UTC+2 in May: labels are local minutes.
    assert answer["meta"]["time_labels"] == [
        f"2024-05-01 14:0{m}:00" for m in range(6)
    ]  # the end second is included
    rows = {r["dimensions"][0]: r["metrics"] for r in answer["results"]}
    assert rows == {"2024-05-01 14:01:00": [1, 2], "2024-05-01 14:03:00": [1, 1]}


def test_minutes_over_long_ranges_are_refused(stores: Stores) -> None:
    with pytest.raises(QueryError, match="time:minute is for ranges of up to two days"):
        run_query(
            stores.events,
            SITE,
            {
                "site_id": SITE.domain,
                "metrics": ["visitors"],
                "date_range": "30d",
                "dimensions": ["time:minute"],
            },
            now=NOW,
        )
