"""The client address of a request: the socket peer, or a trusted proxy's forwarded value.

The address lives only in the request: callers use it for the geo lookup, the shields and
the visitor hash, then let it go. It is never stored, logged or sent anywhere."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping
from functools import lru_cache

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


@lru_cache(maxsize=64)
def parse_networks(cidrs: tuple[str, ...]) -> tuple[IPNetwork, ...]:
    return tuple(ipaddress.ip_network(cidr, strict=False) for cidr in cidrs)


def _valid(candidate: str) -> str | None:
    candidate = candidate.strip().strip('"')
    if candidate.startswith("["):  # [v6]:port
        candidate = candidate[1 : candidate.find("]")] if "]" in candidate else ""
    elif candidate.count(":") == 1:  # v4:port
        candidate = candidate.split(":", 1)[0]
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        return None


def _from_forwarded(value: str) -> str | None:
    # RFC 7239: Forwarded: for=192.0.2.60;proto=http, for="[2001:db8::1]"
    first = value.split(",", 1)[0]
    for part in first.split(";"):
        key, _, val = part.strip().partition("=")
        if key.lower() == "for":
            return _valid(val)
    return None


def client_address(
    peer: str | None, headers: Mapping[str, str], trusted: Iterable[IPNetwork]
) -> str | None:
    """The visitor's address; forwarded headers count only when the peer is a trusted proxy."""
    if not peer:
        return None
    peer_ip = _valid(peer)
    if peer_ip is None:
        return None
    peer_addr = ipaddress.ip_address(peer_ip)
    if not any(peer_addr in net for net in trusted):
        return peer_ip
    forwarded_for = headers.get("x-forwarded-for")
    if forwarded_for:
        return _valid(forwarded_for.split(",", 1)[0]) or peer_ip
    forwarded = headers.get("forwarded")
    if forwarded:
        return _from_forwarded(forwarded) or peer_ip
    real_ip = headers.get("x-real-ip")
    if real_ip:
        return _valid(real_ip) or peer_ip
    return peer_ip
