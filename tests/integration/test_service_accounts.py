"""A service account's token through the official OpenAI SDK, against a real server and the
simulator: ledgered and limited as the account itself, refused the moment it is revoked."""

from __future__ import annotations

from datetime import timedelta

import httpx
import openai
import pytest
from openai.types.chat import ChatCompletionMessageParam

from chatgrid.admin import orgs
from chatgrid.admin import service_accounts as sa
from chatgrid.analytics.usage import UsageRow, by_member
from chatgrid.audit import Actor
from chatgrid.identity.tokens import member_user_tag
from chatgrid.limits.policy import OrgPolicy
from chatgrid.store.service_accounts import ServiceAccount
from tests.support.deployment import Deployment, OrgHandle
from tests.support.ledger_checks import ledger, records_by_id

MESSAGES: list[ChatCompletionMessageParam] = [{"role": "user", "content": "Hello there"}]


def sdk(deployment: Deployment, token: str) -> openai.OpenAI:
    return openai.OpenAI(base_url=deployment.v1, api_key=token, max_retries=0)


def account_of(
    deployment: Deployment, org: OrgHandle, name: str, scope: str
) -> tuple[ServiceAccount, str]:
    found = deployment.context.orgs.by_id(org.id)
    return sa.create_service_account(deployment.context, found, Actor.cli(), name, scope)


def test_a_v1_token_calls_v1_and_its_ledger_row_names_the_service_account(
    deployment: Deployment,
) -> None:
    org = deployment.new_org()
    account, token = account_of(deployment, org, "nightly-evals", "v1")
    reply = sdk(deployment, token).chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
    assert reply.choices[0].message.content

    [entry] = ledger(deployment, org.id)
    assert (entry["member_id"], entry["token_id"]) == (account.id, account.token_id)
    assert entry["member_email"] == "service-account:nightly-evals"
    record = records_by_id(deployment)[entry["upstream_request_id"]]
    assert record["body"]["user"] == member_user_tag(account.id)
    [call] = deployment.context.usage.calls(org.id)
    assert call["member_email"] == "service-account:nightly-evals"
    assert call["token_prefix"] == token[:12]
    found = deployment.context.usage.analytics_rows(
        org.id, since=entry["started_at"], until=entry["started_at"] + timedelta(seconds=1)
    )
    rows = [UsageRow.from_mapping(r) for r in found]
    assert [b.label for b in by_member(rows)] == ["service-account:nightly-evals"]


def test_an_admin_token_is_refused_on_v1(deployment: Deployment) -> None:
    org = deployment.new_org()
    _, token = account_of(deployment, org, "ops", "admin")
    with pytest.raises(openai.AuthenticationError):
        sdk(deployment, token).chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
    assert ledger(deployment, org.id) == []


def test_a_revoked_or_rotated_token_is_refused_as_soon_as_the_action_returns(
    deployment: Deployment,
) -> None:
    org = deployment.new_org()
    account, first = account_of(deployment, org, "batch", "v1")
    found = deployment.context.orgs.by_id(org.id)
    client = sdk(deployment, first)
    client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)  # now cached
    _, second = sa.rotate_service_account(deployment.context, found, Actor.cli(), account.id)
    with pytest.raises(openai.AuthenticationError):
        client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
    sdk(deployment, second).chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
    sa.revoke_service_account(deployment.context, found, Actor.cli(), account.id)
    with pytest.raises(openai.AuthenticationError):
        sdk(deployment, second).chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)


def test_per_member_limits_count_the_service_account_as_one_member_of_its_own(
    deployment: Deployment,
) -> None:
    org = deployment.new_org()
    _, token = account_of(deployment, org, "limited", "v1")
    orgs.set_policy(deployment.context, org.id, OrgPolicy(member_rpm=1), actor="test")
    sdk(deployment, token).chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
    with pytest.raises(openai.RateLimitError):
        sdk(deployment, token).chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
    # The member's own token has a budget of its own.
    reply = httpx.post(
        f"{deployment.v1}/chat/completions",
        json={"model": "gpt-4o-mini", "messages": MESSAGES},
        headers={"Authorization": f"Bearer {org.token}"},
    )
    assert reply.status_code == 200
