"""Azure OpenAI: a deployment per model, an ``api-version`` on every call.

A model without a deployment has no URL, so the gateway refuses it instead
of guessing a deployment name.
"""

from __future__ import annotations

from urllib.parse import quote, urlencode

from chatgrid.providers.base import UpstreamConfig, UpstreamTarget


def _deployment_url(config: UpstreamConfig, deployment: str, operation: str) -> str:
    query = urlencode({"api-version": config.api_version or ""})
    return f"{config.base_url}/openai/deployments/{quote(deployment, safe='')}/{operation}?{query}"


def deployment_info_url(config: UpstreamConfig, deployment: str) -> str:
    query = urlencode({"api-version": config.api_version or ""})
    return f"{config.base_url}/openai/deployments/{quote(deployment, safe='')}?{query}"


def azure_target(config: UpstreamConfig, key: str, fingerprint: str) -> UpstreamTarget:
    query = urlencode({"api-version": config.api_version or ""})
    return UpstreamTarget(
        provider=config.provider,
        fingerprint=fingerprint,
        headers={"api-key": key},
        chat_urls={
            model: _deployment_url(config, dep, "chat/completions")
            for model, dep in config.deployments.items()
        },
        embeddings_urls={
            model: _deployment_url(config, dep, "embeddings")
            for model, dep in config.deployments.items()
        },
        default_chat_url=None,
        default_embeddings_url=None,
        models_url=f"{config.base_url}/openai/models?{query}",
    )
