"""Admission: whether an authenticated call may go upstream, and where.

Every check a call meets before it leaves is here, in order: the org can
make calls (not suspended, trial not over, a BYOK key that works), the model
is allowed and priced, the org's and the operator's rate limits, the
reservation against the budgets (the shared-credit allowance, the org's, its
teams' and its members' budgets), and the pooled key's own budget. Each
refusal is a typed :class:`~chatgrid.errors.ChatGridError` raised to the
caller: ``/v1`` renders it as OpenAI's error JSON, the workspace receives the
exception itself.

An admitted call holds counts (limits, a reservation, a pooled key's
minute); :meth:`Gatekeeper.settle` releases them with the ledger entry the
relay returned, whatever happened in between. Admission does no upstream
I/O: that is the relay's.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from chatgrid import request_ids
from chatgrid.billing.trials import trial_state
from chatgrid.errors import (
    ChatGridError,
    CredentialUnusable,
    ModelNotAllowed,
    OrgSuspended,
    PaymentOverdue,
    TrialEnded,
    UpstreamKeyRejected,
)
from chatgrid.gateway.bodies import PreparedCall
from chatgrid.gateway.calls import CallPlan, new_call_id, tokens_of
from chatgrid.gateway.directory import (
    Caller,
    Directory,
    OrgRoute,
    PoolHealth,
    choose_pool_target,
)
from chatgrid.gateway.failover import PoolFailover, pool_unavailable
from chatgrid.gateway.metering import Hold, Metering
from chatgrid.gateway.model_refresh import ModelLists, model_not_found
from chatgrid.gateway.pool_budget import PoolBudget
from chatgrid.gateway.relay_anthropic import endpoint_not_supported, for_anthropic
from chatgrid.gateway.stored_responses import stored_responses_refused
from chatgrid.identity.models import BillingMode
from chatgrid.ledger.entries import LedgerEntry
from chatgrid.limits.enforcer import Limiter, admission_for, combined
from chatgrid.limits.windows import Admission
from chatgrid.metrics.recorder import Metrics
from chatgrid.providers.base import PROVIDER_LABELS, Provider
from chatgrid.providers.targets import call_url
from chatgrid.store.budgets import month_of

#: Why a BYOK org cannot call. Made afresh for each refusal: an exception raised
#: again keeps every traceback it was raised with, and the frames those hold.
#: Each takes the provider's name as a person reads it (the key's, or OpenAI's).
_PROBLEMS: dict[str, Callable[[str], ChatGridError]] = {
    "no_credential": lambda _: CredentialUnusable(
        "Your organization has not connected an OpenAI key yet — ask an admin to add one."
    ),
    "broken": lambda label: UpstreamKeyRejected(
        f"Your organization's {label} key was rejected by {label} — ask an admin to reconnect it."
    ),
    "private_upstream": lambda _: CredentialUnusable(
        "Your organization's key points at a private address this instance may not call — "
        "ask an admin.",
        code="private_upstream",
    ),
    "unreadable": lambda _: CredentialUnusable(
        "Your organization's key cannot be used right now — ask an admin to reconnect it.",
        code="credential_unreadable",
    ),
}


def _problem(route: OrgRoute) -> ChatGridError:
    assert route.problem is not None
    label = PROVIDER_LABELS[route.provider] if route.provider is not None else "OpenAI"
    return _PROBLEMS[route.problem](label)


@dataclass(slots=True)
class Admitted:
    """A call let through: its plan, and what it holds until it is settled."""

    plan: CallPlan
    limits: Admission  # the rate-limit counts held under the plan's call id
    hold: Hold | None  # a budget reservation held under the same id
    failover: PoolFailover | None  # shared credits: the pooled key's budget, and retries


class Gatekeeper:
    """Admits calls (raising typed refusals) and settles them once relayed."""

    def __init__(
        self,
        directory: Directory,
        limiter: Limiter,
        metering: Metering,
        pool_health: PoolHealth,
        pool_budget: PoolBudget,
        metrics: Metrics | None = None,
    ) -> None:
        self.metrics = metrics or Metrics()
        self.directory = directory
        self.limiter = limiter
        self.metering = metering
        self.pool_health = pool_health
        self.pool_budget = pool_budget
        #: Asks a key's provider about a model its stored list lacks (gateway.model_refresh).
        self.model_lists: ModelLists | None = None

    async def admit(
        self,
        caller: Caller,
        prepared: PreparedCall,
        client: str | None,
        call_id: str | None = None,
    ) -> Admitted:
        """Plan the call and take its counts, or raise why it may not go.

        A refusal part-way gives back what was already taken: a refused call
        holds nothing. ``call_id``: the id ``/v1`` already answers with (else a new one).
        """
        plan = await self.plan(caller, prepared, client, call_id)
        route = plan.route
        limits = combined(
            admission_for(route.policy, caller.org_id, caller.member_id),
            admission_for(
                route.operator_policy, caller.org_id, caller.member_id, set_by="operator:"
            ),
        )
        if not limits.empty:
            try:
                await self.limiter.admit(limits, plan.call_id)
            except ChatGridError as refusal:
                self.metrics.limit_decision(_decision(refusal))
                raise
            self.metrics.limit_decision("admitted")
        admitted = Admitted(plan, limits, hold=None, failover=None)
        try:
            try:
                admitted.hold = await self.metering.reserve(plan)
            except ChatGridError as refusal:
                self.metrics.reservation_decision(_decision(refusal))
                raise
            if admitted.hold is not None:
                self.metrics.reservation_decision("reserved")
            if plan.pool_key_id is not None:
                admitted.failover = PoolFailover(
                    self.directory, self.pool_health, self.pool_budget, self.metrics
                )
                admitted.plan = await admitted.failover.admit(plan)  # the key's own budget
        except BaseException:
            await self.settle(admitted, None)
            raise
        return admitted

    async def settle(self, admitted: Admitted, entry: LedgerEntry | None) -> None:
        """Release the call's counts with what it used (``entry`` None: it never got one)."""
        call_id = admitted.plan.call_id
        try:
            if admitted.hold is not None:
                await self.metering.settle(call_id, admitted.hold, entry)
        finally:
            if not admitted.limits.empty:
                await self.limiter.finish(admitted.limits, call_id, tokens_of(entry))
            if admitted.failover is not None:
                await admitted.failover.settle(entry)

    async def usable_route(self, caller: Caller) -> OrgRoute:
        """The org's route, if the org may make calls at all right now."""
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
            failure = route.terms.payment_failure
            if failure is not None and failure.read_only(now):
                raise PaymentOverdue(failure.message(now))
        if route.mode is BillingMode.BYOK and route.problem is not None:
            raise _problem(route)
        return route

    async def plan(
        self,
        caller: Caller,
        prepared: PreparedCall,
        client: str | None,
        call_id: str | None = None,
    ) -> CallPlan:
        """Which upstream, URL and price this call gets (no counts are taken)."""
        route = await self.usable_route(caller)
        if not route.policy.allows(prepared.model):
            raise ModelNotAllowed(
                f"The model '{prepared.model}' is not enabled for your organization; "
                "ask an admin to allow it.",
                param="model",
            )
        prices = await self.directory.prices()
        started_at = datetime.now(UTC)
        price = prices.price_for(prepared.model, started_at.date())
        unit_prices = (await self.directory.unit_prices()).on(started_at.date())
        pool_key_id = None
        if route.mode is BillingMode.BYOK:
            route = route.for_model(prepared.model)  # the one key this call uses
            if route.problem is not None:
                raise _problem(route)
            target = route.target
            assert target is not None
        else:
            if prepared.endpoint == "responses" and prepared.request.get("previous_response_id"):
                raise stored_responses_refused("previous_response_id")
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
        if target.provider is Provider.ANTHROPIC or prepared.endpoint == "messages":
            prepared = for_anthropic(target, prepared)  # Messages form, or what Claude cannot do
        url = call_url(target, prepared.endpoint, prepared.model)
        if url is None and target.provider is not Provider.AZURE:  # the key has no such URL
            raise endpoint_not_supported(prepared.model, prepared.endpoint)
        if url is None:
            raise ModelNotAllowed(
                f"The model '{prepared.model}' has no deployment on your organization's "
                "Azure OpenAI resource.",
                param="model",
                code="model_not_deployed",
            )
        if route.mode is BillingMode.BYOK and route.models and prepared.model not in route.models:
            if self.model_lists is None:
                raise model_not_found(prepared.model)
            await self.model_lists.confirm(route, prepared.model)  # asks the provider, or 404
        return CallPlan(
            call_id=call_id or new_call_id(),
            request_id=request_ids.current(),
            caller=caller,
            route=route,
            target=target,
            url=url,
            prepared=prepared,
            price=price,
            unit_prices=unit_prices,
            client_addr=client,
            started_at=started_at,
            pool_key_id=pool_key_id,
        )

    async def models_for(self, caller: Caller) -> list[str]:
        """The models this caller may use now: the key's (BYOK) or the priced pool's."""
        route = await self.usable_route(caller)
        if route.mode is BillingMode.BYOK:
            models = sorted(route.models)
        else:
            pool = await self.directory.pool()
            priced = (await self.directory.prices()).models()
            models = sorted(m for m in priced if any(key.serves(m) for key in pool))
        return [m for m in models if route.policy.allows(m)]


def _decision(refusal: ChatGridError) -> str:
    """A limit's or a reservation's refusal as a metric label: over it, or unable to count."""
    return "unavailable" if refusal.status == 503 else "refused"
