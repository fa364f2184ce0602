"""Limits and allowed models an admin sets, enforced on a running server."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import httpx
import openai
import pytest

from chatgrid.admin import orgs
from chatgrid.limits.policy import OrgPolicy
from tests.support.deployment import Deployment
from tests.support.ledger_checks import ledger

CHAT = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]}


def test_member_requests_per_minute_are_enforced_with_retry_after(
    deployment: Deployment,
) -> None:
    org = deployment.new_org()
    orgs.set_policy(deployment.context, org.id, OrgPolicy(member_rpm=3), actor="test")
    client = openai.OpenAI(base_url=deployment.v1, api_key=org.token, max_retries=0)
    for _ in range(3):
        client.chat.completions.create(**CHAT)  # type: ignore[call-overload]
    with pytest.raises(openai.RateLimitError, match="3 requests per minute") as caught:
        client.chat.completions.create(**CHAT)  # type: ignore[call-overload]
    assert 1 <= int(caught.value.response.headers["retry-after"]) <= 60
    assert len(ledger(deployment, org.id)) == 3  # the refused call never went upstream


def test_only_allowed_models_can_be_called_or_listed(deployment: Deployment) -> None:
    org = deployment.new_org()
    policy = OrgPolicy(allowed_models=frozenset({"gpt-4o-mini", "text-embedding-3-small"}))
    orgs.set_policy(deployment.context, org.id, policy, actor="test")
    client = openai.OpenAI(base_url=deployment.v1, api_key=org.token, max_retries=0)
    assert {m.id for m in client.models.list()} == {"gpt-4o-mini", "text-embedding-3-small"}
    client.chat.completions.create(**CHAT)  # type: ignore[call-overload]
    with pytest.raises(openai.PermissionDeniedError, match="not enabled"):
        client.chat.completions.create(model="gpt-4o", messages=CHAT["messages"])  # type: ignore[arg-type]


def test_concurrent_calls_per_member_are_capped(deployment: Deployment) -> None:
    org = deployment.new_org()
    orgs.set_policy(deployment.context, org.id, OrgPolicy(member_concurrency=2), actor="test")
    slow = {
        "model": "gpt-4o-mini",
        "messages": [{"role": "user", "content": "wait [sim:delay=1500]"}],
    }
    headers = {"Authorization": f"Bearer {org.token}"}

    def call(_: int) -> int:
        return httpx.post(
            f"{deployment.v1}/chat/completions", json=slow, headers=headers, timeout=30
        ).status_code

    with ThreadPoolExecutor(max_workers=5) as pool:
        statuses = sorted(pool.map(call, range(5)))
    assert statuses == [200, 200, 429, 429, 429]
    # Slots are given back: the next call passes.
    assert call(0) == 200


def test_clearing_limits_takes_effect_at_once(deployment: Deployment) -> None:
    org = deployment.new_org()
    orgs.set_policy(deployment.context, org.id, OrgPolicy(org_rpm=1), actor="test")
    client = openai.OpenAI(base_url=deployment.v1, api_key=org.token, max_retries=0)
    client.chat.completions.create(**CHAT)  # type: ignore[call-overload]
    with pytest.raises(openai.RateLimitError):
        client.chat.completions.create(**CHAT)  # type: ignore[call-overload]
    orgs.set_policy(deployment.context, org.id, OrgPolicy(), actor="test")
    client.chat.completions.create(**CHAT)  # type: ignore[call-overload]


def test_operator_limits_apply_to_shared_credit_orgs_on_top_of_the_admins(
    deployment: Deployment,
) -> None:
    from chatgrid.identity.models import BillingMode
    from tests.support.deployment import add_pool_keys

    if not deployment.context.pool.list():
        add_pool_keys(deployment, 1)
    shared = deployment.new_org(BillingMode.SHARED)
    byok = deployment.new_org()
    for org in (shared, byok):
        orgs.set_operator_policy(deployment.context, org.id, OrgPolicy(member_rpm=2))
    orgs.set_policy(deployment.context, shared.id, OrgPolicy(member_rpm=50), actor="test")
    client = openai.OpenAI(base_url=deployment.v1, api_key=shared.token, max_retries=0)
    for _ in range(2):
        client.chat.completions.create(**CHAT)  # type: ignore[call-overload]
    with pytest.raises(openai.RateLimitError, match="set by ChatGrid's operator"):
        client.chat.completions.create(**CHAT)  # type: ignore[call-overload]
    # A BYOK org pays OpenAI itself: the operator's shared-credit limits do not apply.
    own = openai.OpenAI(base_url=deployment.v1, api_key=byok.token, max_retries=0)
    for _ in range(3):
        own.chat.completions.create(**CHAT)  # type: ignore[call-overload]
