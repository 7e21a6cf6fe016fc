"""support/form_guard.py: the honeypot, the signed start stamp and the form throttles.
The forms themselves are tested through HTTP in tests/privacy/test_public_pages.py."""

from __future__ import annotations

import pytest

from jetrack.support.form_guard import (
    MAX_FORM_AGE_SECONDS,
    MIN_FILL_SECONDS,
    FormThrottle,
    looks_automated,
    sign_start,
)

KEY = b"k" * 32
SHOWN = 1_800_000_000.0  # when the form was shown


@pytest.mark.parametrize(
    ("seconds_later", "automated"),
    [
        (MIN_FILL_SECONDS - 1, True),  # faster than a person types
        (MIN_FILL_SECONDS, False),
        (600, False),
        (MAX_FORM_AGE_SECONDS, False),
        (MAX_FORM_AGE_SECONDS + 1, True),  # a stamp from yesterday, replayed
        (-60, True),  # a stamp from the future
    ],
)
def test_a_form_is_judged_by_how_long_it_took(seconds_later: float, automated: bool) -> None:
    started = sign_start(KEY, now=SHOWN)
    assert looks_automated(KEY, "", started, now=SHOWN + seconds_later) is automated


def test_a_filled_honeypot_is_a_bot_even_with_a_good_stamp() -> None:
    started = sign_start(KEY, now=SHOWN)
    assert looks_automated(KEY, "http://spam.example", started, now=SHOWN + 60) is True


@pytest.mark.parametrize(
    "started",
    [
        "",
        "1800000000",  # no signature
        "1800000000.",
        "1800000000.00000000000000000000000000000000",  # a made-up signature
        "-1800000000.abc",
        "1" * 13 + ".abc",  # absurdly long moment
        "1800000000.x.y",
    ],
)
def test_a_missing_or_forged_stamp_is_a_bot(started: str) -> None:
    assert looks_automated(KEY, "", started, now=SHOWN + 60) is True


def test_a_stamp_signed_with_another_key_or_moved_in_time_is_refused() -> None:
    started = sign_start(KEY, now=SHOWN)
    assert looks_automated(b"other" * 8, "", started, now=SHOWN + 60) is True
    _, _, signature = started.partition(".")
    earlier = f"{int(SHOWN) - 60}.{signature}"  # to look slower than it was
    assert looks_automated(KEY, "", earlier, now=SHOWN + 1) is True


def test_the_throttle_counts_per_client_per_email_and_overall() -> None:
    throttle = FormThrottle(per_client=2, per_email=3, overall=5)
    assert throttle.allow("client-a", "one@example.com")
    assert throttle.allow("client-a", "two@example.com")
    assert not throttle.allow("client-a", "three@example.com")  # this client's limit
    # The email's limit counts across clients, in any case and with spaces around.
    assert throttle.allow("client-b", "ONE@example.com ")
    assert throttle.allow(None, "one@example.com")
    assert not throttle.allow("client-c", "One@Example.com")
    assert throttle.allow("client-d", "four@example.com")  # the 5th allowed in all
    assert not throttle.allow("client-e", "five@example.com")  # the overall limit


def test_a_refused_submission_does_not_count() -> None:
    throttle = FormThrottle(per_client=1, per_email=10, overall=100)
    assert throttle.allow("client-a", "a@example.com")
    for _ in range(5):
        assert not throttle.allow("client-a", "a@example.com")
    # Only the one accepted submission counted against the email and overall.
    assert throttle.allow("client-b", "a@example.com")


def test_submissions_older_than_the_window_no_longer_count() -> None:
    # A window of zero: each earlier submission is already outside it.
    throttle = FormThrottle(per_client=1, per_email=1, overall=1, window_seconds=0.0)
    for _ in range(3):
        assert throttle.allow("client-a", "a@example.com")
