"""Which operation a path names, for OpenAI's ``/v1`` and Azure's ``/openai`` paths.

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

_MODEL_PREFIX: Final = "/v1/models/"
_DEPLOYMENTS_PREFIX: Final = "/openai/deployments/"
_AZURE_OPERATIONS: Final = {"chat/completions": CHAT, "embeddings": EMBEDDINGS, "": DEPLOYMENT}


class Route(NamedTuple):
    operation: str
    method: str
    azure: bool
    #: The model id (``MODEL``) or the deployment name (Azure), else "".
    target: str = ""


_FIXED: Final = {
    "/v1/chat/completions": Route(CHAT, "POST", False),
    "/v1/embeddings": Route(EMBEDDINGS, "POST", False),
    "/v1/models": Route(MODELS, "GET", False),
    "/openai/models": Route(MODELS, "GET", True),
}


def resolve(path: str) -> Route | None:
    route = _FIXED.get(path)
    if route is not None:
        return route
    if path.startswith(_MODEL_PREFIX):
        model = path[len(_MODEL_PREFIX) :]
        return Route(MODEL, "GET", False, model) if model else None
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
