"""The ``/v1`` ASGI application: route, authenticate, plan, relay.

Kept as a bare ASGI callable on purpose: this path is paid for on every
request, and measurement (see ``bench/``) showed framework layers costing
more than the rest of the gateway's work together.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from datetime import UTC, datetime

import aiohttp
import orjson

from chatgrid.billing.trials import trial_state
from chatgrid.context import AppContext
from chatgrid.errors import (
    AuthenticationFailed,
    ChatGridError,
    CredentialUnusable,
    InvalidRequest,
    ModelNotAllowed,
    NotFound,
    OrgSuspended,
    TrialEnded,
    UpstreamKeyRejected,
)
from chatgrid.gateway.bodies import PreparedCall, prepare_chat, prepare_embeddings
from chatgrid.gateway.calls import CallPlan
from chatgrid.gateway.directory import (
    Caller,
    Directory,
    OrgRoute,
    PoolHealth,
    choose_pool_target,
)
from chatgrid.gateway.failover import PoolFailover, pool_unavailable
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
from chatgrid.gateway.metering import Metering
from chatgrid.gateway.pool_alerts import alert_operators, pool_key_broke
from chatgrid.gateway.pool_budget import PoolBudget
from chatgrid.gateway.relay import Relay
from chatgrid.gateway.streams import StreamRegistry
from chatgrid.identity.models import BillingMode
from chatgrid.identity.tokens import hash_token
from chatgrid.limits.enforcer import Limiter, admission_for, combined
from chatgrid.mail import mailer_from_settings
from chatgrid.store.budgets import month_of
from chatgrid.store.checkpoint import WalCheckpointer
from chatgrid.store.credentials import StoredKey
from chatgrid.store.ledger_writer import LedgerWriter
from chatgrid.sync import ReplicaSync

log = logging.getLogger(__name__)

_BEARER = b"bearer "
_PROBLEMS = {
    "no_credential": CredentialUnusable(
        "Your organization has not connected an OpenAI key yet — ask an admin to add one."
    ),
    "broken": UpstreamKeyRejected(
        "Your organization's OpenAI key was rejected by OpenAI — ask an admin to reconnect it."
    ),
    "private_upstream": CredentialUnusable(
        "Your organization's key points at a private address this instance may not call — "
        "ask an admin.",
        code="private_upstream",
    ),
    "unreadable": CredentialUnusable(
        "Your organization's key cannot be used right now — ask an admin to reconnect it.",
        code="credential_unreadable",
    ),
}


class Gateway:
    """Owns the per-process pieces of ``/v1``: caches, upstream pool, ledger writer."""

    def __init__(self, context: AppContext, session: aiohttp.ClientSession) -> None:
        self.context = context
        self.directory = Directory(context)
        self.streams = StreamRegistry(context)
        self.limiter = Limiter(context.settings)
        self.pool_health = PoolHealth()
        self.pool_budget = PoolBudget(self.limiter.counters)
        self.mailer = mailer_from_settings(context.settings)  # operator alerts
        self._alerts: set[asyncio.Future[int]] = set()
        self.metering = Metering(context)
        self.sync = ReplicaSync(context.settings, on_change=self._changed)
        self.ledger = LedgerWriter(context.engine)
        self.checkpointer = WalCheckpointer(context.engine)
        self.relay = Relay(
            session,
            self.ledger,
            on_key_rejected=self._key_rejected,
            drain_timeout=context.settings.drain_timeout_seconds,
            streams=self.streams,
        )
        self.max_body = context.settings.max_body_bytes

    def _changed(self) -> None:
        self.directory.invalidate()
        self.streams.changed()

    async def start(self) -> None:
        await self.sync.start()
        self.checkpointer.start()

    async def close(self) -> None:
        await self.sync.stop()
        await self.limiter.close()
        await self.metering.close()
        await self.checkpointer.stop()
        self.ledger.close()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await self._dispatch(scope, receive, send)
        except ClientDisconnected:
            return
        except ChatGridError as error:
            await send_error(send, error)

    async def _dispatch(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope["path"]
        method: str = scope["method"]
        if path == "/v1/chat/completions":
            endpoint = "chat"
        elif path == "/v1/embeddings":
            endpoint = "embeddings"
        elif path == "/v1/models" or path.startswith("/v1/models/"):
            if method != "GET":
                raise _method_not_allowed(method, path)
            caller = await self._authenticate(scope)
            await self._models(caller, path, send)
            return
        else:
            raise NotFound(f"Unknown request URL: {method} {path}.", code="unknown_url")
        if method != "POST":
            raise _method_not_allowed(method, path)
        caller = await self._authenticate(scope)
        body = await read_body(receive, self.max_body)
        await self.serve(caller, endpoint, body, client_address(scope), receive, send)

    async def call_as(
        self, caller: Caller, endpoint: str, body: bytes, receive: Receive, send: Send
    ) -> None:
        """A call the workspace makes for a signed-in member: ``/v1``'s path without a token.

        Errors reach ``send`` exactly as ``/v1`` would answer them, so the
        workspace sees the same refusals (limits, allowance, trial, key).
        """
        try:
            self.sync.check()
            await self.serve(caller, endpoint, body, None, receive, send)
        except ClientDisconnected:
            return
        except ChatGridError as error:
            await send_error(send, error)

    async def serve(
        self,
        caller: Caller,
        endpoint: str,
        body: bytes,
        client: str | None,
        receive: Receive,
        send: Send,
    ) -> None:
        """One authenticated call: plan, admit, reserve, relay, settle."""
        if endpoint == "chat":
            prepared = prepare_chat(body, caller.user_tag)
        else:
            prepared = prepare_embeddings(body, caller.user_tag)
        plan = await self._plan(caller, prepared, client)
        failover = None
        if plan.pool_key_id is not None:
            failover = PoolFailover(self.directory, self.pool_health, self.pool_budget)
        admission = combined(
            admission_for(plan.route.policy, caller.org_id, caller.member_id),
            admission_for(
                plan.route.operator_policy, caller.org_id, caller.member_id, set_by="operator:"
            ),
        )
        if not admission.empty:
            await self.limiter.admit(admission, plan.call_id)
        final = plan
        try:
            held = await self.metering.reserve(plan)
            try:
                if failover is not None:
                    plan = final = await failover.admit(plan)  # the key's own budget
                final = await self.relay.forward(plan, receive, send, failover)
            finally:
                if held:
                    await self.metering.settle(plan.call_id, final.charged_micros)
        finally:
            if not admission.empty:
                await self.limiter.finish(admission, plan.call_id, final.tokens_used)
            if failover is not None:
                await failover.settle(final)

    async def _authenticate(self, scope: Scope) -> Caller:
        self.sync.check()
        value = header(scope, b"authorization")
        if value is None or value[:7].lower() != _BEARER:
            raise AuthenticationFailed(
                "You didn't provide an API key. Send your ChatGrid token as "
                "'Authorization: Bearer <token>'.",
                code="missing_api_key",
            )
        caller = await self.directory.caller(hash_token(value[7:].strip()))
        if caller is None:
            raise AuthenticationFailed("Incorrect API key provided.")
        if caller.expires_at is not None and caller.expires_at <= datetime.now(UTC):
            raise AuthenticationFailed("This API token has expired.", code="token_expired")
        return caller

    async def _usable_route(self, caller: Caller) -> OrgRoute:
        route = await self.directory.route(caller.org_id)
        now = datetime.now(UTC)
        if route.terms is not None and route.terms.month != month_of(now):
            self.directory.forget(caller.org_id)  # a new month: a new allowance
            route = await self.directory.route(caller.org_id)
        if route.suspended:
            raise OrgSuspended("Your organization is suspended; contact your administrator.")
        if route.terms is not None:
            trial = trial_state(route.terms.trial_ends_at, route.terms.plan_id, now)
            if trial.read_only:
                raise TrialEnded(trial.message)
        if route.mode is BillingMode.BYOK and route.problem is not None:
            raise _PROBLEMS[route.problem]
        return route

    async def _plan(self, caller: Caller, prepared: PreparedCall, client: str | None) -> CallPlan:
        route = await self._usable_route(caller)
        if not route.policy.allows(prepared.model):
            raise ModelNotAllowed(
                f"The model '{prepared.model}' is not enabled for your organization; "
                "ask an admin to allow it.",
                param="model",
            )
        prices = await self.directory.prices()
        started_at = datetime.now(UTC)
        price = prices.price_for(prepared.model, started_at.date())
        pool_key_id = None
        if route.mode is BillingMode.BYOK:
            target = route.target
            assert target is not None
        else:
            if price is None:
                raise ModelNotAllowed(
                    f"The model '{prepared.model}' has no price on shared credits; "
                    "ask your administrator.",
                    param="model",
                )
            pool = await self.directory.pool()
            chosen = choose_pool_target(
                pool, prepared.model, health=self.pool_health, headroom=self.pool_budget.headroom
            )
            if chosen is None:
                raise pool_unavailable(pool, prepared.model, self.pool_budget)
            target, pool_key_id = chosen.target, chosen.key_id
        url = (
            target.chat_url(prepared.model)
            if prepared.endpoint == "chat"
            else (target.embeddings_url(prepared.model))
        )
        if url is None:
            raise ModelNotAllowed(
                f"The model '{prepared.model}' has no deployment on your organization's "
                "Azure OpenAI resource.",
                param="model",
                code="model_not_deployed",
            )
        if route.mode is BillingMode.BYOK and route.models and prepared.model not in route.models:
            raise ModelNotAllowed(
                f"The model '{prepared.model}' is not available with your organization's key.",
                param="model",
            )
        return CallPlan(
            call_id="call_" + secrets.token_hex(12),
            caller=caller,
            route=route,
            target=target,
            url=url,
            prepared=prepared,
            price=price,
            client_addr=client,
            started_at=started_at,
            pool_key_id=pool_key_id,
        )

    async def models_for(self, caller: Caller) -> list[str]:
        """The models this caller may use now: the key's (BYOK) or the priced pool's."""
        route = await self._usable_route(caller)
        if route.mode is BillingMode.BYOK:
            models = sorted(route.models)
        else:
            priced = set((await self.directory.prices()).models())
            served: set[str] = set()
            for pooled in await self.directory.pool():
                served |= pooled.models or priced
            models = sorted(priced & served)
        return [m for m in models if route.policy.allows(m)]

    async def _models(self, caller: Caller, path: str, send: Send) -> None:
        models = await self.models_for(caller)
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
            await send_bytes(send, 200, orjson.dumps(match), JSON_HEADERS)
            return
        body = orjson.dumps({"object": "list", "data": entries})
        await send_bytes(send, 200, body, JSON_HEADERS)

    async def _key_rejected(self, plan: CallPlan, status: int) -> None:
        """The upstream said 401/403: flag the key so nobody keeps hitting it."""
        context = self.context
        reason = f"the upstream rejected the key (HTTP {status})"

        def flag() -> StoredKey | None:
            broken = None
            if plan.pool_key_id is not None:
                broken = pool_key_broke(context, plan.pool_key_id, reason)
            elif plan.route.credential_id is not None:
                context.credentials.mark_broken(
                    plan.caller.org_id, plan.route.credential_id, reason
                )
            context.changes.bump()
            return broken  # a pooled key that just broke (once per break, not per request)

        try:
            broken = await asyncio.to_thread(flag)
        except Exception:
            log.exception("could not flag a rejected upstream key")
            broken = None
        self._changed()
        if broken is not None:
            # Mail the operators off the request path: this caller does not wait on SMTP.
            alert = asyncio.ensure_future(
                asyncio.to_thread(alert_operators, context, self.mailer, broken)
            )
            self._alerts.add(alert)
            alert.add_done_callback(self._alerts.discard)
        log.warning(
            "upstream rejected a key: org=%s fingerprint=%s",
            plan.caller.org_id,
            plan.target.fingerprint,
        )


def _method_not_allowed(method: str, path: str) -> InvalidRequest:
    return InvalidRequest(
        f"Method {method} is not allowed for {path}.", code="method_not_allowed", status=405
    )
