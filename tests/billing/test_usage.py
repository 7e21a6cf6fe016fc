"""billing/usage.py: billing months, and what counts as a billable event."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from jetrack.billing.usage import (
    Period,
    add_months,
    billing_month,
    count_billable_events,
    current_usage,
    refresh_usage,
)
from jetrack.store.stores import Stores
from tests.billing.helpers import add_events, team_with_sites


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


@pytest.mark.parametrize(
    ("now", "anchor", "period"),
    [
        # No subscription: the calendar month in UTC.
        (utc(2027, 3, 10, 9), None, (utc(2027, 3, 1), utc(2027, 4, 1))),
        (utc(2027, 12, 31, 23, 59), None, (utc(2027, 12, 1), utc(2028, 1, 1))),
        (utc(2027, 3, 1), None, (utc(2027, 3, 1), utc(2027, 4, 1))),
        # A subscription renewing on the 15th at 10:00: months run from then.
        (utc(2027, 3, 20), utc(2026, 11, 15, 10), (utc(2027, 3, 15, 10), utc(2027, 4, 15, 10))),
        (utc(2027, 3, 15, 9), utc(2026, 11, 15, 10), (utc(2027, 2, 15, 10), utc(2027, 3, 15, 10))),
        # A renewal date in the future (the period's end) gives the same months.
        (utc(2027, 3, 20), utc(2027, 4, 15, 10), (utc(2027, 3, 15, 10), utc(2027, 4, 15, 10))),
        # Anchored on the 31st: February's month ends on its last day.
        (utc(2027, 2, 10), utc(2027, 1, 31), (utc(2027, 1, 31), utc(2027, 2, 28))),
        (utc(2027, 3, 5), utc(2027, 1, 31), (utc(2027, 2, 28), utc(2027, 3, 31))),
    ],
)
def test_billing_month(
    now: datetime, anchor: datetime | None, period: tuple[datetime, datetime]
) -> None:
    assert billing_month(now, anchor) == Period(*period)


def test_add_months_clamps_the_day_and_crosses_years() -> None:
    assert add_months(utc(2024, 1, 31), 1) == utc(2024, 2, 29)
    assert add_months(utc(2027, 11, 30), 3) == utc(2028, 2, 29)
    assert add_months(utc(2027, 1, 15), -2) == utc(2026, 11, 15)


def test_pageviews_and_custom_events_count_not_engagement_or_imports(stores: Stores) -> None:
    _, team_id, (one, two) = team_with_sites(stores, "ann@a.example", "a.example", "b.example")
    _, _, (other,) = team_with_sites(stores, "bob@c.example", "c.example")
    march = utc(2027, 3, 10, 12)
    add_events(stores.events, one, march, 300)
    add_events(stores.events, two, march, 40, name="Signup")
    add_events(stores.events, one, march, 500, name="engagement")  # pings: never billed
    add_events(stores.events, two, march, 700, import_id=3)  # imported history
    add_events(stores.events, other, march, 11)  # another team
    add_events(stores.events, one, utc(2027, 2, 28, 23, 59), 13)  # last month
    add_events(stores.events, one, utc(2027, 4, 1), 17)  # next month
    month = billing_month(march)
    assert count_billable_events(stores.events, [one, two], month) == 340
    assert count_billable_events(stores.events, [], month) == 0
    with stores.control.session() as session:
        row = refresh_usage(session, stores.events, team_id, "free", march)
        assert (row.billable_events, row.plan) == (340, "free")
    add_events(stores.events, two, march, 5)
    with stores.control.session() as session:
        assert refresh_usage(session, stores.events, team_id, "free", march).billable_events == 345
        cached = current_usage(session, team_id, march + timedelta(days=3))
        assert cached is not None and cached.billable_events == 345
        # A new month has no count until the job's next run: nothing carries over.
        assert current_usage(session, team_id, utc(2027, 4, 1, 0, 30)) is None
