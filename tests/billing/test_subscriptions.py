"""billing/subscriptions.py's state machine, pure: which plan a subscription's state gives."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from jetrack.billing.subscriptions import GRACE, decide_plan, next_grace_end

NOW = datetime(2026, 12, 6, 12, tzinfo=UTC)
LATER = NOW + timedelta(days=20)
EARLIER = NOW - timedelta(days=20)


@pytest.mark.parametrize(
    ("status", "plan", "period_end", "grace_end", "expected"),
    [
        ("trialing", "growth", LATER, None, "growth"),
        ("active", "business", LATER, None, "business"),
        # cancelled at the period's end: still active until the provider ends it...
        ("active", "growth", NOW + timedelta(hours=1), None, "growth"),
        # ...and if its word never comes, the period's end (plus the grace) decides.
        ("active", "growth", EARLIER, None, "free"),
        ("past_due", "growth", LATER, NOW + timedelta(days=1), "growth"),  # in its grace
        ("past_due", "growth", LATER, NOW - timedelta(seconds=1), "free"),  # grace over
        ("past_due", "growth", LATER, None, "free"),
        ("unpaid", "growth", LATER, None, "free"),
        ("canceled", "growth", LATER, None, "free"),
        ("incomplete", "growth", LATER, None, "free"),
        ("incomplete_expired", "growth", LATER, None, "free"),
        ("paused", "growth", LATER, None, "free"),
        (None, None, None, None, "free"),
        ("active", "enterprise", LATER, None, "free"),  # a plan this version does not know
        ("active", None, LATER, None, "free"),
    ],
)
def test_decide_plan(
    status: str | None,
    plan: str | None,
    period_end: datetime | None,
    grace_end: datetime | None,
    expected: str,
) -> None:
    found = decide_plan(
        status=status, plan=plan, current_period_end=period_end, grace_end=grace_end, now=NOW
    )
    assert found == expected


def test_grace_starts_once_and_ends_with_any_other_status() -> None:
    first = next_grace_end("past_due", None, NOW)
    assert first == NOW + GRACE
    # the provider's retries do not restart it
    assert next_grace_end("past_due", first, NOW + timedelta(days=3)) == first
    for status in ("active", "trialing", "canceled", "unpaid"):
        assert next_grace_end(status, first, NOW) is None
