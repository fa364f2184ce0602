"""A key's current model list, asked of its provider (not the list saved at connect).

One function per way of listing, picked by the provider's name: OpenAI and
the servers that speak its API answer ``GET {base}/models``; Anthropic
answers ``GET /v1/models`` with ``x-api-key`` (paged); an Azure resource's
list is the deployments the admin configured, so nothing is fetched. A
provider this module does not know gets ``None``: its stored list is left
as it is. Redirects are not followed (the key would travel with them), and
nothing said here repeats the key.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import aiohttp
import orjson

from chatgrid.providers.base import UpstreamConfig
from chatgrid.providers.openai import openai_headers

ANTHROPIC_VERSION = "2023-06-01"
#: Anthropic pages its list; this many pages of 1,000 is more than any account holds.
_MAX_PAGES = 20


class ModelListUnavailable(Exception):
    """The provider did not give a model list this time (rejected, unreachable, unreadable)."""


Fetcher = Callable[[aiohttp.ClientSession, UpstreamConfig, str, float], Awaitable[list[str] | None]]


async def fetch_model_list(
    session: aiohttp.ClientSession, config: UpstreamConfig, key: str, *, seconds: float = 15.0
) -> list[str] | None:
    """The model ids the key can use now, sorted; None when this provider is not asked.

    Raises :class:`ModelListUnavailable` when the provider was asked and gave no list.
    """
    fetcher = _FETCHERS.get(config.provider.value)
    if fetcher is None:
        return None
    return await fetcher(session, config, key, seconds)


async def _openai_models(
    session: aiohttp.ClientSession, config: UpstreamConfig, key: str, seconds: float
) -> list[str] | None:
    body = await _get(session, f"{config.base_url}/models", openai_headers(config, key), seconds)
    return sorted(_ids(body))


async def _azure_models(
    session: aiohttp.ClientSession, config: UpstreamConfig, key: str, seconds: float
) -> list[str] | None:
    """An Azure resource serves the models it has deployments for: the configured ones."""
    return sorted(config.deployments)


async def _anthropic_models(
    session: aiohttp.ClientSession, config: UpstreamConfig, key: str, seconds: float
) -> list[str] | None:
    base = config.base_url
    url = f"{base}/models" if base.endswith("/v1") else f"{base}/v1/models"
    headers = {"x-api-key": key, "anthropic-version": ANTHROPIC_VERSION}
    found: set[str] = set()
    after: str | None = None
    for _ in range(_MAX_PAGES):
        query = "?limit=1000" + (f"&after_id={after}" if after else "")
        page = _json(await _get(session, url + query, headers, seconds))
        found |= _ids_of(page)
        after = page.get("last_id") if isinstance(page, dict) else None
        if not (isinstance(page, dict) and page.get("has_more") and isinstance(after, str)):
            break
    return sorted(found)


_FETCHERS: dict[str, Fetcher] = {
    "openai": _openai_models,
    "openai-compatible": _openai_models,
    "gemini": _openai_models,  # Gemini's OpenAI-compatible endpoint lists at {base}/models
    "azure": _azure_models,
    "anthropic": _anthropic_models,
}


async def _get(
    session: aiohttp.ClientSession, url: str, headers: dict[str, str], seconds: float
) -> bytes:
    try:
        async with session.get(
            url,
            headers=headers,
            timeout=aiohttp.ClientTimeout(total=seconds),
            allow_redirects=False,
        ) as response:
            if response.status != 200:
                raise ModelListUnavailable(f"listing models answered HTTP {response.status}")
            return await response.read()
    except (aiohttp.ClientError, TimeoutError, OSError) as exc:
        raise ModelListUnavailable(
            f"the provider could not be reached ({type(exc).__name__})"
        ) from None


def _ids(body: bytes) -> set[str]:
    return _ids_of(_json(body))


def _json(body: bytes) -> object:
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError:
        raise ModelListUnavailable("the model list was not JSON") from None


def _ids_of(page: object) -> set[str]:
    data = page.get("data") if isinstance(page, dict) else None
    if not isinstance(data, list):
        raise ModelListUnavailable("the answer held no model list")
    return {str(item["id"]) for item in data if isinstance(item, dict) and "id" in item}
