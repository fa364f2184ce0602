"""Relay one admitted call upstream and back, recording it in the ledger.

The order of events is the ledger's promise: the upstream answers, the
entry is committed, and only then does the sink get the body (or, for a
stream, its end). A process killed after the client saw the end therefore
never loses the entry. :meth:`Relay.forward` returns that entry: what the
call used and cost, for settling its limits, reservation and pooled key.

Where the answer goes is the sink's business (``gateway/sinks.py``): the
``/v1`` client's socket or the workspace; the relay is the same for both.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

import aiohttp

from chatgrid.errors import (
    ChatGridError,
    CredentialUnusable,
    ServiceUnavailable,
    UpstreamFailed,
)
from chatgrid.gateway.bodies import prompt_byte_bound
from chatgrid.gateway.bodies_audio import transcription_units
from chatgrid.gateway.bodies_responses import azure_body
from chatgrid.gateway.calls import CallPlan
from chatgrid.gateway.failover import FAILOVER_STATUSES, REJECTED_STATUSES, PoolFailover
from chatgrid.gateway.messages_api import MessagesStream
from chatgrid.gateway.relay_anthropic import (
    error_payload,
    stream_tracker,
    translating,
    whole_answer,
)
from chatgrid.gateway.responses_stream import ResponsesStreamTracker
from chatgrid.gateway.sinks import Sink
from chatgrid.gateway.sse import StreamTracker
from chatgrid.gateway.streams import REVOKED, STOPPING, StreamRegistry
from chatgrid.gateway.upstream_answers import KEY_REJECTED, judge_upstream_answer, parse_retry_after
from chatgrid.gateway.usage import usage_from_body
from chatgrid.ledger.entries import LedgerEntry
from chatgrid.ledger.pricing import Usage
from chatgrid.providers.anthropic_stream import AnthropicStream
from chatgrid.providers.base import PROVIDER_LABELS, Provider
from chatgrid.store.ledger_writer import LedgerUnavailable, LedgerWriter

if TYPE_CHECKING:
    from chatgrid.tracing.spans import Tracing  # imported only when tracing is on

log = logging.getLogger(__name__)

KeyRejectedHook = Callable[[CallPlan, int], Awaitable[None]]
_UPSTREAM_ERRORS = (aiohttp.ClientError, TimeoutError, OSError)


def _request_id(response: aiohttp.ClientResponse) -> str | None:
    headers = response.headers
    # OpenAI's, Azure's, or Anthropic's (``request-id``).
    return (
        headers.get("x-request-id") or headers.get("apim-request-id") or headers.get("request-id")
    )


class Relay:
    def __init__(
        self,
        session: aiohttp.ClientSession,
        ledger: LedgerWriter,
        on_key_rejected: KeyRejectedHook,
        drain_timeout: float,
        streams: StreamRegistry,
        tracing: Tracing | None = None,
    ) -> None:
        self.streams = streams
        self.tracing = tracing
        self.session = session
        self.ledger = ledger
        self.on_key_rejected = on_key_rejected
        self.drain_timeout = drain_timeout

    async def forward(
        self, plan: CallPlan, sink: Sink, failover: PoolFailover | None = None
    ) -> LedgerEntry:
        """Relay the call to ``sink``; with ``failover``, retry other pooled keys before
        the first byte. Returns the ledger entry of the attempt that answered (handed to
        the ledger even when the ledger could not commit it: it is still what was used)."""
        if self.tracing is not None:
            mode = plan.route.mode.value
            relayed = self._forward(plan, sink, failover)
            return await self.tracing.upstream_call(plan.caller.org_id, mode, relayed)
        return await self._forward(plan, sink, failover)

    async def _forward(
        self, plan: CallPlan, sink: Sink, failover: PoolFailover | None
    ) -> LedgerEntry:
        while True:
            body = plan.prepared.upstream_body
            if plan.target.provider is Provider.AZURE:  # each key its deployment names
                body = azure_body(plan.target, plan.prepared)
            try:
                response = await self.session.post(
                    plan.url,
                    data=body,
                    headers=self._headers(plan),
                    allow_redirects=False,
                )
            except _UPSTREAM_ERRORS as exc:
                retry = await self._failed_attempt(plan, failover, None, None, None)
                if retry is not None:
                    plan = retry
                    continue
                return await self._unreachable(plan, sink, exc)
            if failover is not None and response.status in FAILOVER_STATUSES:
                upstream_id = _request_id(response)
                retry = await self._failed_attempt(
                    plan,
                    failover,
                    response.status,
                    parse_retry_after(response.headers.get("retry-after")),
                    upstream_id,
                )
                if retry is not None:
                    response.release()
                    if response.status in REJECTED_STATUSES:  # broken for good, operators told
                        await self.on_key_rejected(plan, response.status)
                    plan = retry
                    continue
            break
        try:
            first_byte_ms = plan.elapsed_ms()
            upstream_id = _request_id(response)
            if response.status != 200:
                return await self._upstream_error(plan, sink, response, upstream_id, first_byte_ms)
            if plan.prepared.stream:
                return await self._stream(plan, sink, response, upstream_id, first_byte_ms)
            return await self._whole(plan, sink, response, upstream_id, first_byte_ms)
        finally:
            response.release()

    async def _failed_attempt(
        self,
        plan: CallPlan,
        failover: PoolFailover | None,
        status: int | None,
        retry_after: int | None,
        upstream_id: str | None,
    ) -> CallPlan | None:
        """Record a pooled key's failed attempt and pick the next key, if there is one."""
        if failover is None:
            return None
        retry = await failover.next_plan(plan, status, retry_after)
        if retry is None:
            return None
        await self._record(
            plan.entry(
                usage=None,
                estimated=False,
                status_code=status or 502,
                outcome="pool_key_failover",
                upstream_request_id=upstream_id,
                first_byte_ms=None,
            )
        )
        return retry

    @staticmethod
    def _headers(plan: CallPlan) -> dict[str, str]:
        chosen = plan.prepared.upstream_headers
        if chosen:
            return {**plan.target.headers, **chosen, "Content-Type": plan.prepared.content_type}
        return {**plan.target.headers, "Content-Type": plan.prepared.content_type}

    async def _record(self, entry: LedgerEntry) -> bool:
        try:
            if self.tracing is None:
                await self.ledger.record(entry)
            else:
                await self.tracing.ledger_write(entry, self.ledger.record(entry))
        except LedgerUnavailable:
            return False
        return True

    async def _whole(
        self,
        plan: CallPlan,
        sink: Sink,
        response: aiohttp.ClientResponse,
        upstream_id: str | None,
        first_byte_ms: int,
    ) -> LedgerEntry:
        try:
            payload = await response.read()
        except _UPSTREAM_ERRORS as exc:
            return await self._unreachable(plan, sink, exc, upstream_id=upstream_id)
        translated = plan.target.provider is Provider.ANTHROPIC
        if translated:
            payload, usage = whole_answer(plan.prepared, payload)
        else:
            usage = usage_from_body(payload)
        counted = usage is not None or plan.prepared.units is not None  # images, audio...
        entry = plan.entry(
            usage=usage,
            estimated=not counted,
            status_code=200,
            outcome="ok" if counted else "ok_no_usage",
            upstream_request_id=upstream_id,
            first_byte_ms=first_byte_ms,
            units=transcription_units(plan.prepared, payload),
        )
        if not await self._record(entry):
            # No id: the entry it would name was not committed.
            await sink.refuse(_ledger_down(), None, None)
            return entry
        content_type = b"application/json"
        if not translated:
            content_type = response.headers.get("content-type", "application/json").encode()
        await sink.answer(payload, content_type, plan.call_id, upstream_id)
        return entry

    async def _stream(
        self,
        plan: CallPlan,
        sink: Sink,
        response: aiohttp.ClientResponse,
        upstream_id: str | None,
        first_byte_ms: int,
    ) -> LedgerEntry:
        tracker: StreamTracker | ResponsesStreamTracker | AnthropicStream | MessagesStream
        if plan.target.provider is Provider.ANTHROPIC:
            tracker = stream_tracker(plan.prepared)
        elif plan.prepared.endpoint == "responses":
            tracker = ResponsesStreamTracker()
        else:
            tracker = StreamTracker(forward_usage=plan.prepared.client_wants_usage)
        await sink.open_stream(plan.call_id, upstream_id)
        client_gone = False
        cut_reason: str | None = None  # why we ended it early (streams.REVOKED, streams.STOPPING)
        outcome = "ok"
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(None) as deadline:

                def cut(reason: str) -> None:
                    nonlocal cut_reason
                    cut_reason = reason
                    deadline.reschedule(loop.time())

                with self.streams.watching(plan, cut):
                    async for data in response.content.iter_any():
                        events = tracker.feed(data)
                        if not client_gone and sink.hung_up():
                            client_gone = True
                            deadline.reschedule(loop.time() + self.drain_timeout)
                        if events and not client_gone:
                            await sink.stream_events(events)
        except TimeoutError:
            # Ours (a cut, or the drain of an abandoned stream), or else the
            # upstream's own (CHATGRID_UPSTREAM_TIMEOUT_SECONDS): it stalled.
            ours = deadline.expired()
            outcome = (cut_reason or "drain_timeout") if ours else "upstream_timeout"
        except _UPSTREAM_ERRORS:
            outcome = "upstream_cut"
        finally:
            client_gone = sink.stop_listening() or client_gone
        if outcome == "ok" and not tracker.done:
            outcome = "upstream_cut"
        if outcome == "ok" and client_gone:
            outcome = "client_disconnected"
        usage = tracker.usage
        estimated = usage is None
        if usage is None and isinstance(tracker, AnthropicStream | MessagesStream):
            usage = tracker.estimate()
        if usage is None:
            usage = Usage(
                prompt_tokens=prompt_byte_bound(plan.prepared.request),
                cached_tokens=0,
                completion_tokens=tracker.content_chunks,
            )
        entry = plan.entry(
            usage=usage,
            estimated=estimated,
            status_code=200,
            outcome=outcome,
            upstream_request_id=upstream_id,
            first_byte_ms=first_byte_ms,
        )
        recorded = await self._record(entry)
        if not client_gone:
            complete = recorded and tracker.done and cut_reason is None
            if recorded and tracker.held:
                await sink.stream_events(tracker.held)  # the final event, after its entry
            await sink.close_stream(None if complete else _stream_error(recorded, cut_reason))
        return entry

    async def _upstream_error(
        self,
        plan: CallPlan,
        sink: Sink,
        response: aiohttp.ClientResponse,
        upstream_id: str | None,
        first_byte_ms: int,
    ) -> LedgerEntry:
        status = response.status
        try:
            payload = await response.read()
        except _UPSTREAM_ERRORS:
            payload = b""
        provider = plan.target.provider
        if translating(plan.target, plan.prepared):
            payload = error_payload(payload)
        verdict = judge_upstream_answer(
            status,
            plan.route.mode,
            payload,
            parse_retry_after(response.headers.get("retry-after")),
            label=PROVIDER_LABELS[provider],
        )
        if verdict.outcome == KEY_REJECTED:
            await self.on_key_rejected(plan, status)
        entry = plan.entry(
            usage=None,
            estimated=False,
            status_code=status,
            outcome=verdict.outcome,
            upstream_request_id=upstream_id,
            first_byte_ms=first_byte_ms,
        )
        await self._record(entry)
        passed = payload if verdict.pass_through else None
        await sink.refuse(verdict.error, plan.call_id, upstream_id, passed)
        return entry

    async def _unreachable(
        self, plan: CallPlan, sink: Sink, exc: BaseException, upstream_id: str | None = None
    ) -> LedgerEntry:
        log.warning("upstream unreachable: %s (%s)", type(exc).__name__, plan.target.provider.value)
        entry = plan.entry(
            usage=None,
            estimated=False,
            status_code=502,
            outcome="upstream_unreachable",
            upstream_request_id=upstream_id,
            first_byte_ms=None,
        )
        await self._record(entry)
        error = UpstreamFailed("the upstream could not be reached", code="upstream_unreachable")
        await sink.refuse(error, plan.call_id, upstream_id)
        return entry


def _stream_error(recorded: bool, cut_reason: str | None) -> ChatGridError:
    if cut_reason == REVOKED:
        return CredentialUnusable(
            "Your organization's key was revoked while this answer was streaming.",
            code=REVOKED,
        )
    if cut_reason == STOPPING:
        return ServiceUnavailable(
            "This server is restarting and cut the answer short; ask again.", code=STOPPING
        )
    if not recorded:
        return _ledger_down()
    return UpstreamFailed(
        "the upstream stream broke off before it finished", code="upstream_stream_cut"
    )


def _ledger_down() -> ChatGridError:
    return UpstreamFailed(
        "usage could not be recorded; the call was not delivered", code="ledger_unavailable"
    )
