"""Relay one planned call upstream and back, recording it in the ledger.

The order of events is the ledger's promise: the upstream answers, the
entry is committed, and only then does the client get the body (or, for a
stream, the final ``data: [DONE]``). A process killed after the client saw
the end therefore never loses the entry.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

import aiohttp

from chatgrid.errors import (
    ChatGridError,
    CredentialUnusable,
    UpstreamFailed,
)
from chatgrid.gateway.bodies import prompt_byte_bound
from chatgrid.gateway.calls import CallPlan
from chatgrid.gateway.failover import RETRYABLE_STATUSES, PoolFailover
from chatgrid.gateway.http import JSON_HEADERS, SSE_HEADERS, Receive, Send, send_bytes, send_error
from chatgrid.gateway.sse import DONE_EVENT, StreamTracker
from chatgrid.gateway.streams import StreamRegistry
from chatgrid.gateway.upstream_answers import KEY_REJECTED, judge_upstream_answer, parse_retry_after
from chatgrid.gateway.usage import usage_from_body
from chatgrid.ledger.entries import LedgerEntry
from chatgrid.ledger.pricing import Usage
from chatgrid.store.ledger_writer import LedgerUnavailable, LedgerWriter

log = logging.getLogger(__name__)

KeyRejectedHook = Callable[[CallPlan, int], Awaitable[None]]
_UPSTREAM_ERRORS = (aiohttp.ClientError, TimeoutError, OSError)


def _request_id(response: aiohttp.ClientResponse) -> str | None:
    headers = response.headers
    return headers.get("x-request-id") or headers.get("apim-request-id")


def _id_headers(plan: CallPlan, upstream_id: str | None) -> list[tuple[bytes, bytes]]:
    headers = [(b"x-request-id", plan.call_id.encode())]
    if upstream_id:
        headers.append((b"x-upstream-request-id", upstream_id.encode()[:200]))
    return headers


class Relay:
    def __init__(
        self,
        session: aiohttp.ClientSession,
        ledger: LedgerWriter,
        on_key_rejected: KeyRejectedHook,
        drain_timeout: float,
        streams: StreamRegistry,
    ) -> None:
        self.streams = streams
        self.session = session
        self.ledger = ledger
        self.on_key_rejected = on_key_rejected
        self.drain_timeout = drain_timeout

    async def forward(
        self,
        plan: CallPlan,
        receive: Receive,
        send: Send,
        failover: PoolFailover | None = None,
    ) -> CallPlan:
        """Relay the call; with ``failover``, retry other pooled keys before the first byte.

        Returns the plan that was finally used (its ``tokens_used`` feeds limits).
        """
        while True:
            try:
                response = await self.session.post(
                    plan.url,
                    data=plan.prepared.upstream_body,
                    headers=self._headers(plan),
                    allow_redirects=False,
                )
            except _UPSTREAM_ERRORS as exc:
                retry = await self._failed_attempt(plan, failover, None, None, None)
                if retry is not None:
                    plan = retry
                    continue
                await self._unreachable(plan, send, exc)
                return plan
            if failover is not None and response.status in RETRYABLE_STATUSES:
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
                    plan = retry
                    continue
            break
        try:
            first_byte_ms = plan.elapsed_ms()
            upstream_id = _request_id(response)
            if response.status != 200:
                await self._upstream_error(plan, send, response, upstream_id, first_byte_ms)
            elif plan.prepared.stream:
                await self._stream(plan, receive, send, response, upstream_id, first_byte_ms)
            else:
                await self._whole(plan, send, response, upstream_id, first_byte_ms)
        finally:
            response.release()
        return plan

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
        return {**plan.target.headers, "Content-Type": "application/json"}

    async def _record(self, entry: LedgerEntry) -> bool:
        try:
            await self.ledger.record(entry)
        except LedgerUnavailable:
            return False
        return True

    async def _whole(
        self,
        plan: CallPlan,
        send: Send,
        response: aiohttp.ClientResponse,
        upstream_id: str | None,
        first_byte_ms: int,
    ) -> None:
        try:
            payload = await response.read()
        except _UPSTREAM_ERRORS as exc:
            await self._unreachable(plan, send, exc, upstream_id=upstream_id)
            return
        usage = usage_from_body(payload)
        recorded = await self._record(
            plan.entry(
                usage=usage,
                estimated=usage is None,
                status_code=200,
                outcome="ok" if usage is not None else "ok_no_usage",
                upstream_request_id=upstream_id,
                first_byte_ms=first_byte_ms,
            )
        )
        if not recorded:
            await send_error(send, _ledger_down())
            return
        content_type = response.headers.get("content-type", "application/json").encode()
        await send_bytes(
            send, 200, payload, [(b"content-type", content_type), *_id_headers(plan, upstream_id)]
        )

    async def _stream(
        self,
        plan: CallPlan,
        receive: Receive,
        send: Send,
        response: aiohttp.ClientResponse,
        upstream_id: str | None,
        first_byte_ms: int,
    ) -> None:
        tracker = StreamTracker(forward_usage=plan.prepared.client_wants_usage)
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [*SSE_HEADERS, *_id_headers(plan, upstream_id)],
            }
        )
        disconnected = asyncio.ensure_future(receive())
        client_gone = False
        revoked = False
        outcome = "ok"
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(None) as deadline:

                def cut() -> None:
                    nonlocal revoked
                    revoked = True
                    deadline.reschedule(loop.time())

                with self.streams.watching(plan, cut):
                    async for data in response.content.iter_any():
                        relay = tracker.feed(data)
                        if not client_gone and disconnected.done():
                            client_gone = True
                            deadline.reschedule(loop.time() + self.drain_timeout)
                        if relay and not client_gone:
                            await send(
                                {"type": "http.response.body", "body": relay, "more_body": True}
                            )
        except TimeoutError:
            if deadline.expired():  # ours: a revocation, or the drain of an abandoned stream
                outcome = "credential_revoked" if revoked else "drain_timeout"
            else:  # the upstream's own (CHATGRID_UPSTREAM_TIMEOUT_SECONDS): it stalled
                outcome = "upstream_timeout"
        except _UPSTREAM_ERRORS:
            outcome = "upstream_cut"
        finally:
            client_gone = client_gone or disconnected.done()
            disconnected.cancel()
        if outcome == "ok" and not tracker.done:
            outcome = "upstream_cut"
        if outcome == "ok" and client_gone:
            outcome = "client_disconnected"
        usage = tracker.usage
        estimated = usage is None
        if usage is None:
            usage = Usage(
                prompt_tokens=prompt_byte_bound(plan.prepared.request),
                cached_tokens=0,
                completion_tokens=tracker.content_chunks,
            )
        recorded = await self._record(
            plan.entry(
                usage=usage,
                estimated=estimated,
                status_code=200,
                outcome=outcome,
                upstream_request_id=upstream_id,
                first_byte_ms=first_byte_ms,
            )
        )
        if client_gone:
            return
        if recorded and tracker.done and not revoked:
            tail = DONE_EVENT
        else:
            tail = b"data: " + _stream_error(recorded, revoked).to_json() + b"\n\n"
        with contextlib.suppress(OSError):
            await send({"type": "http.response.body", "body": tail, "more_body": False})

    async def _upstream_error(
        self,
        plan: CallPlan,
        send: Send,
        response: aiohttp.ClientResponse,
        upstream_id: str | None,
        first_byte_ms: int,
    ) -> None:
        status = response.status
        try:
            payload = await response.read()
        except _UPSTREAM_ERRORS:
            payload = b""
        outcome, error = judge_upstream_answer(
            status,
            plan.route.mode,
            payload,
            parse_retry_after(response.headers.get("retry-after")),
        )
        if outcome == KEY_REJECTED:
            await self.on_key_rejected(plan, status)
        await self._record(
            plan.entry(
                usage=None,
                estimated=False,
                status_code=status,
                outcome=outcome,
                upstream_request_id=upstream_id,
                first_byte_ms=first_byte_ms,
            )
        )
        if error is None:
            await send_bytes(
                send, status, payload, [*JSON_HEADERS, *_id_headers(plan, upstream_id)]
            )
            return
        await send_error(send, error, _id_headers(plan, upstream_id))

    async def _unreachable(
        self, plan: CallPlan, send: Send, exc: BaseException, upstream_id: str | None = None
    ) -> None:
        log.warning("upstream unreachable: %s (%s)", type(exc).__name__, plan.target.provider.value)
        await self._record(
            plan.entry(
                usage=None,
                estimated=False,
                status_code=502,
                outcome="upstream_unreachable",
                upstream_request_id=upstream_id,
                first_byte_ms=None,
            )
        )
        await send_error(
            send,
            UpstreamFailed("the upstream could not be reached", code="upstream_unreachable"),
            _id_headers(plan, upstream_id),
        )


def _stream_error(recorded: bool, revoked: bool) -> ChatGridError:
    if revoked:
        return CredentialUnusable(
            "Your organization's key was revoked while this answer was streaming.",
            code="credential_revoked",
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
