"""Anthropic's errors in OpenAI's shape (pure: status and body in, typed error out).

Anthropic answers ``{"type": "error", "error": {"type": ..., "message": ...}}``
with a status, and sends the same ``error`` object as a stream event when a
stream fails part-way. A client of ``/v1/chat/completions`` expects OpenAI's
``{"error": {"message", "type", "param", "code"}}``, so both are turned into
ChatGrid's typed errors, whose JSON is that shape:

=====================  ======  ================================================
Anthropic type         status  ChatGrid error (code)
=====================  ======  ================================================
invalid_request_error  400     InvalidRequest (none)
authentication_error   401     UpstreamKeyRejected (upstream_key_rejected)
billing_error          402     RateLimited (insufficient_quota), as OpenAI's 429
permission_error       403     UpstreamKeyRejected (upstream_key_rejected)
not_found_error        404     NotFound (model_not_found for a model, else not_found)
request_too_large      413     RequestTooLarge (request_too_large)
rate_limit_error       429     RateLimited (rate_limit_exceeded)
api_error              500     UpstreamFailed (upstream_error)
timeout_error          504     UpstreamFailed (upstream_timeout)
overloaded_error       529     UpstreamFailed (upstream_overloaded), status 503
=====================  ======  ================================================

For a non-200 answer the relay can instead convert only the body
(:func:`openai_error_payload`) and keep judging it as it judges OpenAI's
(``gateway.upstream_answers``): statuses, key rejection and pass-through stay
in one place.
"""

from __future__ import annotations

from typing import Any

import orjson

from chatgrid.errors import (
    ChatGridError,
    InvalidRequest,
    NotFound,
    RateLimited,
    RequestTooLarge,
    UpstreamFailed,
    UpstreamKeyRejected,
)

_KEY_REJECTED = (
    "Your organization's Anthropic key was rejected by Anthropic — ask an admin "
    "to reconnect it in ChatGrid."
)


def anthropic_error_object(payload: Any) -> dict[str, Any] | None:
    """The ``error`` object of an Anthropic error body (bytes) or event (a dict), if it is one."""
    try:
        data = orjson.loads(payload) if isinstance(payload, bytes | str) else payload
    except orjson.JSONDecodeError:
        return None
    error = data.get("error") if isinstance(data, dict) and data.get("type") == "error" else None
    if not isinstance(error, dict) or not isinstance(error.get("type"), str):
        return None
    return error


def _model_not_found(message: str) -> NotFound | None:
    """Anthropic says ``model: NAME``; OpenAI's clients look for ``model_not_found``."""
    name = message[len("model:") :].strip() if message.startswith("model:") else None
    if name is None and "model" not in message.lower():
        return None
    text = (
        f"The model `{name}` does not exist or you do not have access to it." if name else message
    )
    return NotFound(text, code="model_not_found", param="model")


def error_from_anthropic(error: dict[str, Any], status: int | None = None) -> ChatGridError:
    """The typed error for an Anthropic ``error`` object (``status`` when it came with one)."""
    kind = error.get("type")
    message = error.get("message")
    if not isinstance(message, str) or not message:
        message = f"Anthropic answered {kind or 'an error'}"
    if kind == "invalid_request_error":
        return InvalidRequest(message, status=status if status and 400 <= status < 500 else None)
    if kind in ("authentication_error", "permission_error"):
        return UpstreamKeyRejected(_KEY_REJECTED)
    if kind == "billing_error":
        return RateLimited(message, code="insufficient_quota")
    if kind == "not_found_error":
        return _model_not_found(message) or NotFound(message)
    if kind == "request_too_large":
        return RequestTooLarge(message)
    if kind == "rate_limit_error":
        return RateLimited(message)
    if kind == "timeout_error":
        return UpstreamFailed(message, code="upstream_timeout", status=504)
    if kind == "overloaded_error":
        return UpstreamFailed(message, code="upstream_overloaded", status=503)
    if status is not None and 400 <= status < 500:
        return InvalidRequest(message, status=status)
    return UpstreamFailed(message)


def openai_error_payload(payload: bytes) -> bytes:
    """An Anthropic error body rewritten in OpenAI's shape; any other body as it was."""
    error = anthropic_error_object(payload)
    if error is None:
        return payload
    return error_from_anthropic(error).to_json()
