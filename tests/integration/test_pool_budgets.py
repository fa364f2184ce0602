"""Pooled keys' own per-minute budgets: the choice spreads by weight and budget left,
a spent key is skipped, and when every key is spent the caller gets a clean 429."""

from __future__ import annotations

import asyncio
import json
import secrets
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import openai
import pytest

from chatgrid.admin import keys, operator
from chatgrid.audit import Actor
from chatgrid.gateway.directory import PoolTarget
from chatgrid.gateway.pool_budget import PoolBudget
from chatgrid.identity.models import BillingMode
from chatgrid.limits.shared import SharedCounters
from chatgrid.providers.base import Provider, UpstreamConfig
from chatgrid.providers.targets import build_target
from tests.support.deployment import (
    REDIS_URL,
    Deployment,
    deployment_with,
    settings_env,
    start_deployment,
)
from tests.support.ledger_checks import ledger
from tests.support.processes import ChatGridInstance, RunningProcess, instance_env

CHAT = {
    "model": "gpt-4o-mini",
    "messages": [{"role": "user", "content": "budgeted"}],
    "max_tokens": 8,
}


@pytest.fixture(params=["in-process", "redis"])
def own_deployment(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    postgres_database: str | None,
    simulator: RunningProcess,
) -> Iterator[Deployment]:
    """A fresh server (so the pool is only this test's keys), counting alone or in Redis."""
    if request.param == "in-process":
        yield from start_deployment(tmp_path, postgres_database, simulator)
        return
    # In Redis, with a roomier sync lease than the 1 s default: on a busy test
    # machine a stalled poll must not turn these calls into 503s.
    prefix = f"cgtest-budget-{secrets.token_hex(4)}"
    yield from deployment_with(
        tmp_path,
        postgres_database,
        simulator,
        {
            "CHATGRID_REDIS_URL": REDIS_URL,
            "CHATGRID_REDIS_PREFIX": prefix,
            "CHATGRID_SYNC_LEASE_SECONDS": "10",
        },
        redis_url=REDIS_URL,
        redis_prefix=prefix,
    )


def add_key(
    deployment: Deployment,
    name: str,
    *,
    weight: int = 1,
    rpm: int | None = None,
    tpm: int | None = None,
) -> str:
    """Add a pooled key on the simulator; its fingerprint (what the ledger records)."""
    config = UpstreamConfig.create(Provider.OPENAI, base_url=f"{deployment.simulator.base_url}/v1")
    stored = asyncio.run(
        keys.add_pool_key(
            deployment.context,
            name,
            config,
            f"sk-{name}-{secrets.token_hex(8)}",
            weight=weight,
            rpm_limit=rpm,
            tpm_limit=tpm,
        )
    )
    return stored.sealed.fingerprint


def served_by(deployment: Deployment, org_id: str) -> Counter[str]:
    return Counter(
        e["credential_fingerprint"] for e in ledger(deployment, org_id) if e["outcome"] == "ok"
    )


def test_traffic_spreads_over_keys_and_all_spent_gives_a_clean_429(
    own_deployment: Deployment,
) -> None:
    deployment = own_deployment
    first = add_key(deployment, "first", rpm=3)
    second = add_key(deployment, "second", rpm=3)
    org = deployment.new_org(BillingMode.SHARED)
    client = openai.OpenAI(base_url=deployment.v1, api_key=org.token, max_retries=0)
    for _ in range(6):
        assert client.chat.completions.create(**CHAT).choices  # type: ignore[call-overload]
    assert served_by(deployment, org.id) == {first: 3, second: 3}
    with pytest.raises(openai.RateLimitError) as caught:
        client.chat.completions.create(**CHAT)  # type: ignore[call-overload]
    response = caught.value.response
    assert response.status_code == 429
    assert 1 <= int(response.headers["retry-after"]) <= 60
    error = response.json()["error"]
    assert error["type"] == "rate_limit_error" and error["code"] == "rate_limit_exceeded"
    assert "org-" not in response.text and "first" not in response.text
    # Nothing reached the upstream beyond its budget: no failover, no upstream 429.
    outcomes = Counter(e["outcome"] for e in ledger(deployment, org.id))
    assert outcomes == {"ok": 6}


def test_a_spent_key_is_skipped_even_when_it_weighs_more(own_deployment: Deployment) -> None:
    deployment = own_deployment
    heavy = add_key(deployment, "heavy", weight=50, rpm=1)
    light = add_key(deployment, "light", weight=1, rpm=100)
    org = deployment.new_org(BillingMode.SHARED)
    client = openai.OpenAI(base_url=deployment.v1, api_key=org.token, max_retries=0)
    for _ in range(8):
        client.chat.completions.create(**CHAT)  # type: ignore[call-overload]
    served = served_by(deployment, org.id)
    assert served[heavy] == 1
    assert served[light] == 7


def test_a_key_whose_tokens_are_spent_is_skipped(own_deployment: Deployment) -> None:
    deployment = own_deployment
    small = add_key(deployment, "small", weight=50, tpm=5)  # one call uses it up
    roomy = add_key(deployment, "roomy", weight=1)
    org = deployment.new_org(BillingMode.SHARED)
    client = openai.OpenAI(base_url=deployment.v1, api_key=org.token, max_retries=0)
    for _ in range(6):
        client.chat.completions.create(**CHAT)  # type: ignore[call-overload]
    served = served_by(deployment, org.id)
    assert served[small] == 1
    assert served[roomy] == 5


def test_a_byok_org_is_never_affected_by_spent_pool_budgets(own_deployment: Deployment) -> None:
    deployment = own_deployment
    add_key(deployment, "only", rpm=1)
    shared = deployment.new_org(BillingMode.SHARED)
    byok = deployment.new_org(BillingMode.BYOK)
    shared_client = openai.OpenAI(base_url=deployment.v1, api_key=shared.token, max_retries=0)
    shared_client.chat.completions.create(**CHAT)  # type: ignore[call-overload]
    with pytest.raises(openai.RateLimitError):
        shared_client.chat.completions.create(**CHAT)  # type: ignore[call-overload]
    byok_client = openai.OpenAI(base_url=deployment.v1, api_key=byok.token, max_retries=0)
    for _ in range(5):
        assert byok_client.chat.completions.create(**CHAT).choices  # type: ignore[call-overload]
    entries = ledger(deployment, byok.id)
    assert [e["outcome"] for e in entries] == ["ok"] * 5
    assert all(e["mode"] == "byok" for e in entries)


def test_raising_a_budget_takes_effect_at_once(own_deployment: Deployment) -> None:
    deployment = own_deployment
    add_key(deployment, "tight", rpm=1)
    org = deployment.new_org(BillingMode.SHARED)
    client = openai.OpenAI(base_url=deployment.v1, api_key=org.token, max_retries=0)
    client.chat.completions.create(**CHAT)  # type: ignore[call-overload]
    with pytest.raises(openai.RateLimitError):
        client.chat.completions.create(**CHAT)  # type: ignore[call-overload]
    operator.set_pool_budget(
        deployment.context, Actor.cli(), "tight", weight=1, rpm_limit=5, tpm_limit=None
    )
    assert client.chat.completions.create(**CHAT).choices  # type: ignore[call-overload]


def test_replicas_share_one_key_budget_through_redis() -> None:
    """Two gateways' budgets on one Redis: what one replica used, the other cannot use."""

    async def scenario() -> tuple[list[bool], list[bool], float]:
        prefix = f"cgtest-budget-{secrets.token_hex(4)}"
        target = PoolTarget(
            key_id="pool_shared",
            target=build_target(UpstreamConfig.create(Provider.OPENAI), "sk-x", "fp"),
            weight=1,
            models=frozenset(),
            rpm_limit=3,
        )
        one = PoolBudget(SharedCounters(REDIS_URL, prefix, 60))
        two = PoolBudget(SharedCounters(REDIS_URL, prefix, 60))
        try:
            first = [await one.admit(target, f"call_a{n}") for n in range(2)]
            second = [await two.admit(target, f"call_b{n}") for n in range(2)]
            return first, second, two.headroom(target)
        finally:
            await one.counters.close()
            await two.counters.close()

    first, second, left = asyncio.run(scenario())
    assert first == [True, True]
    assert second == [True, False]  # the third call fits, the fourth is one too many
    assert left == 0  # and the refused replica sets the key aside without asking again


def test_the_cli_adds_and_changes_a_pooled_keys_budget(
    tmp_path: Path, postgres_database: str | None, simulator: RunningProcess
) -> None:
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    admin = ChatGridInstance(
        env=instance_env(settings_env(data_dir, postgres_database)), data_dir=data_dir
    )

    def run(*args: str, input: str | None = None) -> dict[str, object]:
        result = admin.cli(*args, input=input)
        assert result.returncode == 0, result.stderr
        answer = json.loads(result.stdout)
        assert isinstance(answer, dict)
        return answer

    base = f"{simulator.base_url}/v1"
    added = run(
        "pool",
        "add",
        "k1",
        "--base-url",
        base,
        "--rpm",
        "500",
        "--tpm",
        "90000",
        input="sk-pool-cli-budget-123456",
    )
    assert (added["rpm_limit"], added["tpm_limit"], added["weight"]) == (500, 90000, 1)
    assert "sk-pool-cli-budget-123456" not in json.dumps(added)
    changed = run("pool", "set", "k1", "--rpm", "800", "--no-tpm", "--weight", "2")
    assert (changed["rpm_limit"], changed["tpm_limit"], changed["weight"]) == (800, None, 2)
    kept = run("pool", "set", "k1", "--tpm", "1000")
    assert (kept["rpm_limit"], kept["tpm_limit"], kept["weight"]) == (800, 1000, 2)
    refused = admin.cli("pool", "set", "k1", "--rpm", "0")
    assert refused.returncode != 0 and "rpm_limit" in refused.stderr
    missing = admin.cli("pool", "set", "nope", "--rpm", "5")
    assert missing.returncode != 0 and "no such pooled key" in missing.stderr
    plan = run("plan", "update", "Standard", "--seat-price", "6", "--overage")
    assert plan["seat_price_usd"] == "6.000000" and plan["overage"] is True
    assert plan["markup_bps"] == 2000  # left out: kept
