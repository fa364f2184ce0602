"""Shared credits never pass a cap: reservations across replicas under load.

A $1-a-seat monthly allowance (prorated to the rest of the month: billing's
rule, the one invoices use), 200 concurrent slow streams spread over 2 replicas
sharing PostgreSQL and Redis, 30% of the clients hanging up mid-stream.
"""

from __future__ import annotations

import asyncio
import random
import secrets
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select, update

from chatgrid.admin import keys, people
from chatgrid.billing.shared_budgets import SharedBudgets
from chatgrid.billing.standing import budget_status
from chatgrid.identity.models import BillingMode, Role
from chatgrid.providers.base import Provider, UpstreamConfig
from chatgrid.store.budgets import month_of
from chatgrid.store.ids import new_id
from chatgrid.store.tables import ledger_entries, orgs, plans
from chatgrid.store.types import utcnow
from tests.support.cluster import REDIS_URL, Cluster, start_cluster
from tests.support.processes import RunningProcess
from tests.support.stream_load import body, one_client

pytestmark = pytest.mark.postgresql_only

ALLOWANCE_PER_SEAT = 1_000_000  # $1 a seat-month, prorated by billing's rule


def shared_org_with_cap(cluster: Cluster) -> tuple[str, str]:
    ctx = cluster.context
    plan_id = new_id("plan")
    with ctx.engine.begin() as conn:
        conn.execute(
            plans.insert().values(
                id=plan_id,
                name=f"tight-{plan_id}",
                seat_price_micros=5_000_000,
                markup_bps=2_000,
                allowance_micros_per_seat=ALLOWANCE_PER_SEAT,
                overage=False,
                is_default=False,
                created_at=utcnow(),
            )
        )
    org = people.create_org(ctx, f"capped-{secrets.token_hex(3)}", BillingMode.SHARED)
    with ctx.engine.begin() as conn:
        conn.execute(update(orgs).where(orgs.c.id == org.id).values(plan_id=plan_id))
    people.add_member(ctx, org.id, "load@example.com", Role.OWNER)
    _, token = people.create_token(ctx, org.id, "load@example.com")
    config = UpstreamConfig.create(Provider.OPENAI, base_url=f"{cluster.simulator.base_url}/v1")
    asyncio.run(keys.add_pool_key(ctx, f"pool-{org.id}", config, "sk-pool-reserve-abcdef"))
    return org.id, token


def spent(cluster: Cluster, org_id: str) -> int:
    with cluster.context.engine.connect() as conn:
        return int(
            conn.execute(
                select(func.coalesce(func.sum(ledger_entries.c.charged_micros), 0)).where(
                    ledger_entries.c.org_id == org_id
                )
            ).scalar_one()
        )


def test_concurrent_streams_never_spend_past_the_cap(
    tmp_path: Path, postgres_database: str | None, simulator: RunningProcess
) -> None:
    assert postgres_database is not None
    cluster = start_cluster(tmp_path, postgres_database, simulator, REDIS_URL, count=2)
    try:
        org_id, token = shared_org_with_cap(cluster)
        urls = [f"{r.base_url}/v1/chat/completions" for r in cluster.replicas]
        rng = random.Random(7)

        async def storm() -> list[int]:
            limits = httpx.Limits(max_connections=250)
            async with httpx.AsyncClient(timeout=120, limits=limits) as http:
                return await asyncio.gather(
                    *(
                        one_client(http, urls[i % 2], token, hang_up=rng.random() < 0.3)
                        for i in range(200)
                    )
                )

        statuses = asyncio.run(storm())
        assert set(statuses) <= {200, 429, 499}
        assert 429 in statuses  # the cap was reached: some calls were refused up front
        admitted = sum(1 for s in statuses if s != 429)

        async def settled() -> tuple[int, int]:
            store = SharedBudgets(
                REDIS_URL, cluster.replicas[0].env["CHATGRID_REDIS_PREFIX"], lambda s: 0, 60
            )
            try:
                for _ in range(300):  # abandoned streams finish draining upstream
                    await asyncio.sleep(0.1)
                    _, held = await store.snapshot(f"org:{org_id}:{month_of(utcnow())}")
                    if held == 0:
                        break
                return await store.snapshot(f"org:{org_id}:{month_of(utcnow())}")
            finally:
                await store.close()

        counted, held = asyncio.run(settled())
        assert held == 0  # every reservation settled or released
        total = spent(cluster, org_id)
        ctx = cluster.context
        cap = budget_status(ctx.billing, ctx.plans, org_id, utcnow()).limit_micros
        assert cap is not None
        assert 0 < total <= cap
        assert counted == total  # Redis's running total is the ledger's sum
        with cluster.context.engine.connect() as conn:
            rows = conn.execute(
                select(func.count()).where(
                    ledger_entries.c.org_id == org_id,
                    ledger_entries.c.outcome != "pool_key_failover",
                )
            ).scalar_one()
        assert rows == admitted

        # After the dust settles, the next call is judged on what was really spent.
        headers = {"Authorization": f"Bearer {token}"}
        small = httpx.post(urls[0], json=body(5, 5, 0), headers=headers, timeout=60)
        assert small.status_code == 200, small.text  # fits in what is left: no false refusal
        too_big = httpx.post(urls[1], json=body(100_000, 5, 0), headers=headers, timeout=60)
        assert too_big.status_code == 429
        assert too_big.json()["error"]["code"] == "insufficient_quota"
    finally:
        for replica in cluster.replicas:
            replica.stop()
        cluster.context.close()
