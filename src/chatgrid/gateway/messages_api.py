"""Anthropic's own ``POST /v1/messages``, passed through for the official ``anthropic`` SDK.

The client speaks Anthropic and hears Anthropic: its body goes to the org's
Anthropic key (or the pool's) as it came, the answer and every stream event
come back as Anthropic sent them, and ChatGrid's own refusals take
Anthropic's shape (``{"type": "error", "error": {"type", "message"}}``).
Everything else is chat's: the caller's ChatGrid token (in ``x-api-key``, as
the SDK sends it, or ``Authorization: Bearer``), allowed models, limits, the
reservation, and one ledger row per upstream call with the usage read from
the body (whole) or from ``message_start`` and ``message_delta`` (streamed).
"""

from __future__ import annotations

import contextlib
import re
from typing import Any, Final

import orjson

from chatgrid.errors import ChatGridError, InvalidRequest
from chatgrid.gateway.bodies import PreparedCall
from chatgrid.gateway.http import JSON_HEADERS, Scope, header, send_bytes
from chatgrid.gateway.sinks import AsgiSink
from chatgrid.ledger.pricing import Usage
from chatgrid.providers.anthropic_answer import AnthropicUsage

PATH: Final = "/v1/messages"
COUNT_PATH: Final = "/v1/messages/count_tokens"
#: The paths whose client is the ``anthropic`` SDK: its token header, its error shape.
ANTHROPIC_PATHS: Final = frozenset({PATH, COUNT_PATH})
#: ``anthropic-version`` is a date; each ``anthropic-beta`` a short name
#: (``prompt-caching-2024-07-31``). Anything else is refused, never forwarded.
_VERSION: Final = re.compile(rb"\d{4}-\d{2}-\d{2}")
_BETA: Final = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")
_MAX_BETAS: Final = 20
_BEARER: Final = b"bearer "
#: Anthropic's error type for each status ChatGrid refuses with.
_ERROR_TYPES: Final = {
    400: "invalid_request_error",
    401: "authentication_error",
    402: "billing_error",
    403: "permission_error",
    404: "not_found_error",
    405: "invalid_request_error",
    413: "request_too_large",
    429: "rate_limit_error",
    504: "timeout_error",
    529: "overloaded_error",
}


def caller_token(scope: Scope) -> bytes | None:
    """The ChatGrid token: ``x-api-key`` (the SDK's way), else a Bearer authorization."""
    key = header(scope, b"x-api-key")
    if key:
        return key.strip()
    value = header(scope, b"authorization")
    if value is not None and value[:7].lower() == _BEARER:
        return value[7:].strip()
    return None


def anthropic_headers(scope: Scope) -> dict[str, str] | None:
    """The client's ``anthropic-version`` and ``anthropic-beta``, checked, for the upstream.

    Only these two headers ever pass, and only in their documented form: a
    version is a date, betas are short names (comma-separated, or the header
    repeated, as Anthropic reads them). None when the client sent neither: the
    key's default version goes alone, as before.
    """
    version: bytes | None = None
    betas: list[str] = []
    for name, value in scope["headers"]:
        if name == b"anthropic-version":
            if version is not None or not _VERSION.fullmatch(value.strip()):
                raise InvalidRequest(
                    "anthropic-version: send one version, a date such as 2023-06-01.",
                    code="invalid_anthropic_header",
                )
            version = value.strip()
        elif name == b"anthropic-beta":
            betas += _betas(value)
    if version is None and not betas:
        return None
    chosen: dict[str, str] = {}
    if version is not None:
        chosen["anthropic-version"] = version.decode("ascii")
    if betas:
        chosen["anthropic-beta"] = ",".join(dict.fromkeys(betas))
    return chosen


def _betas(value: bytes) -> list[str]:
    names = [part.strip() for part in value.decode("latin-1").split(",")]
    names = [name for name in names if name]
    if len(names) > _MAX_BETAS or not all(_BETA.fullmatch(name) for name in names):
        raise InvalidRequest(
            f"anthropic-beta: send at most {_MAX_BETAS} beta names of letters, digits, "
            "'.', '_' and '-' (such as prompt-caching-2024-07-31), separated by commas.",
            code="invalid_anthropic_header",
        )
    return names


def anthropic_error(error: ChatGridError) -> bytes:
    """ChatGrid's refusal in Anthropic's shape (its message; its code, if any, beside it)."""
    kind = _ERROR_TYPES.get(error.status, "api_error")
    if error.status == 503:
        kind = "overloaded_error"
    return orjson.dumps({"type": "error", "error": {"type": kind, "message": error.message}})


async def send_anthropic_error(
    send: Any, error: ChatGridError, extra: list[tuple[bytes, bytes]]
) -> None:
    headers = [*JSON_HEADERS, *error.headers(), *extra]
    await send_bytes(send, error.status, anthropic_error(error), headers)


def prepare_messages(raw: bytes, headers: dict[str, str] | None = None) -> PreparedCall:
    """Check what the gateway relies on (a model, ``max_tokens``, messages); the rest is
    Anthropic's to judge, and its 400 comes back as it is. The body goes as it came,
    with ``headers`` (:func:`anthropic_headers`) over the key's own."""
    data = _messages_body(raw)
    cap = data.get("max_tokens")
    if isinstance(cap, bool) or not isinstance(cap, int) or cap < 1:
        raise InvalidRequest("max_tokens: Field required", param="max_tokens")
    stream = data.get("stream") is True
    model = str(data["model"])
    return PreparedCall("messages", model, stream, True, raw, data, upstream_headers=headers)


def prepare_count(raw: bytes, headers: dict[str, str] | None = None) -> PreparedCall:
    """A ``count_tokens`` body: a model and messages (no ``max_tokens``); goes as it came."""
    data = _messages_body(raw)
    model = str(data["model"])
    return PreparedCall("messages", model, False, False, raw, data, upstream_headers=headers)


def _messages_body(raw: bytes) -> dict[str, Any]:
    try:
        data = orjson.loads(raw) if raw else None
    except orjson.JSONDecodeError:
        data = None
    if not isinstance(data, dict):
        raise InvalidRequest("the request body must be a JSON object", code="invalid_json")
    model = data.get("model")
    if not isinstance(model, str) or not model.strip() or len(model) > 100:
        raise InvalidRequest("model: Field required", param="model", code="missing_model")
    if not isinstance(data.get("messages"), list):
        raise InvalidRequest("messages: Field required", param="messages")
    return data


def message_usage(payload: bytes) -> Usage | None:
    """The four counts of a whole Message (None: not a Message with usage)."""
    try:
        message = orjson.loads(payload)
    except orjson.JSONDecodeError:
        return None
    if not isinstance(message, dict) or not isinstance(message.get("usage"), dict):
        return None
    return AnthropicUsage.from_mapping(message["usage"]).ledger_usage()


class MessagesStream:
    """Passes Anthropic's events through untouched, reading their usage on the way.

    The surface of ``gateway.sse.StreamTracker``: ``feed`` returns the bytes
    to relay now (whole events), ``done`` says ``message_stop`` came,
    ``usage`` is exact once ``message_delta`` counted the output, and
    ``estimate`` stands in for a stream cut short."""

    def __init__(self) -> None:
        self.done = False
        self.content_chunks = 0
        self.held = b""  # nothing waits for the ledger entry: Anthropic has no [DONE]
        self._usage: AnthropicUsage | None = None
        self._finished = False
        self._pending = b""

    @property
    def usage(self) -> Usage | None:
        if not self._finished or self._usage is None:
            return None
        return self._usage.ledger_usage()

    def estimate(self) -> Usage | None:
        if self._usage is None:
            return None
        known = self._usage.ledger_usage()
        output = max(known.completion_tokens, self.content_chunks)
        return Usage(
            prompt_tokens=known.prompt_tokens,
            cached_tokens=known.cached_tokens,
            completion_tokens=output,
            cache_write_tokens=known.cache_write_tokens,
            cache_write_1h_tokens=known.cache_write_1h_tokens,
        )

    def feed(self, data: bytes) -> bytes:
        buffer = self._pending + data if self._pending else data
        if b"\r" in buffer:  # on the joined bytes: a CRLF may be split between two reads
            buffer = buffer.replace(b"\r\n", b"\n")
        end = buffer.rfind(b"\n\n")
        if end < 0:
            self._pending = buffer
            return b""
        complete, self._pending = buffer[: end + 2], buffer[end + 2 :]
        self.content_chunks += complete.count(b"content_block_delta") // 2
        if b"message_" in complete:
            for event in complete.split(b"\n\n"):
                self._read(event)
        return complete

    def _read(self, event: bytes) -> None:
        if b"message_start" not in event and b"message_delta" not in event:
            if b"message_stop" in event:
                self.done = True
            return
        for line in event.split(b"\n"):
            if not line.startswith(b"data:"):
                continue
            with contextlib.suppress(orjson.JSONDecodeError):
                self._take(orjson.loads(line[5:]))

    def _take(self, data: Any) -> None:
        if not isinstance(data, dict):
            return
        kind = data.get("type")
        if kind == "message_start" and isinstance(data.get("message"), dict):
            self._usage = AnthropicUsage.from_mapping(data["message"].get("usage"))
        elif kind == "message_delta":
            self._usage = AnthropicUsage.from_mapping(data.get("usage"), self._usage)
            self._finished = True
        elif kind == "message_stop":
            self.done = True


class MessagesSink(AsgiSink):
    """The ``/v1/messages`` client: refusals and a broken stream's end in Anthropic's shape,
    and no ``[DONE]`` (Anthropic's stream ends with ``message_stop``, already relayed)."""

    __slots__ = ()

    async def refuse(
        self,
        error: ChatGridError,
        call_id: str | None,
        upstream_id: str | None,
        upstream_body: bytes | None = None,
    ) -> None:
        if upstream_body is not None:
            await super().refuse(error, call_id, upstream_id, upstream_body)
            return
        self.status = error.status
        await send_anthropic_error(self.send, error, self._ids(call_id, upstream_id))

    async def close_stream(self, error: ChatGridError | None) -> None:
        tail = b""
        if error is not None:
            tail = b"event: error\ndata: " + anthropic_error(error) + b"\n\n"
        with contextlib.suppress(OSError):
            await self.send({"type": "http.response.body", "body": tail, "more_body": False})
