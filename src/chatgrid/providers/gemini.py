"""Google Gemini through its OpenAI-compatible endpoint: a bearer key, OpenAI's paths.

Calls pass through as they do to OpenAI. Gemini lists its models as
``models/gemini-…``; they are called by the bare name, which is what is kept.
"""

from __future__ import annotations

from chatgrid.providers.base import UpstreamConfig, UpstreamTarget

MODEL_PREFIX = "models/"


def gemini_target(config: UpstreamConfig, key: str, fingerprint: str) -> UpstreamTarget:
    base = config.base_url
    return UpstreamTarget(
        provider=config.provider,
        fingerprint=fingerprint,
        headers={"Authorization": f"Bearer {key}"},
        chat_urls={},
        embeddings_urls={},
        default_chat_url=f"{base}/chat/completions",
        default_embeddings_url=f"{base}/embeddings",
        models_url=f"{base}/models",
    )


def gemini_model_id(listed: str) -> str:
    """``models/gemini-2.0-flash`` → ``gemini-2.0-flash``."""
    return listed.removeprefix(MODEL_PREFIX)
