"""The simulator's ASGI application: one dispatch, then the per-operation handlers.

A bare ASGI callable rather than a framework, because the simulator is the
baseline of the gateway's throughput benchmark and every microsecond it
spends is charged to the gateway on a shared 2-core machine. Order of checks
for ``/v1`` and Azure requests, each failure answered in the real service's
shape: route (404/405) → body size (413) → Azure ``api-version`` (400) → key
(401) → scheduled fault → unparsable JSON (400) → Azure deployment (404) →
validation (400/404) → directives (delay, then fault, then cut) → the reply.
An Azure path that names no operation is Azure's own 404 ("Resource not
found"); Azure's v1 surface (``/openai/v1/responses...``) needs no
``api-version`` and finds the deployment by the body's ``model``.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from random import getrandbits
from typing import Final, Protocol

import orjson

from chatgrid.simulator import audio, azure, errors, images, moderations, responses, routes
from chatgrid.simulator.anthropic import serve_anthropic
from chatgrid.simulator.auth import bearer_key, check_key
from chatgrid.simulator.catalogue import (
    CHAT_MODELS,
    EMBEDDING_DIMS,
    GEMINI_CHAT_MODELS,
    GEMINI_LIST_BODY,
    LIST_BODY,
    MODEL_BODIES,
)
from chatgrid.simulator.chat import plan_reply, render_completion, stream_events
from chatgrid.simulator.chat_request import parse_chat_request
from chatgrid.simulator.control import handle_control
from chatgrid.simulator.costs import costs_page
from chatgrid.simulator.directives import NONE, Directives, parse_directives
from chatgrid.simulator.embeddings import parse_embedding_request, render_embeddings
from chatgrid.simulator.faults import fault_error
from chatgrid.simulator.key_models import withheld_answer
from chatgrid.simulator.records import MAX_RECORDS, RequestRecord, Usage
from chatgrid.simulator.state import SimulatorState
from chatgrid.simulator.stream import send_stream
from chatgrid.simulator.tokens import last_message_text
from chatgrid.simulator.usage import completions_page, require_admin_key
from chatgrid.simulator.wire import (
    EVENT_STREAM_TYPE,
    JSON_TYPE,
    Headers,
    Receive,
    Scope,
    Send,
    abort_connection,
    new_request_id,
    read_body,
    send_bytes,
)

_API_PREFIXES: Final = ("/v1/", "/openai/", "/v1beta/openai/")
_OPENAI_VERSION: Final = (b"openai-version", b"2020-10-01")
_DEFAULT_MODEL: Final = "gpt-4o-mini"
_OPERATIONS: Final = frozenset(
    {
        routes.RESPONSES,
        routes.RESPONSE,
        routes.INPUT_ITEMS,
        routes.IMAGES,
        routes.TRANSCRIPTIONS,
        routes.SPEECH,
        routes.MODERATIONS,
    }
)


class Operation(Protocol):
    """A validated request to one of the newer endpoints (responses, images, audio, ...)."""

    model: str
    stream: bool

    def directive_text(self) -> str: ...

    def reply(
        self, directives: Directives, record: RequestRecord
    ) -> tuple[bytes, tuple[bytes, bytes]]: ...

    def events(
        self, directives: Directives, record: RequestRecord
    ) -> tuple[Iterator[tuple[bytes, int]], int]: ...


class Exchange:
    """One API request in flight: its ASGI channels, record and echoed headers."""

    __slots__ = ("azure", "organization", "project", "receive", "record", "send", "started")

    def __init__(self, receive: Receive, send: Send, record: RequestRecord, started: float) -> None:
        self.receive = receive
        self.send = send
        self.record = record
        self.started = started
        self.azure = False
        self.organization: bytes | None = None
        self.project: bytes | None = None

    def headers(self, content_type: tuple[bytes, bytes]) -> Headers:
        """Headers of a successful response, as OpenAI sends them."""
        elapsed = int((time.perf_counter() - self.started) * 1000)
        headers = [
            content_type,
            (b"x-request-id", self.record.id.encode()),
            _OPENAI_VERSION,
            (b"openai-processing-ms", b"%d" % elapsed),
        ]
        if self.organization is not None:
            headers.append((b"openai-organization", self.organization))
        if self.project is not None:
            headers.append((b"openai-project", self.project))
        if self.azure:
            headers.append((b"apim-request-id", self.record.id.encode()))
        return headers


class SimulatorApp:
    """An OpenAI- and Azure-compatible server with faults on demand; state per instance."""

    def __init__(self, max_records: int = MAX_RECORDS) -> None:
        self.state = SimulatorState(max_records)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "http":
            path: str = scope["path"]
            if path.startswith(_API_PREFIXES):
                await self._serve_api(scope, receive, send, path)
            elif path.startswith("/_sim/"):
                await handle_control(self.state, scope, receive, send)
            else:
                error = errors.unknown_url(scope["method"], path)
                request_id = (b"x-request-id", new_request_id().encode())
                await send_bytes(send, 404, error.body(), [JSON_TYPE, request_id])
        elif kind == "lifespan":
            await _lifespan(receive, send)

    async def _serve_api(self, scope: Scope, receive: Receive, send: Send, path: str) -> None:
        started = time.perf_counter()
        raw_headers = scope["headers"]
        record = self.state.records.open(
            new_request_id(), scope["method"], path, scope["query_string"], raw_headers
        )
        if routes.is_anthropic(path, raw_headers):
            await serve_anthropic(self.state, receive, send, record, raw_headers)
            return
        exchange = Exchange(receive, send, record, started)
        try:
            await self._handle(exchange, raw_headers)
        except errors.ApiError as error:
            record.status = error.status
            record.usage = None
            headers = [JSON_TYPE, (b"x-request-id", record.id.encode()), *error.headers]
            if exchange.azure:
                headers.append((b"apim-request-id", record.id.encode()))
            await send_bytes(send, error.status, error.body(), headers)

    async def _handle(self, exchange: Exchange, raw_headers: list[tuple[bytes, bytes]]) -> None:
        record = exchange.record
        azure_path = exchange.azure = record.path.startswith("/openai/")
        authorization = api_key = length = None
        for name, value in raw_headers:
            if name == b"authorization":
                authorization = value
            elif name == b"api-key":
                api_key = value
            elif name == b"openai-organization":
                exchange.organization = value
            elif name == b"openai-project":
                exchange.project = value
            elif name == b"content-length":
                length = value
        key = api_key.decode("latin-1") if azure_path and api_key else bearer_key(authorization)
        record.api_key = key
        route = routes.resolve(record.path)
        if route is None and azure_path:
            raise errors.azure_resource_not_found()
        if route is None:
            raise errors.unknown_url(record.method, record.path)
        if record.method != route.method and not _also_allowed(route, record.method):
            raise errors.method_not_allowed(record.method, record.path, route.method)
        body: object = None
        if route.method == "POST":
            declared = int(length) if length is not None and length.isdigit() else None
            raw = await read_body(exchange.receive, declared)
            record.body = raw
            try:
                body = orjson.loads(raw) if raw else None
                record.body_valid = body is not None
            except orjson.JSONDecodeError:
                body = None
            if isinstance(body, dict) and body.get("stream") is True:
                record.stream = True
        if route.v1:
            azure.check_v1_api_version(record.query)
        elif route.azure:
            azure.require_api_version(record.query)
        check_key(key, self.state.revoked_keys, route.azure)
        faults = self.state.faults
        fault = faults.take() if faults else None
        if fault is not None:
            raise fault_error(
                fault.status, fault.retry_after, key or "", _model_hint(body, route), route.azure
            )
        if body is None and route.method == "POST" and route.operation != routes.TRANSCRIPTIONS:
            raise errors.unparsable_json()
        hidden = self.state.key_models.hidden(key)
        if hidden and (listing := withheld_answer(route, body, hidden)) is not None:
            exchange.record.status = 200
            await send_bytes(exchange.send, 200, listing, exchange.headers(JSON_TYPE))
            return
        deployment_model = None
        if route.v1:
            deployment_model = self._v1_deployment(route, body)
        elif route.azure and route.operation != routes.MODELS:
            deployment_model = self.state.deployments.model_for(route.target)
        operation = route.operation
        if operation == routes.CHAT:
            models = GEMINI_CHAT_MODELS if route.target == routes.GEMINI else CHAT_MODELS
            await self._chat(exchange, body, deployment_model, models)
        elif operation == routes.EMBEDDINGS:
            await self._embeddings(exchange, body, deployment_model)
        elif operation in _OPERATIONS:
            await self._operation(exchange, route, body, deployment_model)
        else:
            await self._metadata(exchange, route, deployment_model)

    async def _chat(
        self,
        exchange: Exchange,
        body: object,
        deployment_model: str | None,
        models: frozenset[str] = CHAT_MODELS,
    ) -> None:
        if deployment_model is not None and deployment_model not in CHAT_MODELS:
            raise errors.operation_not_supported("chatCompletion", deployment_model)
        request = parse_chat_request(body, deployment_model, models)
        directives = parse_directives(last_message_text(request.messages))
        if directives is not NONE:
            await _directive_faults(exchange, directives, request.model)
        reply = plan_reply(request, directives)
        record = exchange.record
        record.usage = reply.usage
        completion_id = f"chatcmpl-{getrandbits(96):024x}"
        created = int(time.time())
        if request.stream:
            await send_stream(
                exchange.send,
                exchange.receive,
                record,
                exchange.headers(EVENT_STREAM_TYPE),
                stream_events(reply, completion_id, created, request),
                request.n,
                directives.slow_ms,
                directives.cut,
            )
        elif directives.cut is not None:
            record.cut = True
            await abort_connection(exchange.send, exchange.receive)
        else:
            payload = render_completion(reply, completion_id, created, request)
            record.status = 200
            record.completion_tokens_sent = reply.usage.completion_tokens
            await send_bytes(exchange.send, 200, payload, exchange.headers(JSON_TYPE))

    async def _embeddings(
        self, exchange: Exchange, body: object, deployment_model: str | None
    ) -> None:
        if deployment_model is not None and deployment_model not in EMBEDDING_DIMS:
            raise errors.operation_not_supported("embeddings", deployment_model)
        request = parse_embedding_request(body, deployment_model)
        directives = parse_directives(request.directive_text())
        if directives is not NONE:
            await _directive_faults(exchange, directives, request.model)
        record = exchange.record
        prompt_tokens = request.prompt_tokens()
        record.usage = Usage(prompt_tokens, 0, 0)
        if directives.cut is not None:
            record.cut = True
            await abort_connection(exchange.send, exchange.receive)
            return
        payload = render_embeddings(request, prompt_tokens)
        record.status = 200
        await send_bytes(exchange.send, 200, payload, exchange.headers(JSON_TYPE))

    def _v1_deployment(self, route: routes.Route, body: object) -> str | None:
        """Azure v1: the model of the deployment a create's body names (None for lookups)."""
        if route.operation != routes.RESPONSES:
            return None
        name = body.get("model") if isinstance(body, dict) else None
        if not isinstance(name, str):
            raise errors.missing_parameter("model")
        model = self.state.deployments.model_for(name)
        if model not in CHAT_MODELS:
            raise errors.operation_not_supported("responses", model)
        return model

    async def _operation(
        self,
        exchange: Exchange,
        route: routes.Route,
        body: object,
        deployment_model: str | None = None,
    ) -> None:
        """The newer endpoints: parse, then directives, then the reply or the stream."""
        record = exchange.record
        kind = route.operation
        store = self.state.azure_responses if route.azure else self.state.responses
        operation: Operation
        if kind == routes.RESPONSES:
            operation = responses.parse_create(body, store, deployment_model)
        elif kind == routes.RESPONSE:
            operation = responses.parse_lookup(record.method, route.target, store)
        elif kind == routes.INPUT_ITEMS:
            operation = responses.parse_lookup("GET", route.target, store, record.query)
        elif kind == routes.IMAGES:
            operation = images.parse(body)
        elif kind == routes.TRANSCRIPTIONS:
            operation = audio.parse_transcription(record)
        elif kind == routes.SPEECH:
            operation = audio.parse_speech(body)
        else:
            operation = moderations.parse(body)
        directives = parse_directives(operation.directive_text())
        if directives is not NONE:
            await _directive_faults(exchange, directives, operation.model)
        if operation.stream:
            events, preamble = operation.events(directives, record)
            headers = exchange.headers(EVENT_STREAM_TYPE)
            await send_stream(
                exchange.send,
                exchange.receive,
                record,
                headers,
                events,
                preamble,
                directives.slow_ms,
                directives.cut,
            )
        elif directives.cut is not None:
            record.cut = True
            await abort_connection(exchange.send, exchange.receive)
        else:
            payload, content_type = operation.reply(directives, record)
            record.status = 200
            await send_bytes(exchange.send, 200, payload, exchange.headers(content_type))

    async def _metadata(
        self, exchange: Exchange, route: routes.Route, deployment_model: str | None
    ) -> None:
        if route.operation == routes.MODELS:
            payload = GEMINI_LIST_BODY if route.target == routes.GEMINI else LIST_BODY
        elif route.operation == routes.USAGE_COMPLETIONS:
            require_admin_key(exchange.record.api_key)
            records = self.state.records
            payload = completions_page(records, exchange.record.query, records.clock())
        elif route.operation == routes.COSTS:
            require_admin_key(exchange.record.api_key)
            records = self.state.records
            payload = costs_page(records, exchange.record.query, records.clock())
        elif route.operation == routes.MODEL:
            found = MODEL_BODIES.get(route.target)
            if found is None:
                raise errors.model_not_found(route.target)
            payload = found
        else:
            payload = orjson.dumps(azure.deployment_object(route.target, deployment_model or ""))
        exchange.record.status = 200
        await send_bytes(exchange.send, 200, payload, exchange.headers(JSON_TYPE))


async def _directive_faults(exchange: Exchange, directives: Directives, model: str) -> None:
    """Apply ``[sim:delay=...]`` and then the fault directive, if any."""
    if directives.delay_ms:
        await asyncio.sleep(directives.delay_ms / 1000)
    if directives.fault is not None:
        key = exchange.record.api_key or ""
        raise fault_error(directives.fault, directives.retry_after, key, model, exchange.azure)


def _also_allowed(route: routes.Route, method: str) -> bool:
    """``DELETE /v1/responses/{id}`` shares its route with ``GET``."""
    return route.operation == routes.RESPONSE and method == "DELETE"


def _model_hint(body: object, route: routes.Route) -> str:
    """The model named in a scheduled 429's message."""
    model = body.get("model") if isinstance(body, dict) else None
    if isinstance(model, str):
        return model
    return route.target or _DEFAULT_MODEL


async def _lifespan(receive: Receive, send: Send) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return


def create_simulator_app(*, max_records: int = MAX_RECORDS) -> SimulatorApp:
    """A fresh simulator with empty state; nothing is shared between instances.

    A full log of ``max_records`` costs about 1 KB per record (~200 MB at the
    default 200,000); long benchmarks that do not read records may pass less.
    """
    return SimulatorApp(max_records)
