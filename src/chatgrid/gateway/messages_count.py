"""``POST /v1/messages/count_tokens``: Anthropic's free token count, for the ``anthropic`` SDK.

The call is planned like a ``/v1/messages`` call (the caller's ChatGrid
token, the org usable, the model allowed, the org's Anthropic key or the
pool's) and counts against the org's and the operator's request limits, but
it holds no reservation and makes no ledger entry: Anthropic does not charge
for it and it reports no usage. The body and the client's checked
``anthropic-version`` / ``anthropic-beta`` go as they came, Anthropic's
answer comes back as it is, and every failure is an Anthropic-shaped error
(an upstream that cannot be reached is a 502, never a 500). A key Anthropic
rejects is marked broken, as on any other call.
"""

from __future__ import annotations

from typing import Final

import aiohttp

from chatgrid.errors import ChatGridError, UpstreamFailed
from chatgrid.gateway.admission import Gatekeeper
from chatgrid.gateway.bodies import PreparedCall
from chatgrid.gateway.calls import CallPlan
from chatgrid.gateway.directory import Caller
from chatgrid.gateway.http import JSON_HEADERS, Send, send_bytes
from chatgrid.gateway.relay import KeyRejectedHook
from chatgrid.gateway.upstream_answers import KEY_REJECTED, judge_upstream_answer, parse_retry_after
from chatgrid.limits.enforcer import admission_for, combined
from chatgrid.providers.base import PROVIDER_LABELS

_UPSTREAM_ERRORS: Final = (aiohttp.ClientError, TimeoutError, OSError)
_SUFFIX: Final = "/count_tokens"


async def count_tokens(
    gatekeeper: Gatekeeper,
    session: aiohttp.ClientSession,
    on_key_rejected: KeyRejectedHook,
    caller: Caller,
    prepared: PreparedCall,
    client: str | None,
    call_id: str,
    send: Send,
    request_id: str,
) -> int:
    """Plan, take the request limits, ask Anthropic, answer; the status sent."""
    plan = await gatekeeper.plan(caller, prepared, client, call_id)
    route = plan.route
    limits = combined(
        admission_for(route.policy, caller.org_id, caller.member_id),
        admission_for(route.operator_policy, caller.org_id, caller.member_id, set_by="operator:"),
    )
    if not limits.empty:
        await gatekeeper.limiter.admit(limits, plan.call_id)
    try:
        status, payload = await _ask(session, on_key_rejected, plan)
    finally:
        if not limits.empty:
            await gatekeeper.limiter.finish(limits, plan.call_id, 0)
    headers = [*JSON_HEADERS, (b"x-request-id", request_id.encode())]
    await send_bytes(send, status, payload, headers)
    return status


async def _ask(
    session: aiohttp.ClientSession, on_key_rejected: KeyRejectedHook, plan: CallPlan
) -> tuple[int, bytes]:
    """Anthropic's 200 or passed-through answer, or the ChatGridError that replaces it."""
    headers = {**plan.target.headers, **(plan.prepared.upstream_headers or {})}
    headers["Content-Type"] = "application/json"
    try:
        async with session.post(
            plan.url + _SUFFIX,
            data=plan.prepared.upstream_body,
            headers=headers,
            allow_redirects=False,
        ) as response:
            status = response.status
            payload = await response.read()
            retry_after = parse_retry_after(response.headers.get("retry-after"))
    except _UPSTREAM_ERRORS:
        raise UpstreamFailed(
            "the upstream could not be reached", code="upstream_unreachable"
        ) from None
    if status == 200:
        return status, payload
    label = PROVIDER_LABELS[plan.target.provider]
    verdict = judge_upstream_answer(status, plan.route.mode, payload, retry_after, label=label)
    if verdict.outcome == KEY_REJECTED:
        await on_key_rejected(plan, status)
    if verdict.pass_through:
        return status, payload
    error: ChatGridError = verdict.error
    raise error
