"""notify/silence.py: the tracking-stopped rule on hand-made histories of active hours."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from jetrack.notify.silence import gaps, judge

# A Monday; the histories below are the 28 days before it (and its own first hours).
START = datetime(2026, 11, 2, tzinfo=UTC)
NOW = datetime(2026, 11, 30, tzinfo=UTC)
H = timedelta(hours=1)


def history(active: Callable[[datetime], bool], until: datetime) -> list[datetime]:
    hours, moment = [], START
    while moment <= until:
        if active(moment):
            hours.append(moment)
        moment += H
    return hours


def always(moment: datetime) -> bool:
    return True


def daytime(moment: datetime) -> bool:  # 08:00 to 21:59 UTC every day
    return 8 <= moment.hour <= 21


def office(moment: datetime) -> bool:  # Monday to Friday, 09:00 to 17:59
    return moment.weekday() < 5 and 9 <= moment.hour <= 17


def every_third_day(moment: datetime) -> bool:
    return moment.day % 3 == 0


TUESDAY = datetime(2026, 12, 1, tzinfo=UTC)
FRIDAY = datetime(2026, 11, 27, tzinfo=UTC)

CASES = [
    # (history, last active hour, now, silent hours, normal hours, alert)
    ("busy all day, 1 h silent", always, NOW + 10 * H, NOW + 11 * H + 30 * timedelta(minutes=1),
     0, 0, False),
    ("busy all day, 2 h silent: the floor", always, NOW + 10 * H, NOW + 13 * H, 2, 0, True),
    ("quiet every night, at 07:00", daytime, NOW + 21 * H, NOW + 31 * H, 9, 10, False),
    ("quiet every night, at 14:00 the day after", daytime, NOW + 21 * H, NOW + 38 * H, 16, 10,
     True),
    # Broken on a Tuesday morning: the office site was never silent then.
    ("office site, Tuesday 13:00", office, TUESDAY + 10 * H, TUESDAY + 13 * H, 2, 0, True),
    ("office site, Sunday noon", office, FRIDAY + 17 * H, FRIDAY + 60 * H, 42, 63, False),
    ("office site, Monday 15:00 (no one came)", office, FRIDAY + 17 * H, FRIDAY + 78 * H, 60, 63,
     False),
    ("office site, Tuesday noon", office, FRIDAY + 17 * H, FRIDAY + 91 * H, 73, 63, False),
    ("office site, Tuesday 20:00", office, FRIDAY + 17 * H, FRIDAY + 99 * H, 81, 63, True),
]  # fmt: skip


@pytest.mark.parametrize(
    ("history_of", "last", "now", "silent", "normal", "alert"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_silences_against_the_sites_own_history(
    history_of: Callable[[datetime], bool],
    last: datetime,
    now: datetime,
    silent: int,
    normal: int,
    alert: bool,
) -> None:
    verdict = judge(history(history_of, last), now)
    assert verdict is not None and verdict.usual
    assert (verdict.silent_hours, verdict.normal_hours, verdict.alert) == (silent, normal, alert)


def test_a_site_that_rarely_gets_traffic_is_never_alerted() -> None:
    hours = history(every_third_day, NOW)
    verdict = judge(hours, NOW + 100 * H)
    assert verdict is not None and not verdict.usual and not verdict.alert
    assert verdict.silent_hours > verdict.threshold_hours  # alerted, were it a usual site


def test_a_new_site_has_no_week_to_learn_from() -> None:
    recent = [NOW - k * H for k in range(24 * 10, 0, -1)]  # ten busy days
    verdict = judge(recent, NOW + 5 * H)
    assert verdict is not None and not verdict.usual and not verdict.alert


def test_no_event_in_four_weeks_is_no_verdict() -> None:
    assert judge([START], START + timedelta(days=40)) is None


def test_gaps_are_the_silent_hours_between_two_active_ones() -> None:
    hours = [START, START + H, START + 4 * H, START + 10 * H]
    assert gaps(hours) == [(START + 2 * H, 2), (START + 5 * H, 5)]
