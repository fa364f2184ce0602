"""A fault scenario for replicas: OpenAI SDK calls while a replica dies, Redis goes away
and the upstream fails, and the figures that say whether anything was lost.

Every call carries a tag twice: in its message text (so the simulator's record of
each upstream attempt names it) and as its ``X-Request-Id`` (so its ledger rows name
it). The simulator's records are the ground truth of what went upstream; a ledger
row points at its record by ``upstream_request_id``.

A SIGKILLed replica cannot write the row of a call it had in flight: those calls
(the ones whose client saw the connection drop, and abandoned streams it may still
have been draining) are counted apart; every other upstream call must have exactly
one row.
"""

from __future__ import annotations

import asyncio
import random
import re
import secrets
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import httpx
import openai
import redis
from sqlalchemy import select, update

from chatgrid.admin import keys, orgs, people
from chatgrid.identity.models import BillingMode, Role
from chatgrid.limits.policy import OrgPolicy
from chatgrid.providers.base import Provider, UpstreamConfig
from chatgrid.store.ids import new_id
from chatgrid.store.tables import ledger_entries, plans
from chatgrid.store.tables import orgs as org_rows
from chatgrid.store.types import utcnow
from tests.support.cluster import Cluster
from tests.support.processes import ChatGridInstance
from tests.support.redis_server import OwnRedis

MODEL = "gpt-4o-mini"
CLIENT_TIMEOUT = 20.0
#: How long a replica may take to come up: imports alone took 9 s on a machine at load 10.
START_TIMEOUT = 120.0
#: How long after its client left an abandoned stream may still be drained upstream.
DRAIN_SLACK = 5.0
#: How long after its client saw the end a call may still be settling (limits, reservation).
SETTLE_SLACK = 2.0
_TAG_RE = re.compile(r"\bcall (\S+)")
_T = TypeVar("_T")


@dataclass(frozen=True)
class Tenant:
    name: str
    org_id: str
    token: str
    shared: bool
    upstream_keys: tuple[str, ...]


def byok_tenant(cluster: Cluster, policy: OrgPolicy | None) -> Tenant:
    ctx = cluster.context
    org = people.create_org(ctx, f"faults-{secrets.token_hex(3)}", BillingMode.BYOK)
    people.add_member(ctx, org.id, "ops@example.com", Role.OWNER)
    _, token = people.create_token(ctx, org.id, "ops@example.com")
    key = f"sk-faults-{secrets.token_hex(8)}"
    cluster.connect_simulator(org.id, key)
    if policy is not None:
        orgs.set_policy(ctx, org.id, policy, actor="test")
    return Tenant(org.name, org.id, token, False, (key,))


def shared_tenant(cluster: Cluster, policy: OrgPolicy) -> Tenant:
    """Shared credits on a hard-stop plan (every call reserves), with a pooled key of its own."""
    ctx = cluster.context
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
    _, token = people.create_token(ctx, org.id, "load@example.com")
    config = UpstreamConfig.create(Provider.OPENAI, base_url=f"{cluster.simulator.base_url}/v1")
    key = f"sk-pool-{secrets.token_hex(8)}"
    asyncio.run(keys.add_pool_key(ctx, f"pool-{org.id}", config, key, rpm_limit=1_000_000))
    orgs.set_policy(ctx, org.id, policy, actor="test")
    return Tenant(org.name, org.id, token, True, (key,))


@dataclass(frozen=True)
class CallSpec:
    tag: str
    tenant: Tenant
    replica: int
    stream: bool
    hang_up: bool = False  # the client closes the stream after a few chunks
    fault: str | None = None  # "500" (the upstream fails it) or "cut" (the upstream cuts it)
    tokens: int = 16

    def message(self) -> str:
        text = f"call {self.tag} [sim:tokens={self.tokens}]"
        text += " [sim:slow=10]" if self.stream else " [sim:delay=20]"
        if self.fault == "500":
            text += " [sim:500]"
        elif self.fault == "cut":
            text += " [sim:cut=3]"
        return text


def plan_calls(count: int, tenants: list[Tenant], replicas: int, seed: int) -> list[CallSpec]:
    """Half streams; a fifth of those abandoned mid-way (10% of all calls), a tenth cut
    upstream; 3% of the calls failed upstream with a 500."""
    rng = random.Random(seed)
    specs = []
    for index in range(count):
        stream = rng.random() < 0.5
        roll = rng.random()
        hang_up = stream and roll < 0.2
        fault = "cut" if stream and 0.2 <= roll < 0.3 else None
        if not hang_up and fault is None and rng.random() < 0.03:
            fault = "500"
        specs.append(
            CallSpec(
                tag=f"fault-{index:05d}",
                tenant=tenants[rng.randrange(len(tenants))],
                replica=rng.randrange(replicas),
                stream=stream,
                hang_up=hang_up,
                fault=fault,
                tokens=24 if hang_up else rng.randrange(4, 16),
            )
        )
    return specs


@dataclass
class CallResult:
    spec: CallSpec
    started: float
    ended: float
    outcome: str  # ok, hung_up, refused (an OpenAI-shaped error), connection, timeout, malformed
    status: int | None = None
    code: str | None = None
    detail: str = ""  # a connection error's cause, as httpx named it

    @property
    def seconds(self) -> float:
        return self.ended - self.started


def openai_shaped(payload: object) -> str | None:
    """The error's code when ``payload`` is ``{"error": {"message", "type", "code", ...}}``."""
    if not isinstance(payload, dict) or not isinstance(payload.get("error"), dict):
        return None
    error = payload["error"]
    if not isinstance(error.get("message"), str) or "type" not in error or "code" not in error:
        return None
    return str(error["code"])


async def _call(client: openai.AsyncOpenAI, spec: CallSpec) -> str:
    messages: Any = [{"role": "user", "content": spec.message()}]
    headers = {"X-Request-Id": spec.tag}
    if not spec.stream:
        await client.chat.completions.create(model=MODEL, messages=messages, extra_headers=headers)
        return "ok"
    stream = await client.chat.completions.create(
        model=MODEL, messages=messages, stream=True, extra_headers=headers
    )
    try:
        chunks = 0
        async for _ in stream:
            chunks += 1
            if spec.hang_up and chunks >= 3:
                return "hung_up"
        return "ok"
    finally:
        await stream.close()


async def run_call(client: openai.AsyncOpenAI, spec: CallSpec) -> CallResult:
    """One call, never raising: how it ended, and when."""
    started = time.monotonic()
    status: int | None = None
    code: str | None = None
    detail = ""
    try:
        # A guard past the client's own timeout, so a hang is counted, not waited out.
        async with asyncio.timeout(CLIENT_TIMEOUT * 2):
            outcome = await _call(client, spec)
    except (openai.APITimeoutError, TimeoutError):
        outcome = "timeout"
    except openai.APIConnectionError as exc:
        outcome = "connection"
        detail = repr(exc.__cause__)[:200]
    except openai.APIStatusError as exc:
        status = exc.status_code
        try:
            code = openai_shaped(exc.response.json())
        except ValueError:
            code = None
        outcome = "refused" if code is not None else "malformed"
    except openai.APIError as exc:  # an error event in a stream: its body is the inner error
        code = openai_shaped({"error": exc.body})
        outcome = "refused" if code is not None else "malformed"
    return CallResult(spec, started, time.monotonic(), outcome, status, code, detail)


class Clients:
    """One SDK client per (token, replica address); a restarted replica gets new ones."""

    def __init__(self) -> None:
        self._clients: dict[tuple[str, str], openai.AsyncOpenAI] = {}

    def get(self, token: str, base_url: str) -> openai.AsyncOpenAI:
        found = self._clients.get((token, base_url))
        if found is None:
            found = openai.AsyncOpenAI(
                base_url=f"{base_url}/v1", api_key=token, max_retries=0, timeout=CLIENT_TIMEOUT
            )
            self._clients[(token, base_url)] = found
        return found

    async def close(self) -> None:
        for client in self._clients.values():
            await client.close()


@dataclass
class Progress:
    """How many calls have started, and how many may: the conductor of the faults moves
    ``allowed`` on, so the load never runs past a fault that is slow to play out (a replica
    restarting on a loaded machine) and every fault falls in the middle of the load."""

    allowed: int
    started: int = 0
    faults_over_at: int | None = None  # the first call started after the last fault

    async def reach(self, count: int) -> None:
        """Wait for ``count`` started calls (the conductor allows them first)."""
        self.allowed = max(self.allowed, count)
        while self.started < count:
            await asyncio.sleep(0.02)

    def allow(self, more: int) -> None:
        self.allowed = max(self.allowed, self.started + more)

    def faults_over(self, total: int) -> None:
        self.faults_over_at = self.started
        self.allowed = total


async def drive_load(
    specs: list[CallSpec],
    replicas: list[ChatGridInstance],
    clients: Clients,
    progress: Progress,
    *,
    rate: float,
    concurrency: int,
) -> list[CallResult]:
    """Start the calls at most ``rate`` per second and ``concurrency`` at once, and none
    beyond what ``progress`` allows."""
    gate = asyncio.Semaphore(concurrency)
    next_start = time.monotonic()

    async def one(spec: CallSpec) -> CallResult:
        async with gate:
            client = clients.get(spec.tenant.token, replicas[spec.replica].base_url)
            return await run_call(client, spec)

    tasks = []
    for index, spec in enumerate(specs):
        while index >= progress.allowed or gate.locked():
            await asyncio.sleep(0.005)
        await asyncio.sleep(max(0.0, next_start - time.monotonic()))
        next_start = max(time.monotonic(), next_start) + 1 / rate
        progress.started = index + 1
        tasks.append(asyncio.create_task(one(spec)))
    return list(await asyncio.gather(*tasks))


@dataclass
class FaultTimes:
    kills: list[tuple[int, float, float]] = field(default_factory=list)  # replica, killed, back
    restart_seconds: list[float] = field(default_factory=list)
    redis_down: float = 0.0
    redis_up: float = 0.0
    recovery_seconds: dict[int, float] = field(default_factory=dict)
    unused_upstream_faults: int = 0


async def kill_and_restart(replicas: list[ChatGridInstance], index: int, times: FaultTimes) -> None:
    instance = replicas[index]
    assert instance.server is not None
    killed = time.monotonic()
    instance.server.process.kill()
    await asyncio.to_thread(instance.server.process.wait)
    # On its own address again (what its clients know), with room for a loaded machine.
    port = int(instance.base_url.rsplit(":", 1)[1])
    await asyncio.to_thread(instance.start, port=port, timeout=START_TIMEOUT)
    back = time.monotonic()
    times.kills.append((index, killed, back))
    times.restart_seconds.append(back - killed)


async def serving_again(
    clients: Clients, probe: Tenant, instance: ChatGridInstance, limit: float
) -> float:
    """Seconds until the replica answers a probe with 200 (``limit``: gave up)."""
    since = time.monotonic()
    attempt = 0
    while time.monotonic() - since < limit:
        attempt += 1
        spec = CallSpec(f"probe-{secrets.token_hex(4)}-{attempt}", probe, 0, stream=False)
        result = await run_call(clients.get(probe.token, instance.base_url), spec)
        if result.outcome == "ok":
            return time.monotonic() - since
        await asyncio.sleep(0.1)
    return limit


async def redis_outage(
    redis_server: OwnRedis,
    replicas: list[ChatGridInstance],
    clients: Clients,
    probe: Tenant,
    times: FaultTimes,
    down_for: float,
) -> None:
    times.redis_down = time.monotonic()
    await asyncio.to_thread(redis_server.kill)
    await asyncio.sleep(down_for)
    await asyncio.to_thread(redis_server.start)  # back, and empty
    times.redis_up = time.monotonic()
    waits = await asyncio.gather(
        *(serving_again(clients, probe, replica, 30.0) for replica in replicas)
    )
    times.recovery_seconds = dict(enumerate(waits))


def schedule_upstream_500s(simulator_url: str, count: int) -> None:
    """The next ``count`` upstream requests, whoever makes them, fail with a 500."""
    httpx.post(
        f"{simulator_url}/_sim/faults", json={"status": 500, "count": count}
    ).raise_for_status()


def clear_upstream_faults(simulator_url: str) -> int:
    """Drop the scheduled faults not yet used; how many requests they would have failed."""
    pending = httpx.get(f"{simulator_url}/_sim/faults").json()["pending"]
    httpx.delete(f"{simulator_url}/_sim/faults").raise_for_status()
    return sum(int(fault["count"]) for fault in pending)


def was_down_during(result: CallResult, times: FaultTimes) -> bool:
    """The call went to a replica that was killed or not yet back while it ran."""
    return any(
        index == result.spec.replica and result.started <= back and result.ended >= killed
        for index, killed, back in times.kills
    )


def in_flight_at_a_kill(result: CallResult, times: FaultTimes) -> bool:
    """Its replica was killed while it ran, or while the replica still drained its
    abandoned stream or settled it (the client has its answer before the settling)."""
    slack = DRAIN_SLACK if result.outcome == "hung_up" else SETTLE_SLACK
    return any(
        index == result.spec.replica and result.started <= killed <= result.ended + slack
        for index, killed, _ in times.kills
    )


def upstream_records(simulator_url: str, upstream_keys: Iterable[str]) -> list[dict[str, Any]]:
    wanted = set(upstream_keys)
    records = httpx.get(f"{simulator_url}/_sim/requests", timeout=60).json()["data"]
    return [r for r in records if r["api_key"] in wanted and r["path"] == "/v1/chat/completions"]


def tag_of(record: dict[str, Any]) -> str | None:
    body = record.get("body") or {}
    messages = body.get("messages") or [{}]
    found = _TAG_RE.search(str(messages[-1].get("content", "")))
    return found.group(1) if found else None


def ledger_of(cluster: Cluster, org_ids: Iterable[str]) -> list[dict[str, Any]]:
    query = select(ledger_entries).where(ledger_entries.c.org_id.in_(list(org_ids)))
    with cluster.context.engine.connect() as conn:
        return [dict(row) for row in conn.execute(query).mappings()]


def reported_usage(record: dict[str, Any]) -> bool:
    """The upstream sent its usage: a full answer, neither cut nor abandoned mid-way."""
    return (
        record["status"] == 200
        and record["usage"] is not None
        and not record["cut"]
        and not record["client_disconnected"]
    )


@dataclass
class LedgerFigures:
    upstream_calls: int = 0
    reported_usage: int = 0
    must_have_one: int = 0
    with_one: int = 0
    lost: list[str] = field(default_factory=list)
    doubled: list[str] = field(default_factory=list)
    usage_mismatch: list[str] = field(default_factory=list)
    killed_in_flight: int = 0
    killed_in_flight_ledgered: int = 0
    killed_reported_unledgered: int = 0
    rows: int = 0
    rows_without_record: Counter[str] = field(default_factory=Counter)
    outcomes: Counter[str] = field(default_factory=Counter)


def ledger_figures(
    records: list[dict[str, Any]], rows: list[dict[str, Any]], killed_tags: set[str]
) -> LedgerFigures:
    figures = LedgerFigures(upstream_calls=len(records), rows=len(rows))
    by_upstream: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        figures.outcomes[row["outcome"]] += 1
        by_upstream.setdefault(row["upstream_request_id"] or "", []).append(row)
    ids = {r["id"] for r in records}
    for upstream_id, found in by_upstream.items():
        if upstream_id not in ids:
            for row in found:
                figures.rows_without_record[row["outcome"]] += 1
    for record in records:
        found = by_upstream.get(record["id"], [])
        usage = reported_usage(record)
        figures.reported_usage += usage
        if len(found) > 1:
            figures.doubled.append(record["id"])
        if tag_of(record) in killed_tags:
            figures.killed_in_flight += 1
            figures.killed_in_flight_ledgered += bool(found)
            figures.killed_reported_unledgered += usage and not found
            continue
        figures.must_have_one += 1
        if not found:
            figures.lost.append(record["id"])
            continue
        figures.with_one += len(found) == 1
        row = found[0]
        expected = record["usage"]
        if usage and (
            row["usage_estimated"]
            or (row["prompt_tokens"], row["completion_tokens"])
            != (expected["prompt_tokens"], expected["completion_tokens"])
        ):
            figures.usage_mismatch.append(record["id"])
    return figures


def holds_left(redis_url: str, prefix: str) -> dict[str, str]:
    """Every reservation hold and in-flight concurrency entry still in Redis: id → where."""
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    found: dict[str, str] = {}
    try:
        for key in client.scan_iter(f"{prefix}:budget:held:*"):
            for hold in client.hkeys(key):
                found[str(hold)] = str(key)
        for key in client.scan_iter(f"{prefix}:limits:conc:*"):
            for entry in client.zrange(key, 0, -1):
                found[str(entry)] = str(key)
    finally:
        client.close()
    return found


def unexplained_holds(
    holds: dict[str, str], rows: list[dict[str, Any]], killed_tags: set[str]
) -> list[str]:
    """Holds that a finished call should have settled or released: a hold of a call with a
    ledger row, unless that call was in flight when its replica was killed."""
    tag_of_call = {row["call_id"]: row["request_id"] for row in rows}
    return [hold for hold in holds if hold in tag_of_call and tag_of_call[hold] not in killed_tags]


@dataclass
class Accounting:
    """What went upstream, what the ledger holds, and what Redis still holds, side by side."""

    records: list[dict[str, Any]]
    rows: list[dict[str, Any]]
    figures: LedgerFigures
    holds: dict[str, str]
    unexplained_holds: list[str]

    @property
    def complete(self) -> bool:
        return not self.figures.lost and not self.unexplained_holds


def account(
    cluster: Cluster,
    redis_url: str,
    tenants: list[Tenant],
    killed_tags: set[str],
    *,
    wait: float,
) -> Accounting:
    """The accounting, taken again until it is complete or ``wait`` seconds passed
    (an abandoned stream is drained and ledgered after its client left)."""
    deadline = time.monotonic() + wait
    while True:
        upstream_keys = [key for tenant in tenants for key in tenant.upstream_keys]
        records = upstream_records(cluster.simulator.base_url, upstream_keys)
        rows = ledger_of(cluster, [tenant.org_id for tenant in tenants])
        holds = holds_left(redis_url, cluster.context.settings.redis_prefix)
        found = Accounting(
            records,
            rows,
            ledger_figures(records, rows, killed_tags),
            holds,
            unexplained_holds(holds, rows, killed_tags),
        )
        if found.complete or time.monotonic() > deadline:
            return found
        time.sleep(0.5)


def table(lines: list[tuple[str, object]]) -> str:
    width = max(len(name) for name, _ in lines)
    rule = "-" * (width + 24)
    body = "\n".join(f"{name.ljust(width)}  {value}" for name, value in lines)
    return f"\n{rule}\nfault survival figures\n{rule}\n{body}\n{rule}"


def count_by(items: Iterable[_T], key: Callable[[_T], object]) -> str:
    counted = Counter(str(key(item)) for item in items)
    return ", ".join(f"{name}: {n}" for name, n in sorted(counted.items())) or "none"
