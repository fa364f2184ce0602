"""Shared credits: reserve a call's worst case before it goes upstream, settle after.

The caps are the org's monthly allowance (hard-stop plans) and the member's
cap. Reservation and settlement go through ``billing.budgets`` (in process
on one node, Redis across replicas), so no interleaving of concurrent calls
spends past a cap. BYOK calls are billed by OpenAI and reserve nothing.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from redis.exceptions import RedisError

from chatgrid.billing.budgets import Cap, LocalBudgets
from chatgrid.billing.shared_budgets import SharedBudgets
from chatgrid.billing.worst_case import worst_case_charge
from chatgrid.context import AppContext
from chatgrid.errors import QuotaExhausted, ServiceUnavailable
from chatgrid.gateway.calls import CallPlan
from chatgrid.identity.models import BillingMode
from chatgrid.ledger.money import format_dollars
from chatgrid.store.budgets import month_of

log = logging.getLogger(__name__)


class BudgetsUnavailable(ServiceUnavailable):
    """Spend cannot be counted (Redis down): refuse rather than risk passing a cap."""

    default_code = "budgets_unavailable"


def caps_for(plan: CallPlan, now: datetime) -> list[Cap]:
    terms = plan.route.terms
    if terms is None:
        return []
    month = month_of(now)
    caps = []
    if terms.allowance_micros is not None:
        caps.append(Cap(f"org:{plan.caller.org_id}:{month}", terms.allowance_micros))
    member_cap = terms.member_caps.get(plan.caller.member_id)
    if member_cap is not None:
        caps.append(Cap(f"member:{plan.caller.member_id}:{month}", member_cap))
    return caps


class Metering:
    def __init__(self, context: AppContext) -> None:
        settings = context.settings
        self.budgets: LocalBudgets | SharedBudgets
        if settings.redis_url:
            self.budgets = SharedBudgets(
                settings.redis_url,
                settings.redis_prefix,
                context.budgets.spent,
                settings.upstream_timeout_seconds + 60,
            )
        else:
            self.budgets = LocalBudgets(context.budgets.spent)

    async def reserve(self, plan: CallPlan) -> bool:
        """Hold the call's worst case against every cap; False if nothing needed holding."""
        if plan.route.mode is not BillingMode.SHARED or plan.price is None:
            return False
        caps = caps_for(plan, datetime.now(UTC))
        if not caps:
            return False
        prepared = plan.prepared
        amount = worst_case_charge(
            prepared.endpoint,
            prepared.request,
            plan.price,
            plan.route.markup_bps,
            prepared.units,
            unit_prices=plan.unit_prices,
        )
        try:
            shortfall = await self.budgets.reserve(plan.call_id, caps, amount)
        except (RedisError, OSError) as exc:
            log.error("budgets could not be counted: %s", type(exc).__name__)
            raise BudgetsUnavailable(
                "Shared-credit spend cannot be checked right now; try again shortly."
            ) from None
        if shortfall is None:
            return True
        left = (
            f"${format_dollars(shortfall.remaining_micros)} left of "
            f"${format_dollars(shortfall.limit_micros)}, less than this request could cost"
        )
        if shortfall.scope.startswith("org:"):
            what = f"Your organization's shared-credit allowance for this month has {left}"
        else:
            what = f"Your own monthly spending cap, set by an admin, has {left}"
        raise QuotaExhausted(
            f"{what} — ask an admin to raise it, or send a shorter request "
            "(a lower max_tokens bounds the cost)."
        )

    async def settle(self, call_id: str, charged_micros: int) -> None:
        try:
            await self.budgets.settle(call_id, charged_micros)
        except (RedisError, OSError) as exc:
            # The ledger holds the truth; a lost settle only over-holds until it expires.
            log.error("a reservation could not be settled: %s", type(exc).__name__)

    async def close(self) -> None:
        if isinstance(self.budgets, SharedBudgets):
            await self.budgets.close()
