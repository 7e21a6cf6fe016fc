"""Client address: the peer, or a forwarded value only from a trusted proxy."""

from __future__ import annotations

import ipaddress

import pytest

from jetrack.ingest.client_ip import client_address, parse_address, parse_networks

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
        # A proxy that appends keeps what the client wrote to the left: the hop it added
        # (nearest untrusted) is the client, whatever the client claimed.
        ("10.1.2.3", {"x-forwarded-for": "192.0.2.99, 203.0.113.9"}, "203.0.113.9"),
        ("10.1.2.3", {"x-forwarded-for": "192.0.2.99, 203.0.113.9, 10.9.9.9"}, "203.0.113.9"),
        ("10.1.2.3", {"x-forwarded-for": "203.0.113.9, 10.2.2.2, 10.9.9.9"}, "203.0.113.9"),
        ("10.1.2.3", {"x-forwarded-for": "10.2.2.2, 10.9.9.9"}, "10.2.2.2"),  # all trusted
        ("10.1.2.3", {"x-forwarded-for": "192.0.2.99, junk, 10.9.9.9"}, "10.9.9.9"),
        ("10.1.2.3", {"forwarded": "for=192.0.2.99, for=203.0.113.5"}, "203.0.113.5"),
        ("::1", {"x-forwarded-for": "2001:db8::1"}, "2001:db8::1"),
        ("testclient", {}, None),
        (None, {"x-forwarded-for": "203.0.113.9"}, None),
    ],
)
def test_client_address(peer: str | None, headers: dict[str, str], expected: str | None) -> None:
    assert client_address(peer, headers, TRUSTED) == expected


@pytest.mark.parametrize(
    "text",
    [
        "198.51.100.1", "0.0.0.0", "255.255.255.255", "2001:db8::7", "2001:DB8:0:0::7",
        "::ffff:1.2.3.4", "::1", "01.2.3.4", "1.2.3", "0x7f.0.0.1", "1.2.3.256", " 1.2.3.4",
        "1.2.3.4\x00", "", "not-an-ip", "\uff11.2.3.4",
    ],
)  # fmt: skip
def test_parse_address_agrees_with_ipaddress(text: str) -> None:
    try:
        expected = ipaddress.ip_address(text)
    except ValueError:
        assert parse_address(text) is None
        return
    parsed = parse_address(text)
    assert parsed is not None
    assert (parsed.text, parsed.value, parsed.version) == (
        str(expected),
        int(expected),
        expected.version,
    )


@pytest.mark.parametrize(
    ("text", "inside"),
    [("10.0.0.0", True), ("10.255.255.255", True), ("11.0.0.0", False), ("9.255.255.255", False),
     ("::1", True), ("::2", False), ("::ffff:10.0.0.1", False)],
)  # fmt: skip
def test_networks_compare_within_one_ip_version(text: str, inside: bool) -> None:
    address = parse_address(text)
    assert address is not None
    assert (address in TRUSTED) is inside


def test_a_parsed_address_does_not_show_in_its_repr_nor_key_a_cache() -> None:
    address = parse_address("203.0.113.9")
    shown = repr(address)
    assert "203" not in shown and str(int(ipaddress.ip_address("203.0.113.9"))) not in shown
    with pytest.raises(TypeError):
        {address: 1}  # noqa: B018
