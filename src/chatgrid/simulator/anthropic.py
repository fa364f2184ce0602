"""Anthropic's Messages API, served beside the OpenAI one by the same simulator.

``POST /v1/messages`` (JSON or SSE), ``POST /v1/messages/count_tokens``, and
``GET /v1/models`` / ``GET /v1/models/{id}`` when the request carries
Anthropic's headers (``routes.is_anthropic``). Keys are the simulator's keys
(``auth.KEY_RE``, revocable through ``/_sim/keys/revoke``), presented as
``x-api-key`` or, as the official SDK 2.x does, ``Authorization: Bearer``;
``anthropic-version`` is required (and a date, as Anthropic's versions are), and each
``anthropic-beta`` name must be well formed; both stay in the record's headers
as they arrived, for tests of what a gateway forwards. Order of checks, each
failure answered in Anthropic's shape (``anthropic_errors``): route (404/405)
→ body size (413) → key (401) → ``anthropic-version``, ``anthropic-beta`` (400)
→ scheduled fault → unparsable JSON (400) → validation (400/404) → directives
(delay, fault, cut) → the reply.

Models withheld from a key (``key_models``) are missing from its Anthropic
list and are a 404 ``not_found_error`` when named, as for OpenAI. Faults and
directives mean what they mean for chat, said Anthropic's way:
500 is ``api_error``, 503 becomes 529 ``overloaded_error``, a cut closes the
connection (streams after K ``content_block_delta`` events). One directive is
Anthropic's own: ``[sim:overload=K]`` ends a stream after K deltas with an
``event: error`` of type ``overloaded_error`` (a 529 when not streaming). Records carry an
``AnthropicUsage``. Token and cache rules: ``anthropic_usage``; reply rules:
``anthropic_reply``.
"""

from __future__ import annotations

import asyncio
import re
import time
from random import getrandbits
from typing import Final

import orjson

from chatgrid.simulator import anthropic_errors as errs
from chatgrid.simulator import errors, routes
from chatgrid.simulator.anthropic_reply import plan_message, render_message
from chatgrid.simulator.anthropic_request import parse_messages_request, resolve_model
from chatgrid.simulator.anthropic_stream import PREAMBLE, stream_events
from chatgrid.simulator.anthropic_usage import input_total, input_usage
from chatgrid.simulator.auth import KEY_RE, bearer_key
from chatgrid.simulator.catalogue import CLAUDE_CONTEXT_WINDOW, CLAUDE_MODELS
from chatgrid.simulator.directives import NONE, parse_directives
from chatgrid.simulator.records import AnthropicUsage, RawHeaders, RequestRecord
from chatgrid.simulator.state import SimulatorState
from chatgrid.simulator.stream import send_stream
from chatgrid.simulator.wire import (
    EVENT_STREAM_TYPE,
    JSON_TYPE,
    Headers,
    Receive,
    Send,
    abort_connection,
    read_body,
    send_bytes,
)

ORGANIZATION_ID: Final = b"5d8b6f0e-3c1a-4e8b-9a7d-2f6c1b0e4a93"
_OVERLOAD_RE: Final = re.compile(r"\[sim:overload(?:=(\d{1,9}))?\]")
_DEFAULT_LIMIT: Final = 20
#: ``anthropic-version`` is a date (``2023-06-01``; newer SDKs send newer ones).
_VERSION_RE: Final = re.compile(rb"\d{4}-\d{2}-\d{2}")
#: A beta's name as Anthropic writes them (``prompt-caching-2024-07-31``).
_BETA_RE: Final = re.compile(r"[a-z0-9][a-z0-9._-]{0,99}")
_MAX_LIMIT: Final = 1000


def _model_info(model_id: str, name: str, created_at: str, max_tokens: int) -> dict[str, object]:
    return {
        "type": "model",
        "id": model_id,
        "display_name": name,
        "created_at": created_at,
        "lifecycle": "active",
        "max_input_tokens": CLAUDE_CONTEXT_WINDOW,
        "max_tokens": max_tokens,
    }


_MODEL_INFOS: Final = [_model_info(*model) for model in CLAUDE_MODELS]
_MODEL_BODIES: Final = {str(info["id"]): orjson.dumps(info) for info in _MODEL_INFOS}


class Channels:
    """One request in flight: its ASGI channels, its record, when it arrived."""

    __slots__ = ("receive", "record", "send", "started")

    def __init__(self, receive: Receive, send: Send, record: RequestRecord, started: float) -> None:
        self.receive = receive
        self.send = send
        self.record = record
        self.started = started

    def headers(self, content_type: tuple[bytes, bytes]) -> Headers:
        """The headers Anthropic sends with every answer."""
        elapsed = int((time.perf_counter() - self.started) * 1000)
        return [
            content_type,
            (b"request-id", self.record.id.encode()),
            (b"anthropic-organization-id", ORGANIZATION_ID),
            (b"x-envoy-upstream-service-time", b"%d" % elapsed),
        ]


async def serve_anthropic(
    state: SimulatorState,
    receive: Receive,
    send: Send,
    record: RequestRecord,
    raw_headers: RawHeaders,
) -> None:
    """Answer one Anthropic request already opened in the records."""
    channels = Channels(receive, send, record, time.perf_counter())
    try:
        await _handle(state, channels, raw_headers)
    except (errs.AnthropicError, errors.ApiError) as caught:
        error = caught if isinstance(caught, errs.AnthropicError) else errs.from_api_error(caught)
        record.status = error.status
        record.usage = None
        headers = channels.headers(JSON_TYPE) + error.headers
        await send_bytes(send, error.status, error.body(record.id), headers)


async def _handle(state: SimulatorState, channels: Channels, raw_headers: RawHeaders) -> None:
    record = channels.record
    api_key = authorization = version = length = None
    betas: list[bytes] = []
    for name, value in raw_headers:
        if name == b"x-api-key":
            api_key = value
        elif name == b"authorization":
            authorization = value
        elif name == b"anthropic-version":
            version = value
        elif name == b"anthropic-beta":
            betas.append(value)
        elif name == b"content-length":
            length = value
    key = api_key.decode("latin-1") if api_key is not None else bearer_key(authorization)
    record.api_key = key
    route = routes.resolve_anthropic(record.path)
    if route is None:
        raise errs.not_found()
    if record.method != route.method:
        raise errs.method_not_allowed(record.method, route.method)
    body: object = None
    if route.method == "POST":
        declared = int(length) if length is not None and length.isdigit() else None
        raw = await read_body(channels.receive, declared)
        record.body = raw
        try:
            body = orjson.loads(raw) if raw else None
            record.body_valid = body is not None
        except orjson.JSONDecodeError:
            body = None
        if isinstance(body, dict) and body.get("stream") is True:
            record.stream = True
    if not key:
        raise errs.missing_key()
    if not KEY_RE.fullmatch(key) or key in state.revoked_keys:
        raise errs.invalid_key()
    if not version:
        raise errs.missing_version()
    if not _VERSION_RE.fullmatch(version):
        raise errs.invalid_version(version.decode("latin-1"))
    _check_betas(betas)
    fault = state.faults.take() if state.faults else None
    if fault is not None:
        raise errs.fault_error(fault.status, fault.retry_after)
    if route.method == "POST" and body is None:
        raise errs.invalid_request("There was an error parsing the body of your request.")
    hidden = state.key_models.hidden(key)
    if route.operation == routes.MESSAGES:
        await _messages(state, channels, body, key, hidden)
        return
    if route.operation == routes.COUNT_TOKENS:
        request = parse_messages_request(body, counting=True)
        _check_visible(request.model, body, hidden)
        payload = orjson.dumps({"input_tokens": input_total(request)})
    elif route.operation == routes.MODELS:
        payload = _model_page(record.query, hidden)
    else:
        resolved = resolve_model(route.target)
        if resolved is None or (hidden and (resolved in hidden or route.target in hidden)):
            raise errs.model_not_found(route.target)
        payload = _MODEL_BODIES[resolved]
    record.status = 200
    await send_bytes(channels.send, 200, payload, channels.headers(JSON_TYPE))


async def _messages(
    state: SimulatorState, channels: Channels, body: object, key: str, hidden: set[str] | None
) -> None:
    request = parse_messages_request(body)
    _check_visible(request.model, body, hidden)
    text = request.directive_text()
    directives = parse_directives(text)
    overload_after = None
    if directives is not NONE:
        if directives.delay_ms:
            await asyncio.sleep(directives.delay_ms / 1000)
        if directives.fault is not None:
            raise errs.fault_error(directives.fault, directives.retry_after)
        overload_after = _overload_after(text)
        if overload_after is not None and not request.stream:
            raise errs.overloaded()
    reply = plan_message(request, directives)
    usage = input_usage(request, state.prompt_cache, key, directives.cached)
    record = channels.record
    record.usage = AnthropicUsage(
        usage.input_tokens, reply.output_tokens, usage.cache_creation, usage.cache_read
    )
    message_id = f"msg_01{getrandbits(110):028x}"
    if request.stream:
        headers = channels.headers(EVENT_STREAM_TYPE)
        headers.append((b"cache-control", b"no-cache"))
        events = stream_events(reply, message_id, request.model, usage, overload_after)
        await send_stream(
            channels.send,
            channels.receive,
            record,
            headers,
            events,
            PREAMBLE,
            directives.slow_ms,
            directives.cut,
        )
    elif directives.cut is not None:
        record.cut = True
        await abort_connection(channels.send, channels.receive)
    else:
        payload = render_message(reply, message_id, request.model, usage)
        record.status = 200
        record.completion_tokens_sent = reply.output_tokens
        await send_bytes(channels.send, 200, payload, channels.headers(JSON_TYPE))


def _check_betas(headers: list[bytes]) -> None:
    """``anthropic-beta`` (repeated or comma-separated): each a well-formed name, or the
    400 Anthropic gives a beta it does not know. The record keeps the header as sent."""
    names = [n.strip() for h in headers for n in h.decode("latin-1").split(",") if n.strip()]
    wrong = [name for name in names if not _BETA_RE.fullmatch(name)]
    if wrong:
        raise errs.unknown_betas(wrong)


def _check_visible(model: str, body: object, hidden: set[str] | None) -> None:
    """A model withheld from the key (``key_models``) does not exist for it."""
    if not hidden:
        return
    named = body.get("model") if isinstance(body, dict) else None
    if model in hidden or named in hidden:
        raise errs.model_not_found(str(named))


def _overload_after(text: str) -> int | None:
    """``[sim:overload=K]`` (Anthropic only): the stream fails after K deltas."""
    found = _OVERLOAD_RE.findall(text)
    return int(found[-1] or 0) if found else None


def _model_page(query: bytes, hidden: set[str] | None) -> bytes:
    """A page of the Claude models, newest first: ``limit``, ``after_id``, ``before_id``."""
    fields: dict[str, str] = {}
    for pair in query.decode("latin-1").split("&") if query else ():
        name, _, value = pair.partition("=")
        fields[name] = value
    raw_limit = fields.get("limit", str(_DEFAULT_LIMIT))
    if not raw_limit.isdigit() or not 1 <= int(raw_limit) <= _MAX_LIMIT:
        raise errs.invalid_request(
            f"limit: Input should be less than or equal to {_MAX_LIMIT} and greater than 0"
        )
    limit = int(raw_limit)
    infos = [i for i in _MODEL_INFOS if i["id"] not in hidden] if hidden else _MODEL_INFOS
    ids = [str(info["id"]) for info in infos]
    before, after = fields.get("before_id"), fields.get("after_id")
    if before is not None:
        end = _position(ids, before)
        start = max(0, end - limit)
        has_more = start > 0
    else:
        start = _position(ids, after) + 1 if after is not None else 0
        end = min(len(ids), start + limit)
        has_more = end < len(ids)
    page = infos[start:end]
    return orjson.dumps(
        {
            "data": page,
            "has_more": has_more,
            "first_id": page[0]["id"] if page else None,
            "last_id": page[-1]["id"] if page else None,
        }
    )


def _position(ids: list[str], model_id: str) -> int:
    if model_id not in ids:
        raise errs.model_not_found(model_id)
    return ids.index(model_id)
