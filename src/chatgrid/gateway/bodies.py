"""Check and prepare ``/v1`` request bodies (pure: bytes in, bytes out).

The gateway checks only what it relies on (model, messages, streaming
options, input) and passes every other field through untouched: tools,
response formats and image parts are the upstream's to judge, and its 400
comes back to the caller as is.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson

from chatgrid.billing.worst_case import responses_prompt_bound
from chatgrid.errors import InvalidRequest
from chatgrid.ledger.units import Units
from chatgrid.providers.targets import Endpoint

ROLES = frozenset({"system", "developer", "user", "assistant", "tool", "function"})


@dataclass(slots=True)
class PreparedCall:
    endpoint: Endpoint
    model: str
    stream: bool
    client_wants_usage: bool
    upstream_body: bytes
    request: dict[str, Any]
    #: A call priced by other units than tokens: what it uses, known before it goes.
    units: Units | None = None
    #: The upstream body's content type (a transcription's is multipart).
    content_type: str = "application/json"
    #: Headers the client chose for the upstream (``/v1/messages``: validated
    #: ``anthropic-version`` and ``anthropic-beta``), over the target's own.
    upstream_headers: dict[str, str] | None = None


def _load_object(raw: bytes) -> dict[str, Any]:
    if not raw:
        raise InvalidRequest("the request body is empty; send a JSON object", code="invalid_json")
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise InvalidRequest("the request body is not valid JSON", code="invalid_json") from None
    if not isinstance(data, dict):
        raise InvalidRequest("the request body must be a JSON object", code="invalid_json")
    return data


def _model(data: dict[str, Any]) -> str:
    model = data.get("model")
    if not isinstance(model, str) or not model.strip():
        raise InvalidRequest(
            "you must provide a model parameter", param="model", code="missing_model"
        )
    if len(model) > 100:
        raise InvalidRequest("the model name is too long", param="model")
    return model


def _positive_int(data: dict[str, Any], name: str, maximum: int) -> None:
    value = data.get(name)
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= maximum:
        raise InvalidRequest(f"{name} must be an integer from 1 to {maximum}", param=name)


def prepare_chat(raw: bytes, user_tag: str) -> PreparedCall:
    return chat_call(_load_object(raw), user_tag)


def chat_call(data: dict[str, Any], user_tag: str) -> PreparedCall:
    """Check a chat request already read as an object (``data`` is updated in place).

    The workspace hands its own requests in this way: no JSON in between.
    """
    model = _model(data)
    messages = data.get("messages")
    if not isinstance(messages, list) or not messages:
        raise InvalidRequest("messages must be a non-empty array", param="messages")
    for index, message in enumerate(messages):
        role = message.get("role") if isinstance(message, dict) else None
        if not isinstance(role, str) or role not in ROLES:
            raise InvalidRequest(
                f"messages[{index}] must be an object with a valid role",
                param=f"messages[{index}].role",
            )
    stream = data.get("stream", False)
    if stream is not None and not isinstance(stream, bool):
        raise InvalidRequest("stream must be a boolean", param="stream")
    stream = bool(stream)
    options = data.get("stream_options")
    if options is not None and (not isinstance(options, dict) or not stream):
        raise InvalidRequest(
            "stream_options must be an object and needs stream: true", param="stream_options"
        )
    wants_usage = bool(options and options.get("include_usage") is True)
    _positive_int(data, "max_tokens", 10_000_000)
    _positive_int(data, "max_completion_tokens", 10_000_000)
    _positive_int(data, "n", 128)
    data["user"] = user_tag
    if stream:
        # Always ask for usage so the ledger gets real numbers; the chunk is
        # passed on only if the client asked for it.
        data["stream_options"] = {**(options or {}), "include_usage": True}
    return PreparedCall("chat", model, stream, wants_usage, _dump(data), data)


def _dump(data: dict[str, Any]) -> bytes:
    try:
        return orjson.dumps(data)
    except orjson.JSONEncodeError:
        # orjson reads 1023 levels of nesting but writes only 254.
        raise InvalidRequest("the request body is nested too deeply", code="invalid_json") from None


def _valid_embedding_input(value: object) -> bool:
    if isinstance(value, str):
        return bool(value)
    if not isinstance(value, list) or not value:
        return False
    first = value[0]
    if isinstance(first, str):
        return all(isinstance(v, str) and v for v in value)
    if isinstance(first, int) and not isinstance(first, bool):
        return all(isinstance(v, int) and not isinstance(v, bool) for v in value)
    if isinstance(first, list):
        return all(
            isinstance(v, list)
            and v
            and all(isinstance(t, int) and not isinstance(t, bool) for t in v)
            for v in value
        )
    return False


def prepare_embeddings(raw: bytes, user_tag: str) -> PreparedCall:
    return embeddings_call(_load_object(raw), user_tag)


def embeddings_call(data: dict[str, Any], user_tag: str) -> PreparedCall:
    """Check an embeddings request already read as an object (``data`` is updated in place)."""
    model = _model(data)
    if not _valid_embedding_input(data.get("input")):
        raise InvalidRequest(
            "input must be a non-empty string, array of strings, or array of token arrays",
            param="input",
        )
    data["user"] = user_tag
    return PreparedCall("embeddings", model, False, False, _dump(data), data)


def prompt_byte_bound(request: dict[str, Any]) -> int:
    """An upper bound on prompt tokens: a BPE token is at least one UTF-8 byte.

    Used only when the upstream never reported usage (a stream cut short).
    """
    total = 0
    if "messages" not in request:  # the Responses API: input and instructions
        return responses_prompt_bound(request)
    for message in request.get("messages") or ():
        content = message.get("content") if isinstance(message, dict) else None
        if isinstance(content, str):
            total += len(content.encode())
        elif isinstance(content, list):
            for part in content:
                if isinstance(part, dict) and isinstance(part.get("text"), str):
                    total += len(part["text"].encode())
        total += 4  # role and separators
    return total
