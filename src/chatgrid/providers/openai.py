"""OpenAI and any OpenAI-compatible server: one base URL, a bearer key."""

from __future__ import annotations

from chatgrid.providers.base import UpstreamConfig, UpstreamTarget


def openai_headers(config: UpstreamConfig, key: str) -> dict[str, str]:
    headers = {"Authorization": f"Bearer {key}"}
    if config.organization:
        headers["OpenAI-Organization"] = config.organization
    if config.project:
        headers["OpenAI-Project"] = config.project
    return headers


def openai_target(config: UpstreamConfig, key: str, fingerprint: str) -> UpstreamTarget:
    base = config.base_url
    return UpstreamTarget(
        provider=config.provider,
        fingerprint=fingerprint,
        headers=openai_headers(config, key),
        chat_urls={},
        embeddings_urls={},
        default_chat_url=f"{base}/chat/completions",
        default_embeddings_url=f"{base}/embeddings",
        models_url=f"{base}/models",
    )
