"""Anthropic: ``x-api-key`` and ``anthropic-version`` headers, the Messages API.

A chat completion for a Claude model is posted to ``/v1/messages`` once it
is translated (``providers.anthropic_translate``); embeddings Anthropic
does not offer, so a target has no URL for them.
"""

from __future__ import annotations

from chatgrid.providers.base import UpstreamConfig, UpstreamTarget

ANTHROPIC_VERSION = "2023-06-01"


def anthropic_headers(key: str) -> dict[str, str]:
    return {"x-api-key": key, "anthropic-version": ANTHROPIC_VERSION}


def anthropic_target(config: UpstreamConfig, key: str, fingerprint: str) -> UpstreamTarget:
    base = config.base_url
    return UpstreamTarget(
        provider=config.provider,
        fingerprint=fingerprint,
        headers=anthropic_headers(key),
        chat_urls={},
        embeddings_urls={},
        default_chat_url=f"{base}/v1/messages",
        default_embeddings_url=None,
        models_url=f"{base}/v1/models?limit=1000",
    )
