"""The client address of a request: the socket peer, or a trusted proxy's forwarded value.

The address lives only in the request: callers use it for the geo lookup, the shields and
the visitor hash, then let it go. It is never stored, logged or sent anywhere."""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterable, Mapping
from functools import lru_cache

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


class ClientAddress:
    """An address parsed once per request: `text` is its canonical form (what the visitor
    hash takes), `value` and `version` serve network checks and the geo lookup. The repr
    hides the address, so it cannot slip into a log line or an error report."""

    __slots__ = ("text", "value", "version")

    def __init__(self, text: str, value: int, version: int) -> None:
        self.text = text
        self.value = value
        self.version = version

    def __repr__(self) -> str:
        return f"ClientAddress(IPv{self.version})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ClientAddress) and other.text == self.text

    __hash__ = None  # type: ignore[assignment]  # unhashable: no cache can be keyed by it


def parse_address(candidate: str) -> ClientAddress | None:
    """The address, or None when `candidate` is not a plain IPv4 or IPv6 address."""
    try:
        # Strict dotted quad (no leading zeros, no short forms), as ipaddress accepts, and
        # ~10x cheaper: most visitors' addresses are IPv4.
        packed = socket.inet_pton(socket.AF_INET, candidate)
    except (OSError, ValueError):
        try:
            address = ipaddress.ip_address(candidate)
        except ValueError:
            return None
        return ClientAddress(str(address), int(address), address.version)
    return ClientAddress(candidate, int.from_bytes(packed, "big"), 4)


class Networks:
    """IP networks as integer ranges: membership without an ipaddress object per check."""

    def __init__(self, networks: Iterable[IPNetwork] = ()) -> None:
        self.networks = tuple(networks)
        self._ranges = {
            version: tuple(
                (int(net.network_address), int(net.broadcast_address))
                for net in self.networks
                if net.version == version
            )
            for version in (4, 6)
        }

    def __bool__(self) -> bool:
        return bool(self.networks)

    def __contains__(self, address: ClientAddress) -> bool:
        value = address.value
        return any(low <= value <= high for low, high in self._ranges[address.version])


@lru_cache(maxsize=64)
def parse_networks(cidrs: tuple[str, ...]) -> Networks:
    return Networks(ipaddress.ip_network(cidr, strict=False) for cidr in cidrs)


def _valid(candidate: str) -> ClientAddress | None:
    candidate = candidate.strip().strip('"')
    if candidate.startswith("["):  # [v6]:port
        candidate = candidate[1 : candidate.find("]")] if "]" in candidate else ""
    elif candidate.count(":") == 1:  # v4:port
        candidate = candidate.split(":", 1)[0]
    return parse_address(candidate)


def _forwarded_for(value: str) -> list[str]:
    # RFC 7239: Forwarded: for=192.0.2.60;proto=http, for="[2001:db8::1]"
    hops = []
    for element in value.split(","):
        for part in element.split(";"):
            key, _, val = part.strip().partition("=")
            if key.lower() == "for":
                hops.append(val)
    return hops


def _nearest_untrusted(hops: list[str], trusted: Networks) -> ClientAddress | None:
    """The address a chain of proxies vouches for: walking from the proxy nearest to us,
    the first hop that is not itself a trusted proxy. Hops further left were written by the
    client and prove nothing (a proxy that appends to X-Forwarded-For keeps what the client
    sent), so they count only when every hop to their right is trusted."""
    found = None
    for hop in reversed(hops):
        address = _valid(hop)
        if address is None:
            return found
        found = address
        if address not in trusted:
            return address
    return found


def resolve_client(
    peer: str | None, headers: Mapping[str, str], trusted: Networks
) -> ClientAddress | None:
    """The visitor's address; forwarded headers count only when the peer is a trusted proxy."""
    if not peer:
        return None
    peer_address = _valid(peer)
    if peer_address is None:
        return None
    if peer_address not in trusted:
        return peer_address
    forwarded_for = headers.get("x-forwarded-for")
    if forwarded_for:
        return _nearest_untrusted(forwarded_for.split(","), trusted) or peer_address
    forwarded = headers.get("forwarded")
    if forwarded:
        return _nearest_untrusted(_forwarded_for(forwarded), trusted) or peer_address
    real_ip = headers.get("x-real-ip")
    if real_ip:
        return _valid(real_ip) or peer_address
    return peer_address


def client_address(peer: str | None, headers: Mapping[str, str], trusted: Networks) -> str | None:
    """The visitor's address as text (see `resolve_client`)."""
    address = resolve_client(peer, headers, trusted)
    return address.text if address is not None else None
