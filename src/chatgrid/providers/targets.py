"""From a stored upstream and its opened key to a ready target, by upstream kind.

This is the one place that knows every kind: ``base`` defines what a target
is, each kind's module builds one, and this module picks the builder, so the
kinds depend on ``base`` and never the other way round. It is also the one
place that says where a call goes on a target (``call_url``): the gateway's
first choice of upstream and a pooled key's failover both ask it.
"""

from __future__ import annotations

from typing import Literal

from chatgrid.providers.anthropic import anthropic_target
from chatgrid.providers.azure import azure_target, responses_url
from chatgrid.providers.base import Provider, UpstreamConfig, UpstreamTarget
from chatgrid.providers.gemini import gemini_target
from chatgrid.providers.openai import openai_target

#: The upstream endpoints ChatGrid relays.
Endpoint = Literal[
    "chat",
    "embeddings",
    "responses",
    "moderations",
    "images",
    "transcriptions",
    "speech",
    "messages",
]
#: Each endpoint's path after an OpenAI base URL (or an Azure deployment's).
ENDPOINT_PATHS: dict[str, str] = {
    "responses": "/responses",
    "moderations": "/moderations",
    "images": "/images/generations",
    "transcriptions": "/audio/transcriptions",
    "speech": "/audio/speech",
}
_CHAT_PATH = "/chat/completions"


def build_target(config: UpstreamConfig, key: str, fingerprint: str) -> UpstreamTarget:
    if config.provider is Provider.AZURE:
        return azure_target(config, key, fingerprint)
    if config.provider is Provider.ANTHROPIC:
        return anthropic_target(config, key, fingerprint)
    if config.provider is Provider.GEMINI:
        return gemini_target(config, key, fingerprint)
    return openai_target(config, key, fingerprint)


def call_url(target: UpstreamTarget, endpoint: Endpoint, model: str) -> str | None:
    """The URL a call to ``endpoint`` for ``model`` is posted to on ``target``.

    None when the target has nowhere to send it: an Azure resource with no
    deployment of that model, or embeddings, images or audio on Anthropic. The
    other endpoints sit beside chat completions (on Azure, on the model's
    deployment; but responses on Azure's v1 surface, ``azure.responses_url``).
    """
    if endpoint == "chat":
        return target.chat_url(model)
    if endpoint == "embeddings":
        return target.embeddings_url(model)
    if target.provider is Provider.ANTHROPIC:
        return target.chat_url(model) if endpoint == "messages" else None  # its /v1/messages
    if endpoint == "messages":
        return None
    if endpoint == "responses" and target.provider is Provider.AZURE:
        return responses_url(target, model)
    chat = target.chat_url(model)
    if chat is None or _CHAT_PATH not in chat:
        return None
    return chat.replace(_CHAT_PATH, ENDPOINT_PATHS[endpoint], 1)
