"""Which operation a path names, for OpenAI's ``/v1``, Azure's ``/openai`` and
Gemini's OpenAI-compatible ``/v1beta/openai`` paths.

Azure has two surfaces: the deployment-scoped one
(``/openai/deployments/{d}/...``, chat and embeddings) and the v1 one
(``/openai/v1/...``), the only one serving the Responses API, where the body's
``model`` names the deployment.

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
#: ``GET /v1/responses/{id}/input_items``.
INPUT_ITEMS: Final = "input_items"
IMAGES: Final = "images"
TRANSCRIPTIONS: Final = "transcriptions"
SPEECH: Final = "speech"
MODERATIONS: Final = "moderations"
#: ``GET /v1/organization/usage/completions``: the Usage API (an admin key's).
USAGE_COMPLETIONS: Final = "usage_completions"
#: ``GET /v1/organization/costs``: the Costs API (an admin key's).
COSTS: Final = "costs"
#: The target of Gemini's paths: same operations, Gemini's models.
GEMINI: Final = "gemini"

_MODEL_PREFIX: Final = "/v1/models/"
_DEPLOYMENTS_PREFIX: Final = "/openai/deployments/"
_RESPONSE_PREFIX: Final = "/v1/responses/"
_AZURE_V1_RESPONSE_PREFIX: Final = "/openai/v1/responses/"
_AZURE_OPERATIONS: Final = {"chat/completions": CHAT, "embeddings": EMBEDDINGS, "": DEPLOYMENT}


class Route(NamedTuple):
    operation: str
    method: str
    azure: bool
    #: The model id (``MODEL``), the deployment name (Azure), a response id, ``GEMINI``, else "".
    target: str = ""
    #: Azure's v1 surface: no ``api-version`` needed, no deployment in the path.
    v1: bool = False


_FIXED: Final = {
    "/v1/chat/completions": Route(CHAT, "POST", False),
    "/v1/embeddings": Route(EMBEDDINGS, "POST", False),
    "/v1/models": Route(MODELS, "GET", False),
    "/openai/models": Route(MODELS, "GET", True),
    "/v1/responses": Route(RESPONSES, "POST", False),
    "/openai/v1/responses": Route(RESPONSES, "POST", True, "", True),
    "/v1/images/generations": Route(IMAGES, "POST", False),
    "/v1/audio/transcriptions": Route(TRANSCRIPTIONS, "POST", False),
    "/v1/audio/speech": Route(SPEECH, "POST", False),
    "/v1/moderations": Route(MODERATIONS, "POST", False),
    "/v1/organization/usage/completions": Route(USAGE_COMPLETIONS, "GET", False),
    "/v1/organization/costs": Route(COSTS, "GET", False),
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
        return _response_route(path[len(_RESPONSE_PREFIX) :], False)
    if path.startswith(_AZURE_V1_RESPONSE_PREFIX):
        return _response_route(path[len(_AZURE_V1_RESPONSE_PREFIX) :], True)
    if path.startswith(_DEPLOYMENTS_PREFIX):
        deployment, _, rest = path[len(_DEPLOYMENTS_PREFIX) :].partition("/")
        operation = _AZURE_OPERATIONS.get(rest)
        if deployment and operation is not None:
            method = "GET" if operation == DEPLOYMENT else "POST"
            return Route(operation, method, True, deployment)
    return None


def _response_route(rest: str, azure: bool) -> Route | None:
    """``{id}`` (GET, DELETE) or ``{id}/input_items`` (GET) after ``.../responses/``."""
    response_id, _, tail = rest.partition("/")
    if not response_id or tail not in ("", "input_items"):
        return None
    operation = INPUT_ITEMS if tail else RESPONSE
    return Route(operation, "GET", azure, response_id, azure)


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
