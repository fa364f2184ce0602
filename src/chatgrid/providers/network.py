"""The HTTP client pool for upstream calls, with private addresses refused.

Two checks, both at connection time, so they hold for every connection
aiohttp opens (after a DNS change, after a redirect someone forgot to turn
off, for IP literals that never meet a resolver):

- the resolver drops private results of a name, so a name with both kinds
  of address still works and one with only private ones is refused by name;
- the socket factory judges the exact address each new socket is about to
  connect to, before a byte (or a SYN) is sent. This is the check that
  cannot be walked around: aiohttp skips the resolver for IP literals, and
  yarl turns ``１２７.０.０.１`` into one.

Both run once per new connection, never per request on a kept-alive one.
The save-time checks (``refuse_private``) only give the admin a clear
message early; they are not what keeps the gateway safe.
"""

from __future__ import annotations

import socket
from typing import Any

import aiohttp
from aiohappyeyeballs import AddrInfoType
from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import DefaultResolver

from chatgrid.providers.addresses import is_private_text, private_host
from chatgrid.settings import Settings


class PrivateUpstreamRefused(OSError):
    """The upstream host is, or resolves to, an address this instance may not call."""


def refuse_private(url: str, settings: Settings) -> None:
    """Refuse ``url`` early if its host, read as the HTTP client reads it, is private."""
    if settings.allow_private_upstreams:
        return
    host = private_host(url)
    if host is not None:
        raise PrivateUpstreamRefused(_refusal(host))


def _refusal(host: str) -> str:
    return (
        f"{host} is a private address; set CHATGRID_ALLOW_PRIVATE_UPSTREAMS=true "
        "to allow local model servers"
    )


def _refused(address: str) -> bool:
    """Private, or not an address at all (fail closed: nothing here should be a name)."""
    try:
        return is_private_text(address)
    except ValueError:
        return True


class PublicOnlyResolver(AbstractResolver):
    """Resolves as usual, then refuses loopback, private, link-local and reserved addresses."""

    def __init__(self) -> None:
        self._inner = DefaultResolver()

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        results = await self._inner.resolve(host, port, family)
        public = [r for r in results if not _refused(r["host"])]
        if not public:
            raise PrivateUpstreamRefused(_refusal(host))
        return public

    async def close(self) -> None:
        await self._inner.close()


def public_socket(addr_info: AddrInfoType) -> socket.socket:
    """A socket for ``addr_info``, unless the address it will connect to is private.

    aiohttp (through aiohappyeyeballs) calls this for every connection
    attempt with the resolved or literal address, and connects the returned
    socket to exactly that address.
    """
    family, type_, proto, _, address = addr_info
    host = str(address[0])
    if _refused(host):
        raise PrivateUpstreamRefused(_refusal(host))
    return socket.socket(family=family, type=type_, proto=proto)


# An idle connection is closed before the upstream would close it: uvicorn (the simulator,
# many self-hosted model servers) closes after 5 s, and a request written onto a connection
# the server is closing fails without telling whether it was processed (a 502 to the caller).
IDLE_CONNECTION_SECONDS = 4.0
UPSTREAM_CONNECTIONS = 4096
"""Upstream connections one process may hold at once (the pool's limit)."""


def create_upstream_session(settings: Settings) -> aiohttp.ClientSession:
    """One keep-alive pool for every upstream call of this process.

    Callers pass ``allow_redirects=False``: an upstream is an API, and a
    redirect from one is an error, never a new place to send the key and
    the prompt.
    """
    kwargs: dict[str, Any] = {}
    if not settings.allow_private_upstreams:
        kwargs["resolver"] = PublicOnlyResolver()
        kwargs["socket_factory"] = public_socket
    # Every open stream holds one upstream connection for its whole length, so the pool
    # must hold at least as many as one worker keeps streams open (bench/scale.py: 1,000).
    connector = aiohttp.TCPConnector(
        limit=UPSTREAM_CONNECTIONS,
        limit_per_host=0,
        ttl_dns_cache=30,
        keepalive_timeout=IDLE_CONNECTION_SECONDS,
        **kwargs,
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
