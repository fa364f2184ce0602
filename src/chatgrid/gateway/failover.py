"""Shared credits: when a pooled key fails before the first byte, try another.

A 429 cools the key down for its ``Retry-After``; a 5xx or a connection
failure cools it briefly. The caller never sees a failure one healthy key in
the pool could have answered. BYOK orgs have exactly one key: no failover.
"""

from __future__ import annotations

import secrets
from dataclasses import replace

from chatgrid.gateway.calls import CallPlan
from chatgrid.gateway.directory import Directory, PoolHealth, choose_pool_target

MAX_ATTEMPTS = 3
FAILURE_COOLDOWN_SECONDS = 5.0
RETRYABLE_STATUSES = frozenset({429, 500, 502, 503, 504})


class PoolFailover:
    """One call's failover state: the keys it has tried."""

    def __init__(self, directory: Directory, health: PoolHealth) -> None:
        self.directory = directory
        self.health = health
        self.tried: set[str] = set()

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
        chosen = choose_pool_target(
            await self.directory.pool(),
            failed.prepared.model,
            health=self.health,
            exclude=frozenset(self.tried),
        )
        if chosen is None:
            return None
        endpoint = failed.prepared.endpoint
        url = (
            chosen.target.chat_url(failed.prepared.model)
            if endpoint == "chat"
            else chosen.target.embeddings_url(failed.prepared.model)
        )
        if url is None:
            return None
        return replace(
            failed,
            call_id="call_" + secrets.token_hex(12),
            target=chosen.target,
            url=url,
            pool_key_id=chosen.key_id,
            tokens_used=0,
        )
