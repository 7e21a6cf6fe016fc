"""Referrer hostnames and domain suffixes."""

from __future__ import annotations

import pytest

from jetrack.enrich.hosts import host_suffixes, referrer_host


@pytest.mark.parametrize(
    ("referrer", "host"),
    [
        ("https://www.google.com/search?q=x", "google.com"),
        ("https://News.YCombinator.com/item?id=1", "news.ycombinator.com"),
        ("http://example.com:8080/path", "example.com"),
        ("example.org/page", "example.org"),
        ("//cdn.example.net/x", "cdn.example.net"),
        ("android-app://com.google.android.gm/", "com.google.android.gm"),
        ("https://www.bbc.co.uk./news", "bbc.co.uk"),
        ("", ""),
        ("   ", ""),
        ("javascript:alert(1)", ""),
        ("ftp://files.example.com/", ""),
        ("http://[::1", ""),
    ],
)
def test_referrer_host(referrer: str, host: str) -> None:
    assert referrer_host(referrer) == host


def test_host_suffixes_longest_first() -> None:
    assert host_suffixes("a.b.example.com") == [
        "a.b.example.com",
        "b.example.com",
        "example.com",
        "com",
    ]
