"""The rest of Anthropic's API for the official ``anthropic`` SDK, over real HTTP.

Its ``anthropic-version`` and ``anthropic-beta`` headers reach Anthropic (and
no other header does), ``messages.count_tokens`` is answered through the org's
Anthropic key (limited, never charged or ledgered), and a Claude model sent to
an endpoint Claude does not answer is a plain 400 naming that endpoint.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Callable, Iterator
from functools import partialmethod
from typing import Any

import anthropic
import httpx
import openai
import pytest
from anthropic._constants import ANTHROPIC_API_VERSION

from chatgrid.admin import keys, orgs
from chatgrid.identity.models import BillingMode
from chatgrid.limits.policy import OrgPolicy
from chatgrid.providers.base import Provider, UpstreamConfig
from tests.support.deployment import DatabaseFactory, Deployment, OrgHandle, start_deployment
from tests.support.ledger_checks import ledger
from tests.support.processes import ChatGridInstance, RunningProcess

CLAUDE = "claude-sonnet-4-5-20250929"
BETAS = ["prompt-caching-2024-07-31", "context-1m-2025-08-07"]
HELLO: Any = [{"role": "user", "content": "hello there, count me"}]


@pytest.fixture(scope="module")
def deployment(
    tmp_path_factory: pytest.TempPathFactory,
    new_database: DatabaseFactory,
    simulator: RunningProcess,
) -> Iterator[Deployment]:
    """The shared fixture's server, given two minutes to come up on a loaded machine."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(ChatGridInstance, "start", partialmethod(ChatGridInstance.start, timeout=120))
        yield from start_deployment(
            tmp_path_factory.mktemp("deployment"), new_database(), simulator
        )


def claude_org(deployment: Deployment) -> tuple[OrgHandle, str]:
    """An org with its OpenAI key and an Anthropic key (returned)."""
    org = deployment.new_org()
    key = f"sk-ant-{secrets.token_hex(8)}"
    deployment.connect(org.id, key, provider="anthropic", base_url=deployment.simulator.base_url)
    return org, key


def sdk(deployment: Deployment, token: str) -> anthropic.Anthropic:
    return anthropic.Anthropic(base_url=deployment.instance.base_url, api_key=token, max_retries=0)


def records_of(deployment: Deployment, key: str) -> list[dict[str, Any]]:
    """The calls ``key`` made (not the model listings of its connection)."""
    records = deployment.simulator_records()
    return [r for r in records if r["api_key"] == key and r["method"] == "POST"]


def test_the_sdks_betas_and_version_reach_anthropic(deployment: Deployment) -> None:
    org, key = claude_org(deployment)
    client = sdk(deployment, org.token)
    message = client.beta.messages.create(model=CLAUDE, max_tokens=50, messages=HELLO, betas=BETAS)
    assert message.type == "message" and message.usage.output_tokens > 0
    with client.beta.messages.stream(
        model=CLAUDE, max_tokens=50, messages=HELLO, betas=BETAS[:1]
    ) as stream:
        streamed = stream.get_final_message()
    assert streamed.usage.output_tokens > 0
    older = client.messages.create(
        model=CLAUDE,
        max_tokens=50,
        messages=HELLO,
        extra_headers={"anthropic-version": "2023-01-01"},
    )
    assert older.type == "message"
    plain = client.messages.create(model=CLAUDE, max_tokens=50, messages=HELLO)
    assert plain.type == "message"
    sent = [r["headers"] for r in records_of(deployment, key) if r["path"] == "/v1/messages"]
    assert [h.get("anthropic-beta") for h in sent] == [",".join(BETAS), BETAS[0], None, None]
    versions = [h["anthropic-version"] for h in sent]
    sdks = ANTHROPIC_API_VERSION  # the SDK's own, not the gateway's default
    assert versions == [sdks, sdks, "2023-01-01", sdks]
    entries = ledger(deployment, org.id)
    assert len(entries) == 4 and {e["outcome"] for e in entries} == {"ok"}


def test_a_malformed_version_or_beta_is_refused_and_nothing_else_is_forwarded(
    deployment: Deployment,
) -> None:
    org, key = claude_org(deployment)
    client = sdk(deployment, org.token)
    for wrong in (
        {"anthropic-version": "latest"},
        {"anthropic-beta": "files-api-2025-04-14, not a beta!"},
        {"anthropic-beta": "x-api-key=sk-stolen"},
        {"anthropic-beta": ",".join(f"beta-{n}" for n in range(21))},
    ):
        with pytest.raises(anthropic.BadRequestError) as refused:
            client.messages.create(model=CLAUDE, max_tokens=50, messages=HELLO, extra_headers=wrong)
        error = refused.value.body["error"]  # type: ignore[index]
        assert error["type"] == "invalid_request_error"
        assert next(iter(wrong)) in error["message"]
    assert records_of(deployment, key) == [] and ledger(deployment, org.id) == []
    client.messages.create(
        model=CLAUDE,
        max_tokens=50,
        messages=HELLO,
        extra_headers={
            "anthropic-beta": "files-api-2025-04-14",
            "x-forwarded-host": "elsewhere.example",
            "anthropic-organization-id": "someone-else",
            "x-stainless-custom": "1",
        },
    )
    [record] = records_of(deployment, key)
    assert record["headers"]["anthropic-beta"] == "files-api-2025-04-14"
    for name in ("x-forwarded-host", "anthropic-organization-id", "x-stainless-custom"):
        assert name not in record["headers"]


def test_count_tokens_goes_through_the_orgs_key_and_is_not_ledgered(
    deployment: Deployment,
) -> None:
    org, key = claude_org(deployment)
    client = sdk(deployment, org.token)
    counted = client.messages.count_tokens(model=CLAUDE, system="Be brief.", messages=HELLO)
    assert isinstance(counted, anthropic.types.MessageTokensCount)
    sent = client.messages.create(model=CLAUDE, max_tokens=50, system="Be brief.", messages=HELLO)
    assert counted.input_tokens == sent.usage.input_tokens > 0
    beta = client.beta.messages.count_tokens(model=CLAUDE, messages=HELLO, betas=BETAS[:1])
    assert beta.input_tokens > 0
    counts = [r for r in records_of(deployment, key) if r["path"] == "/v1/messages/count_tokens"]
    assert [r["status"] for r in counts] == [200, 200]
    assert BETAS[0] in counts[1]["headers"]["anthropic-beta"].split(",")
    [entry] = ledger(deployment, org.id)  # the message only: a count costs nothing
    assert entry["endpoint"] == "messages"


def test_count_tokens_takes_a_bearer_token_and_refuses_a_wrong_one(
    deployment: Deployment,
) -> None:
    org, _ = claude_org(deployment)
    url = f"{deployment.v1}/messages/count_tokens"
    body = {"model": CLAUDE, "messages": HELLO}
    answer = httpx.post(url, json=body, headers={"Authorization": f"Bearer {org.token}"})
    assert answer.status_code == 200 and set(answer.json()) == {"input_tokens"}
    with pytest.raises(anthropic.AuthenticationError) as refused:
        sdk(deployment, "cgk_not-a-token").messages.count_tokens(model=CLAUDE, messages=HELLO)
    assert refused.value.body["error"]["type"] == "authentication_error"  # type: ignore[index]
    missing = httpx.post(url, content=b"not json", headers={"x-api-key": org.token})
    assert missing.status_code == 400
    assert missing.json()["error"]["type"] == "invalid_request_error"
    wrong_method = httpx.get(url, headers={"x-api-key": org.token})
    assert wrong_method.status_code == 405 and wrong_method.json()["type"] == "error"


def test_count_tokens_follows_the_orgs_model_rules(deployment: Deployment) -> None:
    org, key = claude_org(deployment)
    policy = OrgPolicy(allowed_models=frozenset({CLAUDE, "gpt-4o-mini"}))
    orgs.set_policy(deployment.context, org.id, policy, actor="test")
    client = sdk(deployment, org.token)
    with pytest.raises(anthropic.PermissionDeniedError) as not_allowed:
        client.messages.count_tokens(model="claude-opus-4-5-20251101", messages=HELLO)
    assert not_allowed.value.body["error"]["type"] == "permission_error"  # type: ignore[index]
    with pytest.raises(anthropic.BadRequestError) as not_claude:
        client.messages.count_tokens(model="gpt-4o-mini", messages=HELLO)
    assert "Claude" in str(not_claude.value)
    assert records_of(deployment, key) == []
    assert client.messages.count_tokens(model=CLAUDE, messages=HELLO).input_tokens > 0


def test_count_tokens_counts_against_rate_limits(deployment: Deployment) -> None:
    org, key = claude_org(deployment)
    orgs.set_policy(deployment.context, org.id, OrgPolicy(member_rpm=2), actor="test")
    client = sdk(deployment, org.token)
    for _ in range(2):
        client.messages.count_tokens(model=CLAUDE, messages=HELLO)
    with pytest.raises(anthropic.RateLimitError) as limited:
        client.messages.count_tokens(model=CLAUDE, messages=HELLO)
    assert limited.value.body["error"]["type"] == "rate_limit_error"  # type: ignore[index]
    assert len(records_of(deployment, key)) == 2
    assert ledger(deployment, org.id) == []


def test_count_tokens_upstream_failures_are_anthropic_errors_never_a_500(
    deployment: Deployment,
) -> None:
    org, key = claude_org(deployment)
    client = sdk(deployment, org.token)
    simulator = deployment.simulator.base_url
    for status in (500, 503):  # the simulator's 503 is Anthropic's 529 overloaded_error
        httpx.post(f"{simulator}/_sim/faults", json={"status": status, "count": 1})
        with pytest.raises(anthropic.APIStatusError) as failed:
            client.messages.count_tokens(model=CLAUDE, messages=HELLO)
        assert failed.value.status_code == 502
        assert failed.value.body["type"] == "error"  # type: ignore[index]
    httpx.post(f"{simulator}/_sim/faults", json={"status": 429, "count": 1, "retry_after": 7})
    with pytest.raises(anthropic.RateLimitError) as limited:
        client.messages.count_tokens(model=CLAUDE, messages=HELLO)
    assert limited.value.response.headers["retry-after"] == "7"
    with pytest.raises(anthropic.NotFoundError):  # Anthropic's own 404, passed on
        client.messages.count_tokens(model="claude-no-such-model", messages=HELLO)
    httpx.post(f"{simulator}/_sim/keys/revoke", json={"key": key})
    with pytest.raises(anthropic.PermissionDeniedError, match="Anthropic key"):
        client.messages.count_tokens(model=CLAUDE, messages=HELLO)
    statuses = {
        k.config.provider.value: k.status for k in deployment.context.credentials.active(org.id)
    }
    assert statuses == {"openai": "active", "anthropic": "broken"}
    assert ledger(deployment, org.id) == []


def test_a_shared_credit_org_counts_through_the_pool_free_of_charge(
    deployment: Deployment,
) -> None:
    pool_key = f"sk-ant-pool-{secrets.token_hex(6)}"
    config = UpstreamConfig.create(Provider.ANTHROPIC, base_url=deployment.simulator.base_url)
    asyncio.run(keys.add_pool_key(deployment.context, "pool-anthropic-count", config, pool_key))
    org = deployment.new_org(BillingMode.SHARED)
    counted = sdk(deployment, org.token).messages.count_tokens(model=CLAUDE, messages=HELLO)
    assert counted.input_tokens > 0
    [record] = records_of(deployment, pool_key)
    assert record["path"] == "/v1/messages/count_tokens"
    assert ledger(deployment, org.id) == []


MEDIA: dict[str, Callable[[openai.OpenAI], object]] = {
    "/v1/images/generations": lambda c: c.images.generate(model=CLAUDE, prompt="a cat"),
    "/v1/audio/speech": lambda c: c.audio.speech.create(model=CLAUDE, voice="alloy", input="hi"),
    "/v1/audio/transcriptions": lambda c: c.audio.transcriptions.create(
        model=CLAUDE, file=("a.wav", b"RIFF\x00\x00\x00\x00WAVE")
    ),
    "/v1/moderations": lambda c: c.moderations.create(model=CLAUDE, input="hi"),
    "/v1/embeddings": lambda c: c.embeddings.create(model=CLAUDE, input="hi"),
    "/v1/responses": lambda c: c.responses.create(model=CLAUDE, input="hi"),
}


@pytest.mark.parametrize("path", sorted(MEDIA))
def test_a_claude_model_on_an_endpoint_claude_does_not_answer_is_a_plain_400(
    deployment: Deployment, path: str
) -> None:
    org, key = claude_org(deployment)
    client = openai.OpenAI(base_url=deployment.v1, api_key=org.token, max_retries=0)
    with pytest.raises(openai.BadRequestError) as refused:
        MEDIA[path](client)
    assert refused.value.code == "model_not_supported"
    assert refused.value.param == "model"
    assert f"{CLAUDE} does not support {path}" in refused.value.message
    assert records_of(deployment, key) == [] and ledger(deployment, org.id) == []
