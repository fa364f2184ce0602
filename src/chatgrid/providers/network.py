"""The HTTP client pool for upstream calls, with private addresses refused.

The check sits in the resolver, so it holds for every connection aiohttp
opens (including after a DNS change), not just when a URL is first saved.
"""

from __future__ import annotations

import ipaddress
import socket
from typing import Any
from urllib.parse import urlsplit

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import DefaultResolver

from chatgrid.settings import Settings


class PrivateUpstreamRefused(OSError):
    """The upstream host resolves to an address this instance may not call."""


def is_private_address(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return not ip.is_global or ip.is_multicast


def private_literal_host(url: str) -> str | None:
    """The host of ``url`` if it is an IP literal in a private range (resolvers never see those)."""
    host = urlsplit(url).hostname
    if host is None:
        return None
    try:
        return host if is_private_address(host) else None
    except ValueError:
        return None  # a name: the resolver checks what it resolves to


def refuse_private(url: str, settings: Settings) -> None:
    if settings.allow_private_upstreams:
        return
    host = private_literal_host(url) or (
        "localhost" if (urlsplit(url).hostname or "").lower().endswith("localhost") else None
    )
    if host is not None:
        raise PrivateUpstreamRefused(_refusal(host))


def _refusal(host: str) -> str:
    return (
        f"{host} is a private address; set CHATGRID_ALLOW_PRIVATE_UPSTREAMS=true "
        "to allow local model servers"
    )


class PublicOnlyResolver(AbstractResolver):
    """Resolves as usual, then refuses loopback, private, link-local and reserved addresses."""

    def __init__(self) -> None:
        self._inner = DefaultResolver()

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        results = await self._inner.resolve(host, port, family)
        public = [r for r in results if not is_private_address(r["host"])]
        if not public:
            raise PrivateUpstreamRefused(_refusal(host))
        return public

    async def close(self) -> None:
        await self._inner.close()


def create_upstream_session(settings: Settings) -> aiohttp.ClientSession:
    """One keep-alive pool for every upstream call of this process."""
    kwargs: dict[str, Any] = {}
    if not settings.allow_private_upstreams:
        kwargs["resolver"] = PublicOnlyResolver()
    connector = aiohttp.TCPConnector(
        limit=512, limit_per_host=0, ttl_dns_cache=30, keepalive_timeout=30, **kwargs
    )
    timeout = aiohttp.ClientTimeout(
        total=settings.upstream_timeout_seconds,
        sock_connect=settings.upstream_connect_timeout_seconds,
    )
    return aiohttp.ClientSession(
        connector=connector,
        timeout=timeout,
        skip_auto_headers=("User-Agent",),
        headers={"User-Agent": "ChatGrid"},
        raise_for_status=False,
    )
