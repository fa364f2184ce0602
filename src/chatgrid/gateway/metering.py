"""Budgets: reserve a call's worst case before it goes upstream, settle after.

The caps are the org's monthly allowance (shared credits, hard-stop plans)
and the budgets an org sets on itself, its teams and its members
(``billing.budget_rules``), on shared credits and on its own key alike.
Reservation and settlement go through ``billing.budgets`` (in process on one
node, Redis across replicas), so no interleaving of concurrent calls spends
past a hard cap. Settling answers each counter's new spend, which is where a
budget's thresholds alert (``gateway.budget_alerts``). A call with no budget
over it (or a BYOK model with no price, which cannot be counted) holds nothing.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime

from redis.exceptions import RedisError

from chatgrid.billing.budget_rules import Counter, counters_for_call
from chatgrid.billing.budgets import Cap, LocalBudgets
from chatgrid.billing.shared_budgets import SharedBudgets
from chatgrid.billing.worst_case import worst_case_charge
from chatgrid.context import AppContext
from chatgrid.errors import QuotaExhausted, ServiceUnavailable
from chatgrid.gateway.alert_queue import AlertQueue
from chatgrid.gateway.budget_alerts import check_thresholds
from chatgrid.gateway.calls import CallPlan
from chatgrid.identity.models import BillingMode
from chatgrid.ledger.entries import LedgerEntry
from chatgrid.ledger.money import format_dollars
from chatgrid.store.budgets import month_of

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Hold:
    """What one admitted call holds: its counters, and how its cost is measured."""

    counters: tuple[Counter, ...]
    byok: bool  # counted at list price (the org's own key), else at the charge
    org_id: str
    month: str


class BudgetsUnavailable(ServiceUnavailable):
    """Spend cannot be counted (Redis down): refuse rather than risk passing a cap."""

    default_code = "budgets_unavailable"


def counters_for(plan: CallPlan, now: datetime) -> list[Counter]:
    """The counters a planned call counts in (none: it holds nothing)."""
    terms = plan.route.terms
    if terms is None:
        return []
    caller = plan.caller
    return counters_for_call(
        org_id=caller.org_id,
        member_id=caller.member_id,
        month=month_of(now),
        byok=plan.route.mode is BillingMode.BYOK,
        budgets=terms.budgets,
        teams=terms.teams_of.get(caller.member_id, ()),
        names=terms.names,
        allowance_micros=terms.allowance_micros,
    )


def cost_of(hold: Hold, entry: LedgerEntry | None) -> int:
    """What a settled call counts: the charge, or on the org's own key its list price."""
    if entry is None:
        return 0
    if hold.byok:
        return entry.list_cost_micros or 0
    return entry.charged_micros


class Metering:
    def __init__(self, context: AppContext, alerts: AlertQueue) -> None:
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
        self.alerts = alerts

    async def reserve(self, plan: CallPlan) -> Hold | None:
        """Hold the call's worst case against every cap; None if nothing needed holding."""
        if plan.price is None:
            return None  # no price (a BYOK model the price list lacks): nothing to count
        terms = plan.route.terms
        byok = plan.route.mode is BillingMode.BYOK
        if terms is None or (not terms.budgets and (byok or terms.allowance_micros is None)):
            return None  # the common case, decided without a clock or a counter
        now = datetime.now(UTC)
        counters = counters_for(plan, now)
        if not counters:
            return None
        prepared = plan.prepared
        amount = worst_case_charge(
            prepared.endpoint,
            prepared.request,
            plan.price,
            0 if byok else plan.route.markup_bps,
            prepared.units,
            unit_prices=plan.unit_prices,
        )
        caps = [Cap(c.scope, c.limit_micros, _label(c)) for c in counters]
        try:
            shortfall = await self.budgets.reserve(plan.call_id, caps, amount)
        except (RedisError, OSError) as exc:
            log.error("budgets could not be counted: %s", type(exc).__name__)
            raise BudgetsUnavailable(
                "Spending budgets cannot be checked right now; try again shortly."
            ) from None
        if shortfall is None:
            return Hold(tuple(counters), byok, plan.caller.org_id, month_of(now))
        left = (
            f"${format_dollars(shortfall.remaining_micros)} left of "
            f"${format_dollars(shortfall.limit_micros)}, less than this request could cost"
        )
        what = shortfall.label[:1].upper() + shortfall.label[1:]
        raise QuotaExhausted(
            f"{what} has {left} — ask an admin to raise it, or send a shorter request "
            "(a lower max_tokens bounds the cost)."
        )

    async def settle(self, call_id: str, hold: Hold, entry: LedgerEntry | None) -> None:
        try:
            spent = await self.budgets.settle(call_id, cost_of(hold, entry))
        except (RedisError, OSError) as exc:
            # The ledger holds the truth; a lost settle only over-holds until it expires.
            log.error("a reservation could not be settled: %s", type(exc).__name__)
            return
        if spent:
            check_thresholds(self.alerts, hold.org_id, hold.month, hold.counters, spent)

    async def close(self) -> None:
        if isinstance(self.budgets, SharedBudgets):
            await self.budgets.close()


def _label(counter: Counter) -> str:
    binding = counter.binding
    return "" if binding is None else binding.label
