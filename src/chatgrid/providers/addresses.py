"""Which hosts and addresses an upstream may have, judged as the HTTP client will connect.

A guard that reads a URL differently from the client that fetches it can be
walked around: ``urlsplit`` sees ``１２７.０.０.１`` as a name while yarl
(aiohttp's URL type) maps it through IDNA/NFKC to the literal ``127.0.0.1``,
and aiohttp never asks a resolver about literals. So the host is taken here
exactly as yarl hands it to aiohttp, and an address is judged together with
any IPv4 address an IPv6 form carries inside it (mapped, translated,
compatible, NAT64, 6to4, Teredo): the packets end up at that IPv4 address
wherever a translator sits on the path.

Everything here is pure, so it can be tested without a network.
"""

from __future__ import annotations

import ipaddress
import re
import socket
from urllib.parse import urlsplit

from yarl import URL

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

_IPV4_MAPPED = ipaddress.IPv6Network("::ffff:0:0/96")
_IPV4_TRANSLATED = ipaddress.IPv6Network("::ffff:0:0:0/96")  # RFC 2765 (SIIT)
_IPV4_COMPATIBLE = ipaddress.IPv6Network("::/96")  # deprecated, RFC 4291 2.5.5.1
_NAT64_WELL_KNOWN = ipaddress.IPv6Network("64:ff9b::/96")  # RFC 6052
# RFC 8215: for a network's own translators, so where the IPv4 address sits
# depends on a prefix length only that network knows. It is never public.
_NAT64_LOCAL_USE = ipaddress.IPv6Network("64:ff9b:1::/48")
# What getaddrinfo would read as an IPv4 address in the old inet_aton forms
# (127.1, 0x7f.0.0.1, 2130706433, 0177.0.0.1); names never look like this.
_LEGACY_NUMERIC = re.compile(r"[0-9a-fx.]+")
_NAME = re.compile(r"[a-z0-9._-]+")
# The dots IDNA (UTS #46) reads as label separators.
_DOTS = re.compile("[.\u3002\uff0e\uff61]")


class HostUnusable(ValueError):
    """The URL's host cannot be used as an upstream host; the message says why."""


def client_host(url: str) -> str | None:
    """The host of ``url`` as aiohttp will connect to it: IDNA/NFKC-mapped, lower case,
    IPv6 without brackets. None when yarl cannot parse the URL."""
    try:
        return URL(url).raw_host
    except (ValueError, TypeError):
        return None


def literal_address(host: str) -> IPAddress | None:
    """The address ``host`` names without DNS: an IP literal, or an old numeric IPv4 form."""
    try:
        return ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        pass
    if _LEGACY_NUMERIC.fullmatch(host) and host[-1] != ".":
        try:
            return ipaddress.IPv4Address(socket.inet_aton(host))
        except OSError:
            return None
    return None


def embedded_ipv4(ip: ipaddress.IPv6Address) -> list[ipaddress.IPv4Address]:
    """Every IPv4 address an IPv6 address carries, by the transition mechanisms that route it."""
    found: list[ipaddress.IPv4Address] = []
    low32 = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    if ip in _IPV4_MAPPED or ip in _IPV4_TRANSLATED or ip in _IPV4_COMPATIBLE:
        found.append(low32)
    if ip in _NAT64_WELL_KNOWN:
        found.append(low32)
    if ip.sixtofour is not None:
        found.append(ip.sixtofour)
    if ip.teredo is not None:
        found.extend(ip.teredo)
    return found


def is_private_address(ip: IPAddress) -> bool:
    """Loopback, private, link-local, reserved, multicast, or an IPv6 form of one of those."""
    if ip.is_multicast or not ip.is_global:
        return True
    if isinstance(ip, ipaddress.IPv6Address):
        if ip in _NAT64_LOCAL_USE:
            return True
        return any(is_private_address(inner) for inner in embedded_ipv4(ip))
    return False


def is_private_text(address: str) -> bool:
    """``is_private_address`` for an address as sockets spell it (an IPv6 zone is dropped)."""
    return is_private_address(ipaddress.ip_address(address.split("%", 1)[0]))


def normalized_base_url(url: str) -> str:
    """``url`` as aiohttp will send it, or ``HostUnusable`` if its host hides what it is.

    A host typed with look-alike characters (fullwidth or circled digits,
    ideographic full stops, fullwidth letters) that map to plain ASCII has no
    honest reason to exist: its only effect is that a reader, or a guard
    with a different parser, sees another host than the client connects to.
    Real internationalized names keep their ``xn--`` label and pass. The old
    numeric IPv4 forms are refused for the same reason.
    """
    typed = urlsplit(url).hostname or ""
    try:
        parsed = URL(url)
    except (ValueError, TypeError) as exc:
        raise HostUnusable(f"the upstream URL is not valid ({exc})") from None
    host = parsed.raw_host or ""
    address = literal_address(host)
    if not typed.isascii() and (address is not None or _ascii_look_alike(typed, host)):
        raise HostUnusable(
            f"the host {typed!r} is written with look-alike characters for {host!r}; "
            "write it in plain ASCII"
        )
    if address is not None and _is_legacy_numeric(host):
        raise HostUnusable(
            f"the host {host!r} is an IPv4 address in an old numeric form; "
            f"write it as {address} if that is the server you mean"
        )
    if address is None and not _NAME.fullmatch(host):
        raise HostUnusable(f"the host {host!r} is not a valid host name")
    return str(parsed)


def _ascii_look_alike(typed: str, host: str) -> bool:
    """A label typed with non-ASCII characters that came out as plain ASCII (not ``xn--``)."""
    typed_labels = _DOTS.split(typed)
    labels = host.split(".")
    if len(typed_labels) != len(labels):
        return True
    return any(
        not mine.isascii() and not theirs.startswith("xn--")
        for mine, theirs in zip(typed_labels, labels, strict=True)
    )


def _is_legacy_numeric(host: str) -> bool:
    try:
        ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return True
    return False


def private_host(url: str) -> str | None:
    """The host of ``url`` if it names a private address without DNS, or is ``localhost``.

    Names are judged where they are resolved and connected to (``network``);
    this catches what needs no resolver, as the client will read it.
    """
    host = client_host(url)
    if host is None:
        host = urlsplit(url).hostname
        if host is None:
            return None
    address = literal_address(host)
    if address is not None:
        return host if is_private_address(address) else None
    name = host.rstrip(".")
    if name == "localhost" or name.endswith(".localhost"):
        return host
    return None
