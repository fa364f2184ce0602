"""OpenID Connect over the network: discovery, the provider's keys, and the code exchange.

The issuer is typed by an org admin, so every fetch goes through the upstream
client's guarded pool (``providers.network``: private addresses refused on
every new socket unless ``CHATGRID_ALLOW_PRIVATE_UPSTREAMS`` is set), follows
no redirect, and is bounded in time (``FETCH_TIMEOUT_SECONDS``) and size
(``MAX_DOCUMENT_BYTES``). A failure is a ``DiscoveryProblem`` in plain words:
unreachable, an HTTP error, not JSON, too large, an issuer mismatch...

Discovery documents and key sets are kept per process for a while
(``ProviderDirectory``); a token signed with a key we do not hold makes one
fresh fetch of the key set before it is refused.
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote_plus, urlsplit

import aiohttp
from joserfc.jwk import KeySet

from chatgrid.identity.oidc import (
    DiscoveryProblem,
    IdTokenRefused,
    ProviderMetadata,
    UnknownSigningKey,
    discovery_url,
    read_key_set,
    read_metadata,
    verify_id_token,
)
from chatgrid.providers.network import PrivateUpstreamRefused

FETCH_TIMEOUT_SECONDS = 10.0
MAX_DOCUMENT_BYTES = 256 * 1024
#: How long a provider's metadata and keys are trusted before they are fetched again.
CACHE_SECONDS = 15 * 60


def _host(url: str) -> str:
    return urlsplit(url).netloc or url[:100]


async def fetch_body(
    session: aiohttp.ClientSession,
    url: str,
    what: str,
    *,
    form: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
) -> tuple[int, bytes]:
    """GET (or POST ``form`` to) ``url``: its status and bounded body (no redirect), or
    ``DiscoveryProblem``. SAML metadata is fetched through this too."""
    timeout = aiohttp.ClientTimeout(total=FETCH_TIMEOUT_SECONDS)
    request = (
        session.post(url, data=form, headers=headers, timeout=timeout, allow_redirects=False)
        if form is not None
        else session.get(url, headers=headers, timeout=timeout, allow_redirects=False)
    )
    try:
        async with request as response:
            status = response.status
            body = b""
            while len(body) <= MAX_DOCUMENT_BYTES:
                chunk = await response.content.read(MAX_DOCUMENT_BYTES + 1 - len(body))
                if not chunk:
                    break
                body += chunk
    except PrivateUpstreamRefused as exc:
        raise DiscoveryProblem(f"{_host(url)} is not allowed: {exc}") from None
    except TimeoutError:
        raise DiscoveryProblem(
            f"{_host(url)} did not answer the {what} request within "
            f"{FETCH_TIMEOUT_SECONDS:.0f} seconds"
        ) from None
    except (aiohttp.ClientError, OSError) as exc:
        reason = getattr(exc, "os_error", None) or exc
        raise DiscoveryProblem(f"could not reach {_host(url)} ({reason})") from None
    if 300 <= status < 400:
        raise DiscoveryProblem(
            f"the {what} at {url[:200]} answered with a redirect; ChatGrid follows none, so use "
            "the exact URL the provider documents"
        )
    if len(body) > MAX_DOCUMENT_BYTES:
        raise DiscoveryProblem(f"the {what} is larger than {MAX_DOCUMENT_BYTES // 1024} KiB")
    return status, body


async def fetch_json(
    session: aiohttp.ClientSession,
    url: str,
    what: str,
    *,
    form: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
) -> tuple[int, object]:
    """GET (or POST ``form`` to) ``url``: its status and JSON body, or ``DiscoveryProblem``."""
    status, body = await fetch_body(session, url, what, form=form, headers=headers)
    try:
        document = json.loads(body)
    except ValueError:
        if status != 200:
            raise DiscoveryProblem(f"the {what} at {url[:200]} answered HTTP {status}") from None
        raise DiscoveryProblem(
            f"the {what} at {url[:200]} is not JSON; is this the issuer URL?"
        ) from None
    return status, document


async def discover(session: aiohttp.ClientSession, issuer: str) -> ProviderMetadata:
    url = discovery_url(issuer)
    status, document = await fetch_json(session, url, "discovery document")
    if status != 200:
        raise DiscoveryProblem(f"{url[:200]} answered HTTP {status}, not the discovery document")
    return read_metadata(issuer, document)


async def fetch_keys(session: aiohttp.ClientSession, metadata: ProviderMetadata) -> KeySet:
    status, document = await fetch_json(session, metadata.jwks_uri, "key set (jwks_uri)")
    if status != 200:
        raise DiscoveryProblem(f"the provider's jwks_uri answered HTTP {status}")
    return read_key_set(document)


@dataclass
class _Kept:
    metadata: ProviderMetadata
    keys: KeySet | None
    fetched_at: float


class ProviderDirectory:
    """Providers' metadata and keys as this process last fetched them (a few minutes)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._kept: dict[str, _Kept] = {}

    async def metadata(
        self, session: aiohttp.ClientSession, issuer: str, *, fresh: bool = False
    ) -> ProviderMetadata:
        kept = self._kept.get(issuer)
        if kept is None or fresh or self._clock() - kept.fetched_at > CACHE_SECONDS:
            kept = _Kept(await discover(session, issuer), None, self._clock())
            self._kept[issuer] = kept
        return kept.metadata

    async def keys(
        self, session: aiohttp.ClientSession, metadata: ProviderMetadata, *, fresh: bool = False
    ) -> KeySet:
        kept = self._kept.get(metadata.issuer)
        if kept is None or kept.metadata != metadata:
            kept = self._kept[metadata.issuer] = _Kept(metadata, None, self._clock())
        if kept.keys is None or fresh:
            kept.keys = await fetch_keys(session, metadata)
        return kept.keys

    async def verify(
        self,
        session: aiohttp.ClientSession,
        metadata: ProviderMetadata,
        id_token: str,
        *,
        client_id: str,
        nonce: str,
        now: int,
    ) -> dict[str, Any]:
        """Checked claims; a key we do not know makes one fresh fetch of the key set."""
        keys = await self.keys(session, metadata)
        try:
            return verify_id_token(
                id_token, keys, issuer=metadata.issuer, client_id=client_id, nonce=nonce, now=now
            )
        except UnknownSigningKey:
            keys = await self.keys(session, metadata, fresh=True)
        return verify_id_token(
            id_token, keys, issuer=metadata.issuer, client_id=client_id, nonce=nonce, now=now
        )


def _basic(client_id: str, secret: str) -> str:
    """RFC 6749 2.3.1: both parts form-encoded, then Base64 together."""
    raw = f"{quote_plus(client_id)}:{quote_plus(secret)}".encode()
    return "Basic " + base64.b64encode(raw).decode()


async def exchange_code(
    session: aiohttp.ClientSession,
    metadata: ProviderMetadata,
    *,
    client_id: str,
    client_secret: str,
    code: str,
    redirect_uri: str,
    verifier: str,
) -> str:
    """The ID token the provider gives for ``code`` (with the PKCE verifier)."""
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": redirect_uri,
        "code_verifier": verifier,
    }
    headers = {"Accept": "application/json"}
    methods = metadata.token_auth_methods
    if methods and "client_secret_basic" not in methods and "client_secret_post" in methods:
        form.update(client_id=client_id, client_secret=client_secret)
    else:
        headers["Authorization"] = _basic(client_id, client_secret)
    status, answer = await fetch_json(
        session, metadata.token_endpoint, "token endpoint", form=form, headers=headers
    )
    if not isinstance(answer, dict):
        raise IdTokenRefused("the provider's token endpoint did not answer with a JSON object")
    if status != 200:
        error = str(answer.get("error", f"HTTP {status}"))[:60]
        detail = str(answer.get("error_description", ""))[:200]
        raise IdTokenRefused(
            f"the identity provider refused the sign-in code ({error}"
            + (f": {detail})" if detail else ")")
        )
    token = answer.get("id_token")
    if not isinstance(token, str):
        raise IdTokenRefused("the identity provider sent no ID token (is the openid scope on?)")
    return token
