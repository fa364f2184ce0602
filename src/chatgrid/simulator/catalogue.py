"""The fixed model catalogue, with the list and per-model bodies serialised once.

The catalogue never changes while the simulator runs, so ``GET /v1/models``
answers with bytes prepared at import time instead of building JSON per call.
"""

from __future__ import annotations

from typing import Final

import orjson

# (id, created, owned_by) as OpenAI lists them.
_MODELS: Final = (
    ("gpt-4o", 1715367049, "system"),
    ("gpt-4o-mini", 1721172741, "system"),
    ("gpt-4.1", 1744316542, "system"),
    ("gpt-4.1-mini", 1744318173, "system"),
    ("gpt-4.1-nano", 1744321707, "system"),
    ("gpt-5", 1754425777, "system"),
    ("gpt-5-mini", 1754425928, "system"),
    ("gpt-5-nano", 1754426384, "system"),
    ("o4-mini", 1744225351, "system"),
    ("text-embedding-3-small", 1705948997, "system"),
    ("text-embedding-3-large", 1705953180, "system"),
    ("text-embedding-ada-002", 1671217299, "openai-internal"),
    ("gpt-image-1", 1745517030, "system"),
    ("dall-e-3", 1698785189, "system"),
    ("dall-e-2", 1698798177, "system"),
    ("whisper-1", 1677532384, "openai-internal"),
    ("gpt-4o-transcribe", 1742068463, "system"),
    ("gpt-4o-mini-transcribe", 1742068596, "system"),
    ("tts-1", 1681940951, "openai-internal"),
    ("tts-1-hd", 1699046015, "system"),
    ("gpt-4o-mini-tts", 1742403959, "system"),
    ("omni-moderation-latest", 1731689265, "system"),
    ("text-moderation-latest", 1698705054, "system"),
)

#: Native vector size of each embedding model.
EMBEDDING_DIMS: Final[dict[str, int]] = {
    "text-embedding-3-small": 1536,
    "text-embedding-3-large": 3072,
    "text-embedding-ada-002": 1536,
}

#: Embedding models that accept the ``dimensions`` parameter (ada-002 does not).
SHORTENABLE: Final = frozenset({"text-embedding-3-small", "text-embedding-3-large"})

#: The models of ``/v1/images/generations``, ``/v1/audio/...`` and ``/v1/moderations``.
IMAGE_MODELS: Final = frozenset({"gpt-image-1", "dall-e-3", "dall-e-2"})
TRANSCRIPTION_MODELS: Final = frozenset(
    {"whisper-1", "gpt-4o-transcribe", "gpt-4o-mini-transcribe"}
)
SPEECH_MODELS: Final = frozenset({"tts-1", "tts-1-hd", "gpt-4o-mini-tts"})
MODERATION_MODELS: Final = frozenset({"omni-moderation-latest", "text-moderation-latest"})

MODEL_IDS: Final = frozenset(model_id for model_id, _, _ in _MODELS)
CHAT_MODELS: Final = (
    MODEL_IDS
    - EMBEDDING_DIMS.keys()
    - IMAGE_MODELS
    - TRANSCRIPTION_MODELS
    - SPEECH_MODELS
    - MODERATION_MODELS
)


def _model_object(model_id: str, created: int, owned_by: str) -> dict[str, object]:
    return {"id": model_id, "object": "model", "created": created, "owned_by": owned_by}


MODEL_BODIES: Final[dict[str, bytes]] = {
    model_id: orjson.dumps(_model_object(model_id, created, owned_by))
    for model_id, created, owned_by in _MODELS
}

LIST_BODY: Final = orjson.dumps(
    {"object": "list", "data": [_model_object(*model) for model in _MODELS]}
)

# Anthropic's models, newest first as ``GET /v1/models`` lists them:
# (id, display_name, created_at, max output tokens). All share a 200,000-token window.
CLAUDE_MODELS: Final = (
    ("claude-opus-4-5-20251101", "Claude Opus 4.5", "2025-11-24T00:00:00Z", 64000),
    ("claude-haiku-4-5-20251001", "Claude Haiku 4.5", "2025-10-15T00:00:00Z", 64000),
    ("claude-sonnet-4-5-20250929", "Claude Sonnet 4.5", "2025-09-29T00:00:00Z", 64000),
    ("claude-opus-4-1-20250805", "Claude Opus 4.1", "2025-08-05T00:00:00Z", 32000),
    ("claude-opus-4-20250514", "Claude Opus 4", "2025-05-22T00:00:00Z", 32000),
    ("claude-sonnet-4-20250514", "Claude Sonnet 4", "2025-05-22T00:00:00Z", 64000),
    ("claude-3-7-sonnet-20250219", "Claude Sonnet 3.7", "2025-02-24T00:00:00Z", 64000),
    ("claude-3-5-haiku-20241022", "Claude Haiku 3.5", "2024-10-22T00:00:00Z", 8192),
)
CLAUDE_CONTEXT_WINDOW: Final = 200_000

#: Aliases Anthropic resolves to a dated model (answers name the dated id).
CLAUDE_ALIASES: Final[dict[str, str]] = {
    "claude-opus-4-5": "claude-opus-4-5-20251101",
    "claude-haiku-4-5": "claude-haiku-4-5-20251001",
    "claude-sonnet-4-5": "claude-sonnet-4-5-20250929",
    "claude-opus-4-1": "claude-opus-4-1-20250805",
    "claude-opus-4-0": "claude-opus-4-20250514",
    "claude-sonnet-4-0": "claude-sonnet-4-20250514",
    "claude-3-7-sonnet-latest": "claude-3-7-sonnet-20250219",
    "claude-3-5-haiku-latest": "claude-3-5-haiku-20241022",
}

#: Each Claude model's maximum ``max_tokens``, by its dated id.
CLAUDE_MAX_OUTPUT: Final[dict[str, int]] = {model[0]: model[3] for model in CLAUDE_MODELS}


#: Gemini's OpenAI-compatible endpoint (``/v1beta/openai``): chat models only,
#: listed as ``models/…`` and called by the bare name, as Google serves them.
GEMINI_CHAT_MODELS: Final = frozenset(
    {"gemini-2.5-pro", "gemini-2.5-flash", "gemini-2.5-flash-lite", "gemini-2.0-flash"}
)
GEMINI_LIST_BODY: Final = orjson.dumps(
    {
        "object": "list",
        "data": [
            {"id": f"models/{model_id}", "object": "model", "created": 0, "owned_by": "google"}
            for model_id in sorted(GEMINI_CHAT_MODELS)
        ],
    }
)
