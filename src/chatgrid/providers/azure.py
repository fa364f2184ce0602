"""Azure OpenAI: a deployment per model, an ``api-version`` on every call.

A model without a deployment has no URL, so the gateway refuses it instead
of guessing a deployment name.

The Responses API is the exception: Azure serves it only on its v1 surface,
``{endpoint}/openai/v1/responses`` (and ``/responses/{id}``), with no
deployment in the path and no ``api-version``; the body's ``model`` names the
deployment instead. Both are read back from the model's chat URL, so a target
needs nothing more than it has.
"""

from __future__ import annotations

from urllib.parse import quote, unquote, urlencode

from chatgrid.providers.base import UpstreamConfig, UpstreamTarget


def _deployment_url(config: UpstreamConfig, deployment: str, operation: str) -> str:
    query = urlencode({"api-version": config.api_version or ""})
    return f"{config.base_url}/openai/deployments/{quote(deployment, safe='')}/{operation}?{query}"


_DEPLOYMENTS = "/openai/deployments/"
_V1 = "/openai/v1"


def v1_base(target: UpstreamTarget) -> str | None:
    """``{endpoint}/openai/v1``, where Azure keeps responses (None: not an Azure target)."""
    for url in target.chat_urls.values():
        endpoint, found, _ = url.partition(_DEPLOYMENTS)
        if found:
            return endpoint + _V1
    return None


def responses_url(target: UpstreamTarget, model: str) -> str | None:
    """Where a Responses call for ``model`` goes; None when it has no deployment."""
    chat = target.chat_urls.get(model)
    if chat is None:
        return None
    endpoint, found, _ = chat.partition(_DEPLOYMENTS)
    return endpoint + _V1 + "/responses" if found else None


def deployment_of(target: UpstreamTarget, model: str) -> str | None:
    """The name of ``model``'s deployment, as its chat URL spells it."""
    chat = target.chat_urls.get(model)
    if chat is None:
        return None
    _, found, rest = chat.partition(_DEPLOYMENTS)
    return unquote(rest.partition("/")[0]) if found else None


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
