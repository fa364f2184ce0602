"""Which operation a path names, for OpenAI's ``/v1``, Azure's ``/openai`` and
Gemini's OpenAI-compatible ``/v1beta/openai`` paths.

A dict lookup for the fixed paths and two prefix checks for the rest: the
simulator is the baseline of a throughput benchmark, so routing must cost
next to nothing.
"""

from __future__ import annotations

from typing import Final, NamedTuple

CHAT: Final = "chat"
EMBEDDINGS: Final = "embeddings"
MODELS: Final = "models"
MODEL: Final = "model"
DEPLOYMENT: Final = "deployment"
RESPONSES: Final = "responses"
#: ``GET`` or ``DELETE /v1/responses/{id}``; the route says GET, the dispatcher allows both.
RESPONSE: Final = "response"
IMAGES: Final = "images"
TRANSCRIPTIONS: Final = "transcriptions"
SPEECH: Final = "speech"
MODERATIONS: Final = "moderations"
#: The target of Gemini's paths: same operations, Gemini's models.
GEMINI: Final = "gemini"

_MODEL_PREFIX: Final = "/v1/models/"
_DEPLOYMENTS_PREFIX: Final = "/openai/deployments/"
_RESPONSE_PREFIX: Final = "/v1/responses/"
_AZURE_OPERATIONS: Final = {"chat/completions": CHAT, "embeddings": EMBEDDINGS, "": DEPLOYMENT}


class Route(NamedTuple):
    operation: str
    method: str
    azure: bool
    #: The model id (``MODEL``), the deployment name (Azure), ``GEMINI``, else "".
    target: str = ""


_FIXED: Final = {
    "/v1/chat/completions": Route(CHAT, "POST", False),
    "/v1/embeddings": Route(EMBEDDINGS, "POST", False),
    "/v1/models": Route(MODELS, "GET", False),
    "/openai/models": Route(MODELS, "GET", True),
    "/v1/responses": Route(RESPONSES, "POST", False),
    "/v1/images/generations": Route(IMAGES, "POST", False),
    "/v1/audio/transcriptions": Route(TRANSCRIPTIONS, "POST", False),
    "/v1/audio/speech": Route(SPEECH, "POST", False),
    "/v1/moderations": Route(MODERATIONS, "POST", False),
    "/v1beta/openai/chat/completions": Route(CHAT, "POST", False, GEMINI),
    "/v1beta/openai/models": Route(MODELS, "GET", False, GEMINI),
}


def resolve(path: str) -> Route | None:
    route = _FIXED.get(path)
    if route is not None:
        return route
    if path.startswith(_MODEL_PREFIX):
        model = path[len(_MODEL_PREFIX) :]
        return Route(MODEL, "GET", False, model) if model else None
    if path.startswith(_RESPONSE_PREFIX):
        response_id = path[len(_RESPONSE_PREFIX) :]
        valid = response_id and "/" not in response_id
        return Route(RESPONSE, "GET", False, response_id) if valid else None
    if path.startswith(_DEPLOYMENTS_PREFIX):
        deployment, _, rest = path[len(_DEPLOYMENTS_PREFIX) :].partition("/")
        operation = _AZURE_OPERATIONS.get(rest)
        if deployment and operation is not None:
            method = "GET" if operation == DEPLOYMENT else "POST"
            return Route(operation, method, True, deployment)
    return None


# Anthropic's Messages API shares ``/v1`` with OpenAI's (see ``simulator.anthropic``).
MESSAGES: Final = "messages"
COUNT_TOKENS: Final = "count_tokens"
_ANTHROPIC_MARKERS: Final = (b"anthropic-version", b"x-api-key")
_ANTHROPIC: Final = {
    "/v1/messages": Route(MESSAGES, "POST", False),
    "/v1/messages/count_tokens": Route(COUNT_TOKENS, "POST", False),
    "/v1/models": Route(MODELS, "GET", False),
}


def is_anthropic(path: str, headers: list[tuple[bytes, bytes]]) -> bool:
    """``/v1/messages*`` always; ``/v1/models*`` when the request carries Anthropic's
    ``anthropic-version`` or ``x-api-key`` header (the OpenAI SDK sends neither)."""
    if path.startswith("/v1/messages"):
        return True
    if path.startswith("/v1/models"):
        return any(name in _ANTHROPIC_MARKERS for name, _ in headers)
    return False


def resolve_anthropic(path: str) -> Route | None:
    route = _ANTHROPIC.get(path)
    if route is None and path.startswith(_MODEL_PREFIX) and len(path) > len(_MODEL_PREFIX):
        return Route(MODEL, "GET", False, path[len(_MODEL_PREFIX) :])
    return route
