"""Faults survived, nothing lost: two replicas on PostgreSQL and a Redis this test owns.

About 2,000 calls through the official SDK (streaming and not, BYOK and shared
credits, spread over the replicas) while one replica is SIGKILLed and restarted
twice, Redis is stopped for a few seconds, the upstream answers 500s and cuts
streams, and a tenth of the clients hang up mid-stream. Then the figures are
printed and held to the promises: one ledger row per upstream call, no client
past its timeout, only OpenAI-shaped errors (or a refused connection to the
killed replica), refusals while Redis was away and service soon after its
return, and no reservation left held by a call that ended.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from chatgrid.limits.policy import OrgPolicy
from chatgrid.settings import Settings
from chatgrid.store.engine import create_db_engine
from chatgrid.store.migrate import upgrade_to_head
from tests.support.cluster import CHAT, Cluster, running_cluster
from tests.support.fault_scenario import (
    CLIENT_TIMEOUT,
    START_TIMEOUT,
    CallResult,
    Clients,
    FaultTimes,
    Progress,
    Tenant,
    account,
    byok_tenant,
    clear_upstream_faults,
    count_by,
    drive_load,
    in_flight_at_a_kill,
    kill_and_restart,
    plan_calls,
    redis_outage,
    schedule_upstream_500s,
    shared_tenant,
    table,
    was_down_during,
)
from tests.support.processes import RunningProcess
from tests.support.redis_server import OwnRedis
from tests.support.waiting import wait_for

# Replicas share PostgreSQL: this runs in the PostgreSQL pass of `make test`.
pytestmark = pytest.mark.postgresql_only

CALLS = 2_000
RATE = 30.0  # calls started per second, so the faults fall in the middle of the load
CONCURRENCY = 40
AHEAD = 250  # calls that may start while a fault plays out (a replica restarting)
LEASE_SECONDS = 2.0
REDIS_DOWN_SECONDS = 5.0
KILLED = 0  # the replica killed twice
SCENARIO_LIMIT = 600.0
#: Once a lease (and its margin) ran out, every call to a replica is refused until Redis is back.
REFUSING_AFTER = LEASE_SECONDS + 1.0
#: "Within a few seconds": generous for a loaded 2-core machine, far below "stuck".
SERVING_AGAIN_WITHIN = 15.0

RUNNING = {"ok", "hung_up"}


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[OwnRedis]:
    server = OwnRedis(tmp_path / "redis")
    server.start()
    try:
        yield server
    finally:
        server.kill()


@pytest.fixture
def replicas(
    tmp_path: Path, postgres_database: str | None, simulator: RunningProcess, own_redis: OwnRedis
) -> Iterator[Cluster]:
    assert postgres_database is not None
    # Migrated here, where no start-up deadline applies: on a loaded machine the first
    # replica's migration of a fresh database has outlasted its 30 s to come up.
    engine = create_db_engine(Settings(data_dir=tmp_path, database_url=postgres_database))
    try:
        upgrade_to_head(engine)
    finally:
        engine.dispose()
    with running_cluster(
        tmp_path,
        postgres_database,
        simulator,
        count=2,
        redis_url=own_redis.url,
        lease=LEASE_SECONDS,
        start_timeout=START_TIMEOUT,
    ) as cluster:
        yield cluster


def warm_up(cluster: Cluster, tenants: list[Tenant]) -> None:
    """Every replica serves every tenant before the faults begin."""
    for tenant in tenants:
        for replica in cluster.replicas:

            def served(url: str = replica.base_url, token: str = tenant.token) -> bool:
                body = {**CHAT, "messages": [{"role": "user", "content": "call warm-up"}]}
                reply = httpx.post(
                    f"{url}/v1/chat/completions",
                    json=body,
                    headers={"Authorization": f"Bearer {token}"},
                    timeout=30,
                )
                return reply.status_code == 200

            wait_for(served, timeout=20, interval=0.2)


async def scenario(
    cluster: Cluster, redis_server: OwnRedis, tenants: list[Tenant], probe: Tenant
) -> tuple[list[CallResult], list[CallResult], FaultTimes]:
    specs = plan_calls(CALLS, tenants, len(cluster.replicas), seed=13)
    clients = Clients()
    progress = Progress(allowed=300)
    times = FaultTimes()
    simulator = cluster.simulator.base_url

    async def faults() -> None:
        try:
            await progress.reach(250)
            progress.allow(AHEAD)  # calls go on while the replica is down and restarting
            await kill_and_restart(cluster.replicas, KILLED, times)
            await asyncio.to_thread(schedule_upstream_500s, simulator, 10)
            await progress.reach(progress.started + 150)
            progress.allow(AHEAD)
            await redis_outage(
                redis_server, cluster.replicas, clients, probe, times, REDIS_DOWN_SECONDS
            )
            await progress.reach(progress.started + 150)
            await asyncio.to_thread(schedule_upstream_500s, simulator, 10)
            await progress.reach(progress.started + 100)
            progress.allow(AHEAD)
            await kill_and_restart(cluster.replicas, KILLED, times)
            # The faults are over: none left pending for the calls that show service after.
            times.unused_upstream_faults = await asyncio.to_thread(clear_upstream_faults, simulator)
        finally:
            progress.faults_over(CALLS)

    try:
        conductor = asyncio.create_task(faults())
        async with asyncio.timeout(SCENARIO_LIMIT):  # a hang fails the test, never stalls it
            results = await drive_load(
                specs,
                cluster.replicas,
                clients,
                progress,
                rate=RATE,
                concurrency=CONCURRENCY,
            )
        await conductor
    finally:
        await clients.close()
    assert progress.faults_over_at is not None
    return results[progress.faults_over_at :], results, times


def test_faults_are_survived_with_nothing_lost(
    replicas: Cluster, own_redis: OwnRedis, capsys: pytest.CaptureFixture[str]
) -> None:
    cluster = replicas
    policy = OrgPolicy(org_rpm=1_000_000, member_concurrency=10_000)
    tenants = [
        byok_tenant(cluster, policy),  # its limits are counted in Redis
        byok_tenant(cluster, None),  # needs Redis for nothing but the lease
        shared_tenant(cluster, policy),  # reserves every call's worst case in Redis
        shared_tenant(cluster, policy),
    ]
    probe = byok_tenant(cluster, None)
    warm_up(cluster, [*tenants, probe])
    began = time.monotonic()
    after, results, times = asyncio.run(scenario(cluster, own_redis, tenants, probe))
    load_seconds = time.monotonic() - began

    killed_tags = {r.spec.tag for r in results if in_flight_at_a_kill(r, times)}
    accounting = account(cluster, own_redis.url, [*tenants, probe], killed_tags, wait=30)
    figures, holds, unexplained = accounting.figures, accounting.holds, accounting.unexplained_holds

    connection_errors = [r for r in results if r.outcome == "connection"]
    unexplained_connections = [r for r in connection_errors if not was_down_during(r, times)]
    malformed = [r for r in results if r.outcome == "malformed"]
    timeouts = [r for r in results if r.outcome == "timeout"]
    longest = max(r.seconds for r in results)
    past_timeout = [r for r in results if r.seconds > CLIENT_TIMEOUT]
    while_down = [
        r
        for r in results
        if r.started >= times.redis_down + REFUSING_AFTER and r.ended <= times.redis_up
    ]
    not_refused = [r for r in while_down if (r.outcome, r.status) != ("refused", 503)]
    killed_shared = sum(1 for r in results if r.spec.tag in killed_tags and r.spec.tenant.shared)

    lines: list[tuple[str, object]] = [
        ("calls (SDK, max_retries=0)", f"{len(results)} in {load_seconds:.1f} s"),
        (
            "  streaming / not",
            f"{sum(r.spec.stream for r in results)} / {sum(not r.spec.stream for r in results)}",
        ),
        (
            "  shared credits / BYOK",
            f"{sum(r.spec.tenant.shared for r in results)} / "
            f"{sum(not r.spec.tenant.shared for r in results)}",
        ),
        ("  per replica", count_by(results, lambda r: r.spec.replica)),
        ("  started after the last fault", len(after)),
        ("client outcomes", count_by(results, lambda r: r.outcome)),
        (
            "  errors seen (status, code)",
            count_by([r for r in results if r.outcome == "refused"], lambda r: (r.status, r.code)),
        ),
        ("  hung up mid-stream (by choice)", sum(r.outcome == "hung_up" for r in results)),
        (
            "replica kills (SIGKILL + restart)",
            ", ".join(f"{s:.1f} s down" for s in times.restart_seconds),
        ),
        (
            "  connection errors, replica down",
            len(connection_errors) - len(unexplained_connections),
        ),
        ("  connection errors, otherwise", len(unexplained_connections)),
        ("  scheduled upstream 500s left unused", times.unused_upstream_faults),
        ("errors not OpenAI-shaped", len(malformed)),
        ("client timeout / longest wait", f"{CLIENT_TIMEOUT:.0f} s / {longest:.2f} s"),
        ("  calls past their timeout", len(past_timeout) + len(timeouts)),
        ("redis down for", f"{times.redis_up - times.redis_down:.1f} s"),
        ("  calls while refusing (lease out)", count_by(while_down, lambda r: (r.status, r.code))),
        ("  calls not refused then", len(not_refused)),
        (
            "  serving again after its return",
            ", ".join(f"replica {i}: {s:.2f} s" for i, s in times.recovery_seconds.items()),
        ),
        ("upstream calls (simulator records)", figures.upstream_calls),
        ("  that reported usage", figures.reported_usage),
        ("  needing one ledger row / with one", f"{figures.must_have_one} / {figures.with_one}"),
        ("  lost (no row)", len(figures.lost)),
        ("  doubled (two rows or more)", len(figures.doubled)),
        ("  usage differs from upstream's", len(figures.usage_mismatch)),
        (
            "  in flight on a killed replica",
            f"{figures.killed_in_flight} "
            f"({figures.killed_in_flight_ledgered} ledgered before it died; "
            f"{figures.killed_reported_unledgered} had reported usage, no row)",
        ),
        ("ledger rows", f"{figures.rows} ({count_by(figures.outcomes.elements(), str)})"),
        ("  rows with no upstream record", dict(figures.rows_without_record) or 0),
        ("reservations / concurrency holds left", len(holds)),
        ("  of calls that ended (unsettled)", len(unexplained)),
        (
            "  of calls killed in flight (expire)",
            f"{len(holds) - len(unexplained)} (killed shared-credit calls: {killed_shared})",
        ),
    ]
    with capsys.disabled():
        print(table(lines))

    assert not figures.lost, figures.lost[:10]
    assert not figures.doubled, figures.doubled[:10]
    assert not figures.usage_mismatch, figures.usage_mismatch[:10]
    assert not unexplained_connections, [
        (r.spec.tag, r.spec.replica, r.detail) for r in unexplained_connections[:5]
    ]
    assert not malformed, [(r.spec.tag, r.status) for r in malformed[:10]]
    assert not timeouts and not past_timeout
    assert while_down, "no call fell in the time Redis was away"
    assert not not_refused, [(r.spec.tag, r.outcome, r.status, r.code) for r in not_refused[:10]]
    assert all(s < SERVING_AGAIN_WITHIN for s in times.recovery_seconds.values())
    assert not unexplained, [
        (row["request_id"], row["outcome"], row["stream"], holds[row["call_id"]])
        for row in accounting.rows
        if row["call_id"] in unexplained
    ]
    assert len(holds) - len(unexplained) <= 2 * sum(1 for r in results if r.spec.tag in killed_tags)
    # Service after the faults: the calls started once they were over all got through,
    # apart from what the test asked the upstream to do.
    tail = [r for r in after if r.spec.fault is None]
    assert tail, "no call started after the faults"
    assert all(r.outcome in RUNNING for r in tail), count_by(tail, lambda r: (r.outcome, r.code))
