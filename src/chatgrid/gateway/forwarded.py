"""The real client address behind the proxies the operator trusts.

Behind a load balancer every connection comes from the balancer, so the
audit log, the calls page, sign-in throttling and rate limits would all see
one address. ``CHATGRID_TRUSTED_PROXIES`` names the proxies (addresses or
CIDRs); only a request whose peer is one of them has its client read from
the forwarding header, and then from its right-most hop that is not a
trusted proxy: a proxy appends the address it saw, so everything left of
that is whatever the client chose to send. A client that talks to ChatGrid
directly can therefore never choose its recorded address.

Which header is read is a setting too (``CHATGRID_FORWARDED_HEADER``):
a proxy appends to one header and passes any other through untouched, so
reading a header the proxy does not write would let the client pick.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from typing import Final, Literal

from chatgrid.gateway.http import Scope

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address
HeaderName = Literal["x-forwarded-for", "forwarded"]

_MAX_HOPS: Final = 32  # a longer chain is cut from the left: only the right end counts


def _address(text: str) -> Address | None:
    """A hop as an address: ``203.0.113.9``, ``203.0.113.9:4711``, ``[2001:db8::1]:80``."""
    value = text.strip().strip('"')
    if value.startswith("["):
        value = value[1:].partition("]")[0]
    elif value.count(":") == 1:
        value = value.partition(":")[0]
    try:
        address = ipaddress.ip_address(value)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def _hops(values: Iterable[bytes], name: HeaderName) -> list[str]:
    """Every hop of every occurrence of the header, left to right."""
    hops: list[str] = []
    for raw in values:
        text = raw.decode("latin-1")
        for element in text.split(","):
            if name == "x-forwarded-for":
                hops.append(element)
                continue
            for pair in element.split(";"):
                key, _, value = pair.partition("=")
                if key.strip().lower() == "for":
                    hops.append(value)
    return hops[-_MAX_HOPS:]


class TrustedProxies:
    """Rewrites a request's client to the address its trusted proxies saw."""

    def __init__(self, networks: list[Network], header: HeaderName = "x-forwarded-for") -> None:
        """``networks`` from ``Settings.trusted_proxy_networks``; ``header`` from
        ``Settings.forwarded_header``."""
        self.networks = networks
        self.header = header
        self._header_bytes = header.encode()

    def trusts(self, address: Address) -> bool:
        return any(address in network for network in self.networks)

    def client_of(self, peer: str, headers: Iterable[tuple[bytes, bytes]]) -> str:
        """The recorded client for a request from ``peer`` with these headers."""
        peer_address = _address(peer)
        if peer_address is None or not self.trusts(peer_address):
            return peer
        values = [value for key, value in headers if key == self._header_bytes]
        current = str(peer_address)
        for hop in reversed(_hops(values, self.header)):
            address = _address(hop)
            if address is None:
                # "unknown", an obfuscated name, garbage: nothing to trust past
                # it, so the last proxy we trust is the best answer we have.
                return current
            current = str(address)
            if not self.trusts(address):
                return current
        return current

    def rewrite(self, scope: Scope) -> Scope:
        """The scope with ``client`` set to the real client (a copy; only when it differs)."""
        client = scope.get("client")
        if not client:
            return scope
        real = self.client_of(str(client[0]), scope.get("headers", ()))
        if real == client[0]:
            return scope
        return {**scope, "client": (real, 0)}
