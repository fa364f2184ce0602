"""Shared credits: pooled keys fail over before the first byte, and cool down."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import openai
import pytest

from chatgrid.identity.models import BillingMode
from tests.support.deployment import Deployment, add_pool_keys, start_deployment
from tests.support.ledger_checks import ledger
from tests.support.processes import RunningProcess

CHAT = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "pooled"}]}


@pytest.fixture
def own_deployment(
    tmp_path: Path, postgres_database: str | None, simulator: RunningProcess
) -> Iterator[Deployment]:
    yield from start_deployment(tmp_path, postgres_database, simulator)


def schedule_fault(deployment: Deployment, status: int, count: int = 1) -> None:
    httpx.post(
        f"{deployment.simulator.base_url}/_sim/faults",
        json={"status": status, "count": count, "retry_after": 30},
    )


@pytest.mark.parametrize("status", [429, 500, 503])
def test_a_failing_pooled_key_fails_over_to_another(
    own_deployment: Deployment, status: int
) -> None:
    deployment = own_deployment
    add_pool_keys(deployment, 2)
    org = deployment.new_org(BillingMode.SHARED)
    client = openai.OpenAI(base_url=deployment.v1, api_key=org.token, max_retries=0)
    schedule_fault(deployment, status)
    reply = client.chat.completions.create(**CHAT)  # type: ignore[call-overload]
    assert reply.choices[0].message.content
    failed, served = ledger(deployment, org.id)
    assert failed["outcome"] == "pool_key_failover" and failed["status_code"] == status
    assert failed["charged_micros"] == 0
    assert served["outcome"] == "ok"
    assert failed["credential_fingerprint"] != served["credential_fingerprint"]


def test_a_rate_limited_key_cools_down_and_is_avoided(own_deployment: Deployment) -> None:
    deployment = own_deployment
    add_pool_keys(deployment, 2)
    org = deployment.new_org(BillingMode.SHARED)
    client = openai.OpenAI(base_url=deployment.v1, api_key=org.token, max_retries=0)
    schedule_fault(deployment, 429)
    client.chat.completions.create(**CHAT)  # type: ignore[call-overload]
    cooled = ledger(deployment, org.id)[0]["credential_fingerprint"]
    for _ in range(6):
        client.chat.completions.create(**CHAT)  # type: ignore[call-overload]
    later = [e["credential_fingerprint"] for e in ledger(deployment, org.id)[2:]]
    assert cooled not in later


def test_with_no_other_key_the_upstream_429_reaches_the_caller(
    own_deployment: Deployment,
) -> None:
    deployment = own_deployment
    add_pool_keys(deployment, 1)
    org = deployment.new_org(BillingMode.SHARED)
    client = openai.OpenAI(base_url=deployment.v1, api_key=org.token, max_retries=0)
    schedule_fault(deployment, 429)
    with pytest.raises(openai.RateLimitError) as caught:
        client.chat.completions.create(**CHAT)  # type: ignore[call-overload]
    assert caught.value.response.headers["retry-after"] == "30"
    assert "org-" not in str(caught.value)  # the operator's OpenAI org is not named
