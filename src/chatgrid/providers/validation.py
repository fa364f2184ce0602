"""Check a key against its upstream before it is stored: list the models.

Every provider lists models at its target's ``models_url`` with the key's
own headers (Bearer for OpenAI, Gemini and compatible servers, ``api-key``
for Azure, ``x-api-key`` for Anthropic), so one check serves them all.

The messages here go to an admin, so they say what is wrong in plain words
(rejected key, unreachable endpoint, missing deployment, a redirect) without
ever repeating the key. Redirects are not followed: the key would travel to
wherever the endpoint points, and the answer would be taken for a model list.
"""

from __future__ import annotations

import aiohttp
import orjson

from chatgrid.errors import UpstreamRefused
from chatgrid.providers.azure import deployment_info_url
from chatgrid.providers.base import Provider, UpstreamConfig
from chatgrid.providers.gemini import gemini_model_id
from chatgrid.providers.network import PrivateUpstreamRefused, refuse_private
from chatgrid.providers.targets import build_target
from chatgrid.settings import Settings


async def validate_upstream(
    session: aiohttp.ClientSession, config: UpstreamConfig, key: str, settings: Settings
) -> list[str]:
    """Return the model ids the key can use, or raise ``UpstreamRefused``."""
    try:
        refuse_private(config.base_url, settings)
    except PrivateUpstreamRefused as exc:
        raise UpstreamRefused(str(exc), code="private_upstream") from None
    if not key or any(ch.isspace() for ch in key):
        raise UpstreamRefused("the key is empty or contains spaces", code="key_malformed")
    target = build_target(config, key, fingerprint="")
    status, body = await _get(session, target.models_url, target.headers)
    if status in (401, 403):
        raise UpstreamRefused(
            f"the upstream rejected the key (HTTP {status}): check it was copied whole "
            "and is still active",
            code="key_rejected",
        )
    if status != 200:
        raise UpstreamRefused(
            f"the upstream answered HTTP {status} when listing models", code="upstream_error"
        )
    models = _model_ids(body, config.provider)
    if config.provider is Provider.AZURE:
        for model, deployment in config.deployments.items():
            dep_status, _ = await _get(
                session, deployment_info_url(config, deployment), target.headers
            )
            if dep_status == 404:
                raise UpstreamRefused(
                    f"deployment {deployment!r} (for {model}) does not exist on this endpoint",
                    code="deployment_missing",
                )
            if dep_status != 200:
                raise UpstreamRefused(
                    f"checking deployment {deployment!r} answered HTTP {dep_status}",
                    code="upstream_error",
                )
        models = sorted(config.deployments)
    return models


async def _get(
    session: aiohttp.ClientSession, url: str, headers: dict[str, str]
) -> tuple[int, bytes]:
    try:
        async with session.get(
            url, headers=headers, timeout=aiohttp.ClientTimeout(total=20), allow_redirects=False
        ) as r:
            if 300 <= r.status < 400:
                # Neither followed nor quoted: the Location may point at an internal service.
                raise UpstreamRefused(
                    f"the endpoint answered with a redirect (HTTP {r.status}); ChatGrid does "
                    "not follow redirects to upstreams, so enter the URL the API is served at",
                    code="upstream_redirect",
                )
            return r.status, await r.read()
    except (aiohttp.ClientError, TimeoutError, OSError) as exc:
        refusal = _private_refusal(exc)
        if refusal is not None:
            raise UpstreamRefused(str(refusal), code="private_upstream") from None
        raise UpstreamRefused(
            f"the endpoint could not be reached ({type(exc).__name__})", code="unreachable"
        ) from None


def _private_refusal(exc: BaseException) -> PrivateUpstreamRefused | None:
    """aiohttp wraps resolver errors; find ours in the chain."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, PrivateUpstreamRefused):
            return seen
        seen = seen.__cause__ or seen.__context__
    return None


def _model_ids(body: bytes, provider: Provider) -> list[str]:
    """The ids of a model list: OpenAI's shape, which Anthropic's and Gemini's share."""
    try:
        data = orjson.loads(body)["data"]
        ids = {str(item["id"]) for item in data}
    except (orjson.JSONDecodeError, KeyError, TypeError):
        api = "Anthropic's API" if provider is Provider.ANTHROPIC else "an OpenAI API"
        raise UpstreamRefused(
            f"the endpoint did not answer like {api} (no model list)", code="not_openai"
        ) from None
    if provider is Provider.GEMINI:
        ids = {gemini_model_id(i) for i in ids}
    return sorted(ids)
