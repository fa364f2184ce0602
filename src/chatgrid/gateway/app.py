"""The ``/v1`` ASGI application: one call's lifecycle, read top to bottom.

    authenticate ─▶ admit ─▶ relay ─▶ settle
    (directory)     (admission.py:   (relay.py: upstream   (admission.py: limits,
                     typed refusals)  I/O + ledger entry)   reservation, pooled key)

Kept as a bare ASGI callable on purpose: this path is paid for on every
request, and measurement (see ``bench/``) showed framework layers costing
more than the rest of the gateway's work together. The workspace makes its
calls through the same ``Gatekeeper.admit`` and :meth:`Gateway.relay_and_settle`
(``gateway/workspace.py``), with a sink that keeps the answer as values.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from functools import partial
from time import perf_counter

import aiohttp
import orjson

from chatgrid import request_ids
from chatgrid.context import AppContext
from chatgrid.errors import AuthenticationFailed, ChatGridError, InvalidRequest, NotFound
from chatgrid.gateway.admission import Admitted, Gatekeeper
from chatgrid.gateway.alert_queue import AlertQueue
from chatgrid.gateway.bodies import prepare_chat, prepare_embeddings
from chatgrid.gateway.bodies_more import MORE_ENDPOINTS, prepare_more
from chatgrid.gateway.calls import new_call_id
from chatgrid.gateway.directory import Caller, Directory, PoolHealth
from chatgrid.gateway.http import (
    JSON_HEADERS,
    ClientDisconnected,
    Receive,
    Scope,
    Send,
    client_address,
    header,
    read_body,
    send_bytes,
    send_error,
)
from chatgrid.gateway.messages_api import (
    ANTHROPIC_PATHS,
    COUNT_PATH,
    MessagesSink,
    anthropic_headers,
    caller_token,
    prepare_count,
    prepare_messages,
    send_anthropic_error,
)
from chatgrid.gateway.messages_api import PATH as MESSAGES_PATH
from chatgrid.gateway.messages_count import count_tokens
from chatgrid.gateway.metering import Metering
from chatgrid.gateway.model_refresh import ModelLists
from chatgrid.gateway.pool_alerts import pool_key_exhausted
from chatgrid.gateway.pool_budget import PoolBudget
from chatgrid.gateway.rejected_keys import RejectedKeys
from chatgrid.gateway.relay import Relay
from chatgrid.gateway.sinks import AsgiSink, Sink
from chatgrid.gateway.stored_responses import relay_stored_response, stored_response_path
from chatgrid.gateway.streams import StreamRegistry
from chatgrid.identity.tokens import hash_token
from chatgrid.ledger.entries import LedgerEntry
from chatgrid.limits.enforcer import Limiter
from chatgrid.metrics.recorder import UNKNOWN_MODE, Metrics, endpoint_of
from chatgrid.store.checkpoint import WalCheckpointer
from chatgrid.store.ledger_writer import LedgerWriter
from chatgrid.sync import ReplicaSync
from chatgrid.tracing import start_tracing

_BEARER = b"bearer "
#: The status a request is counted with when its client left before it was answered.
CLIENT_GONE = 499


class Gateway:
    """Owns the per-process pieces of ``/v1``: caches, upstream pool, ledger writer."""

    def __init__(
        self,
        context: AppContext,
        session: aiohttp.ClientSession,
        metrics: Metrics | None = None,
    ) -> None:
        self.context = context
        self.metrics = metrics or Metrics()
        self.directory = Directory(context)
        self.streams = StreamRegistry(context)
        self.limiter = Limiter(context.settings)
        self.pool_health = PoolHealth()
        #: Alerts met on calls (a budget's threshold, a pooled key out of budget), queued once.
        self.alerts = AlertQueue(context)
        self.pool_budget = PoolBudget(
            self.limiter.counters, on_exhausted=partial(pool_key_exhausted, self.alerts)
        )
        self.metering = Metering(context, self.alerts)
        self.gatekeeper = Gatekeeper(
            self.directory,
            self.limiter,
            self.metering,
            self.pool_health,
            self.pool_budget,
            self.metrics,
        )
        self.sync = ReplicaSync(context.settings, on_change=self._changed)
        self.ledger = LedgerWriter(context.engine, on_batch=self.metrics.ledger_batch)
        self.checkpointer = WalCheckpointer(context.engine)
        # Keys' model lists: refreshed on a schedule, and asked about an unlisted model.
        self.model_lists = self.gatekeeper.model_lists = ModelLists(context, session)
        #: None unless a trace receiver is configured: then nothing on /v1 traces anything.
        self.tracing = start_tracing(context.settings)
        self.relay = Relay(
            session,
            self.ledger,
            on_key_rejected=RejectedKeys(context, self._changed),
            drain_timeout=context.settings.drain_timeout_seconds,
            streams=self.streams,
            tracing=self.tracing,
        )
        self.max_body = context.settings.max_body_bytes

    def _changed(self) -> None:
        self.directory.invalidate()
        self.streams.changed()

    async def start(self) -> None:
        await self.sync.start()
        self.checkpointer.start()
        self.model_lists.start()

    async def close(self) -> None:
        await self.sync.stop()
        await self.limiter.close()
        await self.metering.close()
        await self.alerts.close()
        await self.checkpointer.stop()
        await self.model_lists.close()
        self.ledger.close()
        if self.tracing is not None:
            await asyncio.to_thread(self.tracing.shutdown)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.tracing is not None:
            await self.tracing.serve(scope, receive, send, self._answer)
            return
        await self._answer(scope, receive, send)

    async def _answer(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = perf_counter()
        # The request's id: the caller's own when valid, else the id of the call
        # it will make, so that without one the two are the same.
        call_id = new_call_id()
        request_id = request_ids.incoming(header(scope, b"x-request-id")) or call_id
        request_ids.CURRENT.set(request_id)
        try:
            relayed = await self._dispatch(scope, receive, send, call_id, request_id)
        except ClientDisconnected:
            self.metrics.request(endpoint_of(scope["path"]), CLIENT_GONE, UNKNOWN_MODE)
            return
        except ChatGridError as error:
            ids = [(b"x-request-id", request_id.encode())]
            if scope["path"] in ANTHROPIC_PATHS:  # Anthropic's client: Anthropic's error shape
                await send_anthropic_error(send, error, ids)
            else:
                await send_error(send, error, ids)
            self.metrics.request(endpoint_of(scope["path"]), error.status, UNKNOWN_MODE)
            return
        # Recorded after the answer has gone: the client waits for none of this.
        if relayed is None:  # a model listing
            self.metrics.request(endpoint_of(scope["path"]), 200, UNKNOWN_MODE)
            return
        sink, entry, upstream_seconds = relayed
        added = perf_counter() - started - upstream_seconds
        self.metrics.relayed(endpoint_of(scope["path"]), sink.status, entry, added)

    async def _dispatch(
        self, scope: Scope, receive: Receive, send: Send, call_id: str, request_id: str
    ) -> tuple[AsgiSink, LedgerEntry, float] | None:
        """Answer one request; a relayed call's sink, entry and upstream seconds."""
        path: str = scope["path"]
        method: str = scope["method"]
        chat: bool | None = None  # None: one of MORE_ENDPOINTS
        if path == "/v1/chat/completions":
            chat = True
        elif path == "/v1/embeddings":
            chat = False
        elif path in MORE_ENDPOINTS:
            pass
        elif path.startswith("/v1/responses/"):
            tail = stored_response_path(path, method)
            route = await self.gatekeeper.usable_route(await self._authenticate(scope))
            session = self.relay.session
            query = scope.get("query_string", b"")
            await relay_stored_response(session, route, method, tail, query, send, request_id)
            return None
        elif path == MESSAGES_PATH:
            if method != "POST":
                raise _method_not_allowed(method, path)
            caller = await self._authenticate(scope)
            body = await read_body(receive, self.max_body)
            prepared = prepare_messages(body, anthropic_headers(scope))
            admitted = await self.gatekeeper.admit(caller, prepared, client_address(scope), call_id)
            messages_sink = MessagesSink(receive, send, request_id)
            entry, upstream_seconds = await self._relay_and_settle(admitted, messages_sink)
            return messages_sink, entry, upstream_seconds
        elif path == COUNT_PATH:
            if method != "POST":
                raise _method_not_allowed(method, path)
            caller = await self._authenticate(scope)
            body = await read_body(receive, self.max_body)
            prepared = prepare_count(body, anthropic_headers(scope))
            await count_tokens(
                self.gatekeeper,
                self.relay.session,
                self.relay.on_key_rejected,
                caller,
                prepared,
                client_address(scope),
                call_id,
                send,
                request_id,
            )
            return None
        elif path == "/v1/models" or path.startswith("/v1/models/"):
            if method != "GET":
                raise _method_not_allowed(method, path)
            caller = await self._authenticate(scope)
            await self._models(caller, path, send, request_id)
            return None
        else:
            raise NotFound(f"Unknown request URL: {method} {path}.", code="unknown_url")
        if method != "POST":
            raise _method_not_allowed(method, path)
        caller = await self._authenticate(scope)
        body = await read_body(receive, self.max_body)
        if chat:
            prepared = prepare_chat(body, caller.user_tag)
        elif chat is False:
            prepared = prepare_embeddings(body, caller.user_tag)
        else:
            content_type = header(scope, b"content-type")
            prepared = prepare_more(path, body, caller.user_tag, content_type)
        admitted = await self.gatekeeper.admit(caller, prepared, client_address(scope), call_id)
        sink = AsgiSink(receive, send, request_id)
        entry, upstream_seconds = await self._relay_and_settle(admitted, sink)
        return sink, entry, upstream_seconds

    async def relay_and_settle(self, admitted: Admitted, sink: Sink) -> LedgerEntry | None:
        """Relay an admitted call to ``sink``, then release what it held with its entry.

        Returns the entry (None only if the relay itself failed before writing one).
        """
        entry, _ = await self._relay_and_settle(admitted, sink)
        return entry

    async def _relay_and_settle(self, admitted: Admitted, sink: Sink) -> tuple[LedgerEntry, float]:
        """``relay_and_settle``, and the upstream's seconds (for ``/metrics``)."""
        entry = None
        sent = perf_counter()
        try:
            entry = await self.relay.forward(admitted.plan, sink, admitted.failover)
        finally:
            await self.gatekeeper.settle(admitted, entry)
        # From the entry's own clock readings: the relay times nothing for metrics.
        upstream_seconds = entry.finished - sent if entry.finished else 0.0
        first_byte = None
        if entry.first_byte_ms is not None:
            first_byte = entry.first_byte_ms / 1000 - (sent - admitted.plan.started)
        self.metrics.upstream_call(entry, upstream_seconds, first_byte)
        return entry, upstream_seconds

    async def _authenticate(self, scope: Scope) -> Caller:
        self.sync.check()
        value = header(scope, b"authorization")
        token = caller_token(scope) if scope["path"] in ANTHROPIC_PATHS else None
        if token is None and (value is None or value[:7].lower() != _BEARER):
            raise AuthenticationFailed(
                "You didn't provide an API key. Send your ChatGrid token as "
                "'Authorization: Bearer <token>'.",
                code="missing_api_key",
            )
        if token is None:
            assert value is not None
            token = value[7:].strip()
        caller = await self.directory.caller(hash_token(token))
        if caller is None:
            raise AuthenticationFailed("Incorrect API key provided.")
        if caller.expires_at is not None and caller.expires_at <= datetime.now(UTC):
            raise AuthenticationFailed("This API token has expired.", code="token_expired")
        return caller

    async def _models(self, caller: Caller, path: str, send: Send, request_id: str) -> None:
        headers = [*JSON_HEADERS, (b"x-request-id", request_id.encode())]
        models = await self.gatekeeper.models_for(caller)
        entries = [
            {"id": m, "object": "model", "created": 0, "owned_by": "chatgrid"} for m in models
        ]
        if path != "/v1/models":
            wanted = path.removeprefix("/v1/models/")
            match = next((e for e in entries if e["id"] == wanted), None)
            if match is None:
                raise NotFound(
                    f"The model '{wanted}' does not exist or you do not have access to it.",
                    code="model_not_found",
                )
            await send_bytes(send, 200, orjson.dumps(match), headers)
            return
        body = orjson.dumps({"object": "list", "data": entries})
        await send_bytes(send, 200, body, headers)


def _method_not_allowed(method: str, path: str) -> InvalidRequest:
    return InvalidRequest(
        f"Method {method} is not allowed for {path}.", code="method_not_allowed", status=405
    )
