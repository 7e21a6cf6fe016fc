"""The two rate-limit mechanisms (rate_limits.py): fixed windows per key (client address
budgets, ingest budgets) and sliding windows per key (API keys, mails). Table-driven, on
a clock the test moves."""

from __future__ import annotations

import pytest
import redis

from jetrack.rate_limits import FixedWindows, SharedSlidingWindows, SlidingWindows
from tests.conftest import REDIS_URL

MINUTE = 1_900_000_040.0  # 20 s into a clock minute


@pytest.mark.parametrize(
    ("takes", "expected"),
    [
        ([("a", 3), ("a", 2)], [True, True]),
        ([("a", 3), ("a", 3), ("a", 2)], [True, False, True]),  # refused whole: nothing spent
        ([("a", 6)], [False]),
        ([("a", 5), ("a", 1), ("b", 5)], [True, False, True]),  # each key its own budget
    ],
)
def test_fixed_windows_count_units_per_key(
    takes: list[tuple[str, int]], expected: list[bool]
) -> None:
    windows: FixedWindows[str] = FixedWindows(5, window_seconds=60)
    # has_room (the shared mode's look before a visit starts) foretells each take.
    foretold = []
    for key, units in takes:
        foretold.append(windows.has_room(key, units, MINUTE))
        assert windows.take(key, units, MINUTE) == foretold[-1]
    assert foretold == expected


def test_a_fixed_window_ends_on_the_clock() -> None:
    windows: FixedWindows[str] = FixedWindows(2, window_seconds=60)
    assert windows.take("a", 2, MINUTE) and not windows.take("a", 1, MINUTE + 39)
    assert windows.retry_after(MINUTE + 39) == 1
    assert windows.take("a", 2, MINUTE + 40)  # the next minute: a fresh budget
    assert len(windows) == 1


def test_a_full_table_forgets_the_oldest_open_key_never_a_limited_one() -> None:
    """ClientBudgets used to clear every window when its table was full, which handed the
    clients it was limiting a fresh budget: here the limited keys stay limited."""
    windows: FixedWindows[str] = FixedWindows(3, window_seconds=600, max_keys=4)
    assert windows.take("limited-1", 3, MINUTE) and not windows.take("limited-1", 1, MINUTE)
    assert windows.take("refused", 2, MINUTE) and not windows.take("refused", 2, MINUTE)
    assert windows.take("open-1", 1, MINUTE) and windows.take("open-2", 1, MINUTE)
    assert len(windows) == 4
    for n in range(50):  # a flood of new keys, each taking one unit
        assert windows.take(f"new-{n}", 1, MINUTE + 1)
        assert len(windows) == 4
    assert not windows.take("limited-1", 1, MINUTE + 2)  # still limited
    assert windows.take("refused", 1, MINUTE + 2)  # its own budget: 2 of 3 spent
    assert not windows.take("refused", 1, MINUTE + 2)
    assert windows.take("open-1", 3, MINUTE + 2)  # forgotten: counted anew (it was open)


def test_when_every_counted_key_is_limited_a_new_key_is_not_counted() -> None:
    windows: FixedWindows[str] = FixedWindows(1, window_seconds=60, max_keys=2)
    assert windows.take("a", 1, MINUTE) and windows.take("b", 1, MINUTE)
    assert windows.take("c", 1, MINUTE) and windows.take("c", 1, MINUTE)  # not counted
    assert not windows.take("a", 1, MINUTE) and not windows.take("b", 1, MINUTE)
    assert len(windows) == 2


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_sliding_windows_count_hits_in_any_window() -> None:
    clock = Clock()
    windows: SlidingWindows[str] = SlidingWindows(2, window=60, clock=clock)
    assert windows.hit("a") == 0
    clock.now += 30
    assert windows.hit("a") == 0
    assert windows.hit("a") == 30  # the first hit leaves the window in 30 s
    assert windows.hit("b") == 0  # its own budget
    clock.now += 30
    assert windows.hit("a") == 0  # the first hit left; the second is 30 s old
    assert windows.hit("a") == 30


def test_wait_and_record_apart() -> None:
    clock = Clock()
    windows: SlidingWindows[str] = SlidingWindows(1, window=3600, clock=clock)
    assert windows.wait("a") == 0
    windows.record("a")
    windows.record("a")  # counted even past the limit (a mail counted, sent or not)
    clock.now += 100
    assert windows.wait("a") == 3500


def test_sliding_windows_forget_keys_without_a_recent_hit_but_keep_limited_ones() -> None:
    clock = Clock()
    windows: SlidingWindows[str] = SlidingWindows(2, window=600, clock=clock)
    for n in range(100):
        windows.hit(f"client-{n}")
    windows.hit("limited")
    clock.now += 300
    windows.hit("limited")
    assert windows.hit("limited") == 300
    clock.now += 301  # the clients' hits are 601 s old; the second of "limited" 301 s
    assert windows.hit("someone") == 0
    assert len(windows) == 2  # the hundred clients were forgotten
    assert windows.hit("limited") == 0  # its first hit left the window
    assert windows.hit("limited") == 299


@pytest.mark.redis
def test_shared_sliding_windows_hold_across_processes(redis_prefix: str) -> None:
    # Two processes' limiters of one Redis: a key's hits add up across both; another key,
    # or the same key under another prefix (the Sites API's), has its own.
    a, b = (
        SharedSlidingWindows(redis.Redis.from_url(REDIS_URL), 3, 60.0, redis_prefix + "stats:")
        for _ in range(2)
    )
    other = SharedSlidingWindows(redis.Redis.from_url(REDIS_URL), 3, 60.0, redis_prefix + "sites:")
    assert [a.hit(17), b.hit(17), a.hit(17)] == [0, 0, 0]
    assert 59 <= b.hit(17) <= 60 and 59 <= a.hit(17) <= 60
    assert b.hit(18) == 0 and other.hit(17) == 0
    assert 59_000 < redis.Redis.from_url(REDIS_URL).pttl(redis_prefix + "stats:17") <= 60_000


def test_shared_sliding_windows_let_requests_through_while_redis_is_away() -> None:
    client = redis.Redis.from_url(REDIS_URL)
    limiter = SharedSlidingWindows(client, 1, 60.0, "jetrack-test-away:")
    client.connection_pool.connection_kwargs["port"] = 1  # nothing listens there
    client.connection_pool.disconnect()
    assert limiter.hit(1) == 0 and limiter.hit(1) == 0  # limit 1, yet both let through
