"""jobs/reports.py: a report's numbers equal the Stats API's over HTTP, for the same period
and site time zone (one seeded site for the module: chDB opens one data path per process,
so these live apart from the delivery tests)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from starlette.testclient import TestClient

from jetrack.accounts.api_keys import create_api_key
from jetrack.app import create_app
from jetrack.demo import seed_demo
from jetrack.jobs import reports
from jetrack.stats.query import SiteInfo
from jetrack.store.models import Site, User
from jetrack.store.stores import Stores, open_stores
from tests.conftest import make_settings, row

BERLIN = "Europe/Berlin"


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Stores, SiteInfo, str]]:
    settings = make_settings(tmp_path_factory.mktemp("reports") / "data")
    stores = open_stores(settings)
    site = seed_demo(
        stores, "berlin.example", "owner@berlin.example", days=75, visitors_per_day=40,
        timezone=BERLIN,
    )  # fmt: skip
    with stores.control.session() as session:
        owner = session.scalars(select(User).where(User.email == "owner@berlin.example")).one()
        _, key = create_api_key(session, owner, "report test")
        info = SiteInfo.from_site(row(session, Site, site.id))
    try:
        yield stores, info, key
    finally:
        stores.close()


def _api(client: TestClient, key: str, body: dict[str, Any]) -> dict[str, Any]:
    response = client.post("/api/v2/query", json=body, headers={"Authorization": f"Bearer {key}"})
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


@pytest.mark.slow
@pytest.mark.parametrize("period", ["week", "month"])
def test_report_numbers_equal_the_stats_api(
    seeded: tuple[Stores, SiteInfo, str], period: str
) -> None:
    stores, site, key = seeded
    today = datetime.now(UTC).astimezone(ZoneInfo(BERLIN)).date()
    if period == "week":
        # The Monday of this week in Berlin, and the whole week before it.
        first = today - timedelta(days=today.weekday() + 7)
        last, before = first + timedelta(days=6), (first - timedelta(days=7), first - timedelta(1))
    else:
        last = today.replace(day=1) - timedelta(days=1)
        first = last.replace(day=1)
        before_last = first - timedelta(days=1)
        before = (before_last.replace(day=1), before_last)
    report = reports.build_report(stores.events, site, period, first, has_goals=True)
    assert (report.first, report.last, report.timezone) == (first, last, BERLIN)

    span = [first.isoformat(), last.isoformat()]
    with TestClient(create_app(stores.settings, stores)) as client:
        totals = _api(client, key, {"site_id": site.domain, "date_range": span,
                      "metrics": ["visitors", "visits", "pageviews", "bounce_rate",
                                  "visit_duration"]})["results"][0]["metrics"]  # fmt: skip
        earlier = _api(client, key, {"site_id": site.domain, "metrics": ["visitors"],
                       "date_range": [d.isoformat() for d in before]})  # fmt: skip
        days = _api(client, key, {"site_id": site.domain, "metrics": ["visitors"],
                    "date_range": span, "dimensions": ["time:day"]})["results"]  # fmt: skip
        sources = _api(client, key, {"site_id": site.domain, "metrics": ["visitors"],
                       "date_range": span, "dimensions": ["visit:source"]})["results"]  # fmt: skip
        pages = _api(client, key, {"site_id": site.domain, "metrics": ["visitors"],
                     "date_range": span, "dimensions": ["event:page"]})["results"]  # fmt: skip
        goals = _api(client, key, {"site_id": site.domain, "metrics": ["visitors"],
                     "date_range": span, "dimensions": ["event:goal"]})["results"]  # fmt: skip

    assert [f.value for f in report.figures] == [float(v) for v in totals]
    assert totals[0] > 0
    was = earlier["results"][0]["metrics"][0]
    assert report.figure("visitors").change == round((totals[0] - was) / was * 100)
    assert [d.label for d in report.days] == [
        (first + timedelta(days=k)).isoformat() for k in range((last - first).days + 1)
    ]
    assert {d.label: d.visitors for d in report.days if d.visitors} == {
        row["dimensions"][0]: row["metrics"][0] for row in days
    }

    def top(rows: list[dict[str, Any]]) -> list[tuple[str, int]]:
        ranked = sorted(((r["dimensions"][0], r["metrics"][0]) for r in rows), key=lambda r: -r[1])
        return ranked[: reports.TOP_ROWS]

    # Ties may come in any order: compare the counts in order and the labels as sets.
    for mine, theirs in ((report.sources, sources), (report.pages, pages), (report.goals, goals)):
        assert [e.visitors for e in mine] == [n for _, n in top(theirs)]
        assert {e.label for e in mine} <= {label for label, _ in top(theirs)} | {
            r["dimensions"][0] for r in theirs if r["metrics"][0] == mine[-1].visitors
        }
    assert report.countries and sum(e.visitors for e in report.countries) <= totals[0]
