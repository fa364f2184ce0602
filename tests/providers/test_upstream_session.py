"""The upstream session itself: the address of every connection is checked, and no
redirect is followed, against real loopback servers.

These run the production ``create_upstream_session``. The guard refuses
loopback, so the redirect tests allow private upstreams: they show that the
client never goes where a redirect points, whatever the address guard thinks.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import aiohttp
import pytest

from chatgrid.errors import UpstreamRefused
from chatgrid.providers.base import Provider, UpstreamConfig
from chatgrid.providers.network import PrivateUpstreamRefused, create_upstream_session
from chatgrid.providers.validation import validate_upstream
from chatgrid.settings import Settings
from tests.support.listeners import Listener, listening, redirecting


def settings(tmp_path: Path, *, allow_private: bool) -> Settings:
    return Settings(data_dir=tmp_path, allow_private_upstreams=allow_private)


async def fetch(session: aiohttp.ClientSession, url: str) -> int:
    async with session.get(url, allow_redirects=False) as response:
        await response.read()
        return response.status


def refusal_in(exc: BaseException) -> PrivateUpstreamRefused | None:
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, PrivateUpstreamRefused):
            return seen
        seen = seen.__cause__ or seen.__context__
    return None


@pytest.mark.parametrize(
    "form",
    [
        "http://127.0.0.1:{port}/v1/models",
        "http://１２７.０.０.１:{port}/v1/models",
        "http://127。0。0。1:{port}/v1/models",
        "http://①②⑦.0.0.1:{port}/v1/models",
        "http://[::ffff:127.0.0.1]:{port}/v1/models",
        "http://localhost:{port}/v1/models",
        "http://0x7f.0.0.1:{port}/v1/models",
        "http://169.254.169.254/latest/meta-data/",
        "http://１６９.２５４.１６９.２５４/latest/meta-data/",
    ],
)
def test_every_connection_to_a_private_address_is_refused_before_it_is_made(
    tmp_path: Path, form: str
) -> None:
    """IP literals never meet a resolver: the socket's own address is what is checked."""

    async def attempt(listener: Listener) -> BaseException | None:
        async with create_upstream_session(settings(tmp_path, allow_private=False)) as session:
            try:
                await fetch(session, form.format(port=listener.port))
            except aiohttp.ClientError as exc:
                return exc
        return None

    with listening() as listener:
        failure = asyncio.run(attempt(listener))
        assert failure is not None, "the request went through"
        assert refusal_in(failure) is not None, repr(failure)
        assert not listener.seen_anything(), listener.connections


def test_allowing_private_upstreams_lets_local_servers_through(tmp_path: Path) -> None:
    async def attempt(url: str) -> int:
        async with create_upstream_session(settings(tmp_path, allow_private=True)) as session:
            return await fetch(session, url)

    with listening() as listener:
        assert asyncio.run(attempt(f"{listener.url}/v1/models")) == 200
        assert [seen.path for seen in listener.requests] == ["/v1/models"]


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_key_validation_follows_no_redirect(tmp_path: Path, status: int) -> None:
    """A 3xx to an internal service is refused as such: nothing reaches the target."""

    async def validate(redirector: Listener) -> UpstreamRefused:
        config = UpstreamConfig.create(Provider.OPENAI_COMPATIBLE, base_url=f"{redirector.url}/v1")
        own = settings(tmp_path, allow_private=True)
        async with create_upstream_session(own) as session:
            with pytest.raises(UpstreamRefused) as refused:
                await validate_upstream(session, config, "sk-redirect-test-1234", own)
        return refused.value

    with listening() as target, listening(redirecting(target.url, status)) as redirector:
        refusal = asyncio.run(validate(redirector))
        assert refusal.code == "upstream_redirect"
        assert f"HTTP {status}" in refusal.message
        assert str(target.port) not in refusal.message
        assert [seen.path for seen in redirector.requests] == ["/v1/models"]
        assert not target.seen_anything()
