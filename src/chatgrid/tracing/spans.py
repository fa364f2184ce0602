"""The spans of one ``/v1`` request: the server span, the upstream call, each ledger write.

    POST /v1/chat/completions   (SERVER; parent: the caller's ``traceparent``)
    ├─ upstream                 (CLIENT; from sending to the upstream's last byte)
    └─ ledger write             (one per ledger entry, until it is committed)

A workspace call (a chat answer, a document's embeddings) has no server span
of ours: its upstream span and ledger writes hang from a ``workspace call``
span carrying the org and billing mode.

What a span may carry is fixed here and nowhere else: the endpoint, the HTTP
status, the billing mode, the org id, the request id, the provider, the
model, the ledger outcome and the call id. Never a name, an email, a token, a
key, a URL's query or a prompt: no header or body is copied into a span.

Times come from one monotonic clock (``perf_counter``) anchored to the wall
clock once, so a child never starts before its parent because the wall
clock moved, and the upstream span can end when the upstream's part ended
(the ledger entry's own reading) rather than when the relay returned.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Awaitable, Callable, Mapping, MutableMapping
from typing import Any, Final

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.trace import SpanKind, StatusCode
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from chatgrid import __version__, request_ids
from chatgrid.ledger.entries import LedgerEntry
from chatgrid.metrics.recorder import ENDPOINTS, endpoint_of

log = logging.getLogger(__name__)

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
App = Callable[[Scope, Receive, Send], Awaitable[None]]

#: The status a request is traced with when its client left before it was answered.
CLIENT_GONE: Final = 499
SHUTDOWN_FLUSH_MILLIS: Final = 5_000
_PROPAGATED: Final = frozenset({b"traceparent", b"tracestate"})
_PROPAGATOR: Final = TraceContextTextMapPropagator()


def otlp_provider(endpoint: str | None, environ: Mapping[str, str]) -> TracerProvider:
    """A provider batching spans to an OTLP/HTTP receiver (``endpoint`` None: the SDK's
    ``OTEL_EXPORTER_OTLP_*`` variables say where)."""
    resource = Resource.create(
        {
            "service.name": environ.get("OTEL_SERVICE_NAME") or "chatgrid",
            "service.version": __version__,
            "process.pid": os.getpid(),  # which worker: each has its own provider
        }
    )
    provider = TracerProvider(resource=resource, shutdown_on_exit=False)
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=endpoint)))
    return provider


def _route(path: str, endpoint: str) -> str:
    """The span's route: a known path as it is, a model's as a template, any other ``/v1``
    (so that no span is named after whatever URL a caller made up)."""
    if path in ENDPOINTS:
        return path
    return "/v1/models/{model}" if endpoint == "models" else "/v1"


class Tracing:
    """One process's tracer; built only when tracing is on (``chatgrid.tracing``)."""

    def __init__(self, provider: TracerProvider) -> None:
        self.provider = provider
        self.tracer = provider.get_tracer("chatgrid")
        self._anchor_ns = time.time_ns() - time.perf_counter_ns()
        log.info("tracing on: spans are exported over OTLP/HTTP")

    def _now(self) -> int:
        return self._anchor_ns + time.perf_counter_ns()

    def _at(self, perf_seconds: float) -> int:
        return self._anchor_ns + int(perf_seconds * 1e9)

    async def serve(self, scope: Scope, receive: Receive, send: Send, app: App) -> None:
        """Answer with ``app`` inside a server span continuing the caller's trace."""
        path = scope["path"]
        endpoint = endpoint_of(path)
        route = _route(path, endpoint)
        carrier = {
            key.decode("latin-1"): value.decode("latin-1")
            for key, value in scope["headers"]
            if key in _PROPAGATED
        }
        parent = _PROPAGATOR.extract(carrier)
        span = self.tracer.start_span(
            f"{scope['method']} {route}",
            context=parent,
            kind=SpanKind.SERVER,
            start_time=self._now(),
            attributes={
                "http.request.method": scope["method"],
                "http.route": route,
                "chatgrid.endpoint": endpoint,
            },
        )
        token = otel_context.attach(trace.set_span_in_context(span, parent))
        status = CLIENT_GONE

        async def send_and_note(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await app(scope, receive, send_and_note)
        except BaseException:
            status = 500 if status == CLIENT_GONE else status
            raise
        finally:
            otel_context.detach(token)
            span.set_attribute("http.response.status_code", status)
            request_id = request_ids.current()
            if request_id is not None:
                span.set_attribute("chatgrid.request_id", request_id)
            if status >= 500:
                span.set_status(StatusCode.ERROR)
            span.end(self._now())

    async def upstream_call(
        self, org_id: str, mode: str, call: Awaitable[LedgerEntry]
    ) -> LedgerEntry:
        """Await the relay's ``call`` inside an upstream span; the request's span learns the
        org and its billing mode here (a refusal before this point has neither). A call
        no traced request made (the workspace's) gets a span of its own to hang from."""
        org = {"chatgrid.org_id": org_id, "chatgrid.billing_mode": mode}
        request = trace.get_current_span()
        if not request.get_span_context().is_valid:  # no span at all (an unsampled one is)
            return await self._workspace_call(org_id, mode, call)
        request.set_attributes(org)
        span = self.tracer.start_span("upstream", kind=SpanKind.CLIENT, start_time=self._now())
        entry = None
        try:
            entry = await call
            return entry
        finally:
            if entry is None:
                span.set_status(StatusCode.ERROR)
                span.end(self._now())
            else:
                self._end_upstream(span, entry)

    async def _workspace_call(
        self, org_id: str, mode: str, call: Awaitable[LedgerEntry]
    ) -> LedgerEntry:
        span = self.tracer.start_span("workspace call", start_time=self._now())
        token = otel_context.attach(trace.set_span_in_context(span))
        try:
            return await self.upstream_call(org_id, mode, call)
        finally:
            otel_context.detach(token)
            span.end(self._now())

    def _end_upstream(self, span: trace.Span, entry: LedgerEntry) -> None:
        span.set_attributes(
            {
                "chatgrid.provider": entry.provider,
                "gen_ai.request.model": entry.model,
                "http.response.status_code": entry.status_code,
                "chatgrid.outcome": entry.outcome,
                "chatgrid.stream": entry.stream,
            }
        )
        if entry.status_code >= 400 or not entry.outcome.startswith("ok"):
            span.set_status(StatusCode.ERROR)
        if entry.first_byte_ms is not None and entry.finished:
            first_byte = entry.finished - (entry.duration_ms - entry.first_byte_ms) / 1000
            span.add_event("first byte", timestamp=self._at(first_byte))
        span.end(self._at(entry.finished) if entry.finished else self._now())

    async def ledger_write(self, entry: LedgerEntry, write: Awaitable[None]) -> None:
        """Await ``write`` (the entry handed to the ledger until committed) inside a span."""
        span = self.tracer.start_span(
            "ledger write",
            start_time=self._now(),
            attributes={"chatgrid.call_id": entry.call_id, "chatgrid.outcome": entry.outcome},
        )
        try:
            await write
        except BaseException:
            span.set_status(StatusCode.ERROR)
            raise
        finally:
            span.end(self._now())

    def shutdown(self) -> None:
        """Export what is queued (bounded), then stop the exporter's thread."""
        self.provider.force_flush(SHUTDOWN_FLUSH_MILLIS)
        self.provider.shutdown()
