"""Client address: the peer, or a forwarded value only from a trusted proxy."""

from __future__ import annotations

import pytest

from jetrack.ingest.client_ip import client_address, parse_networks

TRUSTED = parse_networks(("10.0.0.0/8", "::1/128"))


@pytest.mark.parametrize(
    ("peer", "headers", "expected"),
    [
        ("198.51.100.1", {}, "198.51.100.1"),
        ("198.51.100.1", {"x-forwarded-for": "203.0.113.9"}, "198.51.100.1"),  # untrusted peer
        ("10.1.2.3", {"x-forwarded-for": "203.0.113.9, 10.1.2.3"}, "203.0.113.9"),
        ("10.1.2.3", {"forwarded": 'for="[2001:db8::7]:443";proto=https'}, "2001:db8::7"),
        ("10.1.2.3", {"forwarded": "for=203.0.113.5:8080"}, "203.0.113.5"),
        ("10.1.2.3", {"x-real-ip": "203.0.113.6"}, "203.0.113.6"),
        ("10.1.2.3", {"x-forwarded-for": "not-an-ip"}, "10.1.2.3"),
        ("::1", {"x-forwarded-for": "2001:db8::1"}, "2001:db8::1"),
        ("testclient", {}, None),
        (None, {"x-forwarded-for": "203.0.113.9"}, None),
    ],
)
def test_client_address(peer: str | None, headers: dict[str, str], expected: str | None) -> None:
    assert client_address(peer, headers, TRUSTED) == expected
