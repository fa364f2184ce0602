"""Revocation and service across replicas when the Redis they share dies and comes back.

Two replicas and an admin, each with a data dir of its own (so the change
marker file cannot tell anyone anything: only Redis can), on a Redis server
these tests own and kill: revoke while it is down, revoke after it came back
empty or from an older snapshot, and full service once it is back.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from sqlalchemy import update

from chatgrid.admin import keys, orgs, people
from chatgrid.identity.models import BillingMode, Role
from chatgrid.limits.policy import OrgPolicy
from chatgrid.providers.base import Provider, UpstreamConfig
from chatgrid.store.ids import new_id
from chatgrid.store.tables import orgs as org_rows
from chatgrid.store.tables import plans
from chatgrid.store.types import utcnow
from tests.support.cluster import CHAT, Cluster, start_cluster
from tests.support.deployment import DatabaseFactory
from tests.support.processes import RunningProcess
from tests.support.redis_server import OwnRedis
from tests.support.waiting import wait_for

# Replicas share PostgreSQL: these run in the PostgreSQL pass of `make test`.
pytestmark = pytest.mark.postgresql_only

# Roomier than the 1 s default, so a busy test machine's stall is not mistaken
# for Redis being away (and short enough that waiting out one lease is quick).
LEASE_SECONDS = 3.0


@dataclass
class Faulty:
    cluster: Cluster
    redis: OwnRedis


@dataclass
class Member:
    org: str
    token_id: str
    token: str


@pytest.fixture(scope="module")
def faulty(
    tmp_path_factory: pytest.TempPathFactory,
    new_database: DatabaseFactory,
    simulator: RunningProcess,
) -> Iterator[Faulty]:
    """One cluster for the module; every test leaves its Redis running."""
    database_url = new_database()
    assert database_url is not None
    redis_server = OwnRedis(tmp_path_factory.mktemp("redis"))
    redis_server.start()
    cluster = None
    try:
        cluster = start_cluster(
            tmp_path_factory.mktemp("cluster"),
            database_url,
            simulator,
            redis_server.url,
            count=2,
            lease=LEASE_SECONDS,
        )
        yield Faulty(cluster, redis_server)
    finally:
        if cluster is not None:
            for replica in cluster.replicas:
                replica.stop()
            cluster.context.close()
        redis_server.kill()


def byok_member(faulty: Faulty) -> Member:
    ctx = faulty.cluster.context
    org = people.create_org(ctx, f"fault-{secrets.token_hex(3)}", BillingMode.BYOK)
    people.add_member(ctx, org.id, "ops@example.com", Role.OWNER)
    token, raw = people.create_token(ctx, org.id, "ops@example.com")
    config = UpstreamConfig.create(
        Provider.OPENAI, base_url=f"{faulty.cluster.simulator.base_url}/v1"
    )
    asyncio.run(keys.set_credential(ctx, org.id, config, f"sk-fault-{secrets.token_hex(8)}"))
    return Member(org.name, token.id, raw)


def shared_credit_member(faulty: Faulty) -> Member:
    """Shared credits with a monthly allowance and a rate limit: every call counts in Redis."""
    ctx = faulty.cluster.context
    plan_id = new_id("plan")
    with ctx.engine.begin() as conn:
        conn.execute(
            plans.insert().values(
                id=plan_id,
                name=f"roomy-{plan_id}",
                seat_price_micros=5_000_000,
                markup_bps=2_000,
                allowance_micros_per_seat=1_000_000_000,
                overage=False,
                is_default=False,
                created_at=utcnow(),
            )
        )
    org = people.create_org(ctx, f"credits-{secrets.token_hex(3)}", BillingMode.SHARED)
    with ctx.engine.begin() as conn:
        conn.execute(update(org_rows).where(org_rows.c.id == org.id).values(plan_id=plan_id))
    people.add_member(ctx, org.id, "load@example.com", Role.OWNER)
    token, raw = people.create_token(ctx, org.id, "load@example.com")
    config = UpstreamConfig.create(
        Provider.OPENAI, base_url=f"{faulty.cluster.simulator.base_url}/v1"
    )
    asyncio.run(keys.add_pool_key(ctx, f"pool-{org.id}", config, f"sk-pool-{secrets.token_hex(8)}"))
    orgs.set_policy(ctx, org.id, OrgPolicy(org_rpm=100_000), actor="test")
    return Member(org.name, token.id, raw)


def call(url: str, token: str) -> tuple[int, str | None]:
    """One chat call: its status and, for an error, its code."""
    reply = httpx.post(
        f"{url}/v1/chat/completions",
        json={**CHAT, "max_tokens": 4},
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
    )
    if reply.status_code == 200:
        return 200, None
    return reply.status_code, reply.json()["error"]["code"]


def answers_until(
    url: str, token: str, done: Callable[[tuple[int, str | None]], bool], timeout: float = 15.0
) -> list[tuple[int, str | None]]:
    """Call until ``done`` holds for an answer (bounded); every answer seen, in order."""
    seen: list[tuple[int, str | None]] = []

    def finished() -> bool:
        seen.append(call(url, token))
        return done(seen[-1])

    wait_for(finished, timeout=timeout, interval=0.1)
    return seen


def urls(faulty: Faulty) -> list[str]:
    return [replica.base_url for replica in faulty.cluster.replicas]


def assert_served_everywhere(faulty: Faulty, member: Member) -> None:
    """Every replica answers (and so has the token and the key in its caches)."""
    for url in urls(faulty):
        seen = answers_until(url, member.token, lambda answer: answer[0] != 503)
        assert seen[-1] == (200, None), seen


def assert_refused_everywhere(faulty: Faulty, member: Member) -> None:
    for url in urls(faulty):
        for _ in range(5):
            assert call(url, member.token) == (401, "invalid_api_key")


def test_a_token_revoked_while_redis_is_down_is_refused_everywhere_once_it_is_back(
    faulty: Faulty,
) -> None:
    member = byok_member(faulty)
    assert_served_everywhere(faulty, member)
    faulty.redis.kill()
    try:
        result = faulty.cluster.admin.cli("token", "revoke", member.org, member.token_id)
        # Saved, but the replicas could not be told: the command says so.
        assert result.returncode != 0
        assert "could not be told" in result.stderr
    finally:
        faulty.redis.start()  # back, and empty
    for url in urls(faulty):
        seen = answers_until(url, member.token, lambda answer: answer[0] != 503)
        assert (200, None) not in seen, seen
        assert seen[-1] == (401, "invalid_api_key"), seen


def test_a_revocation_after_redis_restarted_empty_is_in_force_when_the_command_returns(
    faulty: Faulty,
) -> None:
    member = byok_member(faulty)
    assert_served_everywhere(faulty, member)
    faulty.redis.restart()
    assert_served_everywhere(faulty, member)
    result = faulty.cluster.admin.cli("token", "revoke", member.org, member.token_id)
    assert result.returncode == 0, result.stderr
    assert_refused_everywhere(faulty, member)


def test_a_revocation_after_redis_came_back_from_an_older_snapshot_is_in_force(
    faulty: Faulty,
) -> None:
    faulty.redis.snapshot()
    member = byok_member(faulty)  # changes the snapshot does not have
    assert_served_everywhere(faulty, member)
    faulty.redis.restart(from_snapshot=True)
    assert_served_everywhere(faulty, member)
    result = faulty.cluster.admin.cli("token", "revoke", member.org, member.token_id)
    assert result.returncode == 0, result.stderr
    assert_refused_everywhere(faulty, member)


def test_every_call_is_served_once_a_replica_serves_again_after_redis_returns(
    faulty: Faulty,
) -> None:
    member = shared_credit_member(faulty)
    targets = urls(faulty)

    def burst() -> list[tuple[int, str | None]]:
        """Enough calls at once that each replica opens many pooled Redis connections."""
        with ThreadPoolExecutor(max_workers=48) as pool:
            return list(pool.map(lambda i: call(targets[i % 2], member.token), range(192)))

    assert set(burst()) == {(200, None)}
    faulty.redis.restart()
    for url in targets:
        seen = answers_until(url, member.token, lambda answer: answer[0] == 200, timeout=5)
        # Until the replica has confirmed its lease again it may refuse, for that reason only.
        assert set(seen[:-1]) <= {(503, "shared_state_unavailable")}, seen
    answers: list[Any] = []
    for _ in range(3):
        answers += burst()
    # No refusal for want of Redis (limits, budgets, the lease: all 503s). A rare 502 is
    # the simulator closing a keep-alive connection as it is reused: not this test's matter.
    assert set(answers) <= {(200, None), (502, "upstream_unreachable")}
