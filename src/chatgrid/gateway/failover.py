"""Shared credits: choose a pooled key with budget left; when one fails before the first
byte, try another.

A 429 cools the key down for its ``Retry-After``; a 5xx (Anthropic's 529
overload included) or a connection failure cools it briefly; a 401/403 breaks
the key for good (the relay flags it and the operators are alerted,
``pool_alerts``). A key whose own minute budget is spent is skipped until the
window frees (``pool_budget``). Another key is only ever one that serves the
model (``PoolTarget.serves``): a Claude call moves to another Anthropic key,
never to another provider's. The caller never sees a failure one healthy key
in the pool could have answered; when every key serving the model is out of
budget, the caller gets a 429 with ``Retry-After`` that says nothing about the
operator's upstream account. BYOK orgs have exactly one key: none of this
applies to them.
"""

from __future__ import annotations

import secrets
from dataclasses import replace

from chatgrid.errors import ChatGridError, RateLimited, UpstreamFailed
from chatgrid.gateway.calls import CallPlan, tokens_of
from chatgrid.gateway.directory import Directory, PoolHealth, PoolTarget, choose_pool_target
from chatgrid.gateway.pool_budget import PoolBudget
from chatgrid.ledger.entries import LedgerEntry
from chatgrid.metrics.recorder import Metrics
from chatgrid.providers.targets import call_url

MAX_ATTEMPTS = 3
FAILURE_COOLDOWN_SECONDS = 5.0
#: The upstream is busy or failing; the key is fine once it cools down (529: Anthropic's overload).
RETRYABLE_STATUSES = frozenset({429, 500, 502, 503, 504, 529})
#: The upstream refused the key itself: it is broken, and the call moves on without it.
REJECTED_STATUSES = frozenset({401, 403})
#: Every answer before the first byte that moves a pooled key's call to another key.
FAILOVER_STATUSES = RETRYABLE_STATUSES | REJECTED_STATUSES


def serving(pool: list[PoolTarget], model: str) -> list[PoolTarget]:
    return [p for p in pool if p.serves(model)]


def pool_unavailable(pool: list[PoolTarget], model: str, budget: PoolBudget) -> ChatGridError:
    """Why no pooled key was chosen: every key is out of budget (429), or none serves it."""
    keys = serving(pool, model)
    if keys and all(budget.headroom(p) <= 0 for p in keys):
        for key in keys:
            budget.exhausted(key)
        wait = budget.wait_seconds(keys)
        return RateLimited(
            f"Shared capacity for '{model}' is fully used for this minute; try again in {wait}s.",
            retry_after=wait,
        )
    return UpstreamFailed("No shared upstream key serves this model right now.", code="no_pool_key")


class PoolFailover:
    """One call's pooled-key state: the keys it has tried, and the key each attempt holds."""

    def __init__(
        self,
        directory: Directory,
        health: PoolHealth,
        budget: PoolBudget,
        metrics: Metrics | None = None,
    ) -> None:
        self.metrics = metrics
        self.directory = directory
        self.health = health
        self.budget = budget
        self.tried: set[str] = set()
        self.chosen: dict[str, PoolTarget] = {}  # call id of an attempt → its key

    async def admit(self, plan: CallPlan) -> CallPlan:
        """Count the call on its planned key, or move it to another key with room.

        The call keeps its id (limits and reservations are held under it).
        Raises the 429 when no key serving the model has room.
        """
        assert plan.pool_key_id is not None
        pool = await self.directory.pool()
        planned = next((p for p in pool if p.key_id == plan.pool_key_id), None)
        if planned is not None and await self.budget.admit(planned, plan.call_id):
            self.chosen[plan.call_id] = planned
            return plan
        refused = {plan.pool_key_id}
        chosen = await self._admitted_key(pool, plan, frozenset(refused))
        if chosen is None:
            raise pool_unavailable(pool, plan.prepared.model, self.budget)
        moved = _on_key(plan, chosen, plan.call_id)
        if moved is None:
            raise pool_unavailable(pool, plan.prepared.model, self.budget)
        return moved

    async def next_plan(
        self, failed: CallPlan, status: int | None, retry_after: int | None
    ) -> CallPlan | None:
        """Cool the failed key; a plan on another key, or None if none is left."""
        assert failed.pool_key_id is not None
        self.tried.add(failed.pool_key_id)
        cooldown = float(retry_after) if status == 429 and retry_after else FAILURE_COOLDOWN_SECONDS
        self.health.cool_down(failed.pool_key_id, cooldown)
        if len(self.tried) >= MAX_ATTEMPTS:
            return None
        call_id = "call_" + secrets.token_hex(12)
        chosen = await self._admitted_key(
            await self.directory.pool(), failed, frozenset(self.tried), call_id
        )
        if chosen is None:
            return None
        moved = _on_key(failed, chosen, call_id)
        if moved is not None and self.metrics is not None:
            self.metrics.pool_failover(failed.target.provider.value, status)
        return moved

    async def settle(self, entry: LedgerEntry | None) -> None:
        """The finished call's tokens count against the key that served it."""
        target = None if entry is None else self.chosen.get(entry.call_id)
        if entry is not None and target is not None:
            await self.budget.settle(target, entry.call_id, tokens_of(entry))

    async def _admitted_key(
        self,
        pool: list[PoolTarget],
        plan: CallPlan,
        exclude: frozenset[str],
        call_id: str | None = None,
    ) -> PoolTarget | None:
        """A key other than ``exclude`` that admits the call (each refusal sets one aside)."""
        while True:
            chosen = choose_pool_target(
                pool,
                plan.prepared.model,
                health=self.health,
                exclude=exclude,
                headroom=self.budget.headroom,
            )
            if chosen is None:
                return None
            attempt = call_id or plan.call_id
            if await self.budget.admit(chosen, attempt):
                self.chosen[attempt] = chosen
                return chosen
            exclude = exclude | {chosen.key_id}


def _on_key(plan: CallPlan, chosen: PoolTarget, call_id: str) -> CallPlan | None:
    url = call_url(chosen.target, plan.prepared.endpoint, plan.prepared.model)
    if url is None:
        return None
    return replace(plan, call_id=call_id, target=chosen.target, url=url, pool_key_id=chosen.key_id)
