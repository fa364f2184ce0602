"""Claude through ChatGrid: the official SDKs against ``chatgrid serve``, the simulated
Messages API upstream, one exact ledger row per call.

Each test's org has an OpenAI key and an Anthropic key; a Claude model goes to
the Anthropic key, translated from chat completions (or passed through on
``/v1/messages``), and its row is priced as Anthropic prices it.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Iterator
from functools import partialmethod
from typing import Any

import anthropic
import httpx
import openai
import pytest

from chatgrid.admin import keys
from chatgrid.identity.models import BillingMode
from chatgrid.providers.base import Provider, UpstreamConfig
from tests.support.deployment import DatabaseFactory, Deployment, OrgHandle, start_deployment
from tests.support.ledger_checks import ledger, records_by_id
from tests.support.processes import ChatGridInstance, RunningProcess
from tests.support.waiting import wait_for

CLAUDE = "claude-sonnet-4-5-20250929"
#: claude-sonnet-4-5 in micro-dollars per 1M tokens: input, cache read, 5-minute write, output.
INPUT, CACHE_READ, CACHE_WRITE, OUTPUT = 3_000_000, 300_000, 3_750_000, 15_000_000
WEATHER: Any = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "The weather in a city.",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
    },
}


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


def sdk(deployment: Deployment, org: OrgHandle) -> openai.OpenAI:
    return openai.OpenAI(base_url=deployment.v1, api_key=org.token, max_retries=0)


def record_of(deployment: Deployment, entry: dict[str, Any]) -> dict[str, Any]:
    return records_by_id(deployment)[entry["upstream_request_id"]]


def assert_row_is_the_upstreams(deployment: Deployment, entry: dict[str, Any]) -> dict[str, Any]:
    """The row carries the simulator's four counts and Anthropic's price for them, exactly."""
    usage = record_of(deployment, entry)["usage"]
    assert entry["provider"] == "anthropic"
    assert not entry["usage_estimated"]
    assert entry["prompt_tokens"] == usage["prompt_tokens"]
    assert entry["cached_tokens"] == usage["cache_read_input_tokens"]
    assert entry["completion_tokens"] == usage["output_tokens"]
    assert entry["cache_write_tokens"] == usage["cache_creation_input_tokens"]
    exact = (
        usage["input_tokens"] * INPUT
        + usage["cache_read_input_tokens"] * CACHE_READ
        + usage["cache_creation_input_tokens"] * CACHE_WRITE
        + usage["output_tokens"] * OUTPUT
    )
    assert entry["list_cost_micros"] == (exact + 500_000) // 1_000_000
    return dict(usage)


def test_a_claude_completion_is_answered_and_ledgered_exactly(deployment: Deployment) -> None:
    org, key = claude_org(deployment)
    answer = sdk(deployment, org).chat.completions.create(
        model=CLAUDE,
        messages=[
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": "hello there [sim:tokens=7]"},
        ],
    )
    assert answer.object == "chat.completion"
    assert answer.choices[0].message.content
    assert answer.choices[0].finish_reason == "stop"
    assert answer.usage is not None and answer.usage.completion_tokens == 7
    [entry] = ledger(deployment, org.id)
    assert record_of(deployment, entry)["api_key"] == key
    assert entry["outcome"] == "ok" and entry["model"] == CLAUDE
    assert_row_is_the_upstreams(deployment, entry)
    assert answer.usage.prompt_tokens == entry["prompt_tokens"]


def test_a_claude_stream_comes_as_chunks_and_is_ledgered_exactly(deployment: Deployment) -> None:
    org, _ = claude_org(deployment)
    chunks = list(
        sdk(deployment, org).chat.completions.create(
            model=CLAUDE,
            messages=[{"role": "user", "content": "stream it [sim:tokens=12]"}],
            stream=True,
            stream_options={"include_usage": True},
        )
    )
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text
    assert [c.choices[0].finish_reason for c in chunks if c.choices][-1] == "stop"
    usage = chunks[-1].usage
    assert usage is not None and usage.completion_tokens == 12
    [entry] = ledger(deployment, org.id)
    assert entry["stream"] and entry["outcome"] == "ok"
    assert_row_is_the_upstreams(deployment, entry)


def test_a_tool_call_and_its_result_go_round_through_claude(deployment: Deployment) -> None:
    org, _ = claude_org(deployment)
    client = sdk(deployment, org)
    messages: list[Any] = [{"role": "user", "content": "Weather in Paris? [sim:tool]"}]
    first = client.chat.completions.create(model=CLAUDE, messages=messages, tools=[WEATHER])
    choice = first.choices[0]
    assert choice.finish_reason == "tool_calls"
    assert choice.message.tool_calls
    call = choice.message.tool_calls[0]
    assert call.type == "function" and call.function.name == "get_weather"
    messages += [
        choice.message.model_dump(exclude_none=True),
        {"role": "tool", "tool_call_id": call.id, "content": "sunny, 21 degrees"},
    ]
    second = client.chat.completions.create(model=CLAUDE, messages=messages, tools=[WEATHER])
    assert second.choices[0].message.content
    assert second.choices[0].finish_reason == "stop"
    entries = ledger(deployment, org.id)
    assert len(entries) == 2
    for entry in entries:
        assert_row_is_the_upstreams(deployment, entry)


def test_cache_writes_and_reads_are_priced_as_anthropic_prices_them(
    deployment: Deployment,
) -> None:
    org, _ = claude_org(deployment)
    client = sdk(deployment, org)
    long_text = "The handbook says: " + " ".join(f"rule {i} is kept." for i in range(60))
    cached_part: Any = {"type": "text", "text": long_text, "cache_control": {"type": "ephemeral"}}
    for question in ("first question", "second question"):
        client.chat.completions.create(
            model=CLAUDE,
            messages=[
                {"role": "user", "content": [cached_part, {"type": "text", "text": question}]}
            ],
        )
    written, read = (assert_row_is_the_upstreams(deployment, e) for e in ledger(deployment, org.id))
    assert written["cache_creation_input_tokens"] > 0 and written["cache_read_input_tokens"] == 0
    assert read["cache_read_input_tokens"] == written["cache_creation_input_tokens"]


def test_a_last_assistant_message_is_claudes_prefill_and_only_its_continuation_comes_back(
    deployment: Deployment,
) -> None:
    org, key = claude_org(deployment)
    client = sdk(deployment, org)
    messages: Any = [
        {"role": "user", "content": "Tell me a story"},
        {"role": "assistant", "content": "Once upon a time "},
    ]
    answer = client.chat.completions.create(model=CLAUDE, messages=messages)
    chunks = client.chat.completions.create(model=CLAUDE, messages=messages, stream=True)
    streamed = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    entries = wait_for(lambda: len(ledger(deployment, org.id)) == 2 and ledger(deployment, org.id))
    sent = {k: v for k, v in record_of(deployment, entries[0])["body"].items() if k != "stream"}
    # The prefill went last, its trailing space cut (Anthropic refuses it) ...
    assert sent["messages"][-1] == {
        "role": "assistant",
        "content": [{"type": "text", "text": "Once upon a time"}],
    }
    # ... and the answer is what Anthropic answers to it: the continuation alone.
    direct = httpx.post(
        f"{deployment.simulator.base_url}/v1/messages",
        json=sent,
        headers={"x-api-key": key, "anthropic-version": "2023-06-01"},
        timeout=30,
    ).json()
    continuation = direct["content"][0]["text"]
    assert answer.choices[0].message.content == continuation == streamed
    assert answer.choices[0].finish_reason == "stop"
    usage = answer.usage
    assert usage is not None and usage.completion_tokens == direct["usage"]["output_tokens"]
    for entry in entries:
        assert_row_is_the_upstreams(deployment, entry)


def test_a_claude_stream_the_client_drops_is_ledgered_once(deployment: Deployment) -> None:
    org, _ = claude_org(deployment)
    body = {
        "model": CLAUDE,
        "stream": True,
        "messages": [{"role": "user", "content": "long one [sim:tokens=40] [sim:slow=15]"}],
    }
    headers = {"Authorization": f"Bearer {org.token}"}
    with (
        httpx.Client(timeout=30) as http,
        http.stream("POST", f"{deployment.v1}/chat/completions", json=body, headers=headers) as r,
    ):
        assert r.status_code == 200
        for count, _ in enumerate(r.iter_raw(), start=1):
            if count >= 3:
                break  # hang up mid-stream
    [entry] = wait_for(lambda: ledger(deployment, org.id))
    assert entry["outcome"] == "client_disconnected"
    assert entry["completion_tokens"] == 40  # the rest was drained for its usage
    assert_row_is_the_upstreams(deployment, entry)


def test_a_revoked_anthropic_key_is_refused_while_openai_keeps_serving(
    deployment: Deployment,
) -> None:
    org, key = claude_org(deployment)
    client = sdk(deployment, org)
    httpx.post(f"{deployment.simulator.base_url}/_sim/keys/revoke", json={"key": key})
    with pytest.raises(openai.PermissionDeniedError, match="Anthropic key was rejected"):
        client.chat.completions.create(model=CLAUDE, messages=[{"role": "user", "content": "hi"}])
    calls = len([r for r in deployment.simulator_records() if r["api_key"] == key])
    with pytest.raises(openai.PermissionDeniedError, match="Anthropic key"):
        client.chat.completions.create(model=CLAUDE, messages=[{"role": "user", "content": "hi"}])
    assert len([r for r in deployment.simulator_records() if r["api_key"] == key]) == calls
    answer = client.chat.completions.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}]
    )
    assert answer.choices[0].message.content
    statuses = {
        k.config.provider.value: k.status for k in deployment.context.credentials.active(org.id)
    }
    assert statuses == {"openai": "active", "anthropic": "broken"}


def anthropic_sdk(deployment: Deployment, org: OrgHandle) -> anthropic.Anthropic:
    return anthropic.Anthropic(
        base_url=deployment.instance.base_url, api_key=org.token, max_retries=0
    )


def test_the_anthropic_sdk_gets_a_message_through_chatgrid(deployment: Deployment) -> None:
    org, key = claude_org(deployment)
    message = anthropic_sdk(deployment, org).messages.create(
        model=CLAUDE,
        max_tokens=100,
        system="Be brief.",
        messages=[{"role": "user", "content": "hello there [sim:tokens=9]"}],
    )
    assert message.type == "message" and message.stop_reason == "end_turn"
    assert message.usage.output_tokens == 9
    [entry] = ledger(deployment, org.id)
    assert entry["endpoint"] == "messages" and entry["outcome"] == "ok"
    assert record_of(deployment, entry)["api_key"] == key
    usage = assert_row_is_the_upstreams(deployment, entry)
    assert usage["input_tokens"] == message.usage.input_tokens


def test_the_anthropic_sdk_streams_a_message_through_chatgrid(deployment: Deployment) -> None:
    org, _ = claude_org(deployment)
    with anthropic_sdk(deployment, org).messages.stream(
        model=CLAUDE,
        max_tokens=100,
        messages=[{"role": "user", "content": "stream it [sim:tokens=11]"}],
    ) as stream:
        message = stream.get_final_message()
    assert message.usage.output_tokens == 11
    assert message.content and message.content[0].type == "text"
    [entry] = ledger(deployment, org.id)
    assert entry["stream"] and entry["outcome"] == "ok"
    assert_row_is_the_upstreams(deployment, entry)


def test_the_anthropic_sdk_gets_anthropic_shaped_errors(deployment: Deployment) -> None:
    org, key = claude_org(deployment)
    client = anthropic_sdk(deployment, org)
    ask: dict[str, Any] = {"max_tokens": 50, "messages": [{"role": "user", "content": "hi"}]}
    with pytest.raises(anthropic.NotFoundError) as unknown:
        client.messages.create(model="claude-no-such-model", **ask)
    assert unknown.value.body["type"] == "error"  # type: ignore[index]
    with pytest.raises(anthropic.BadRequestError) as not_claude:
        client.messages.create(model="gpt-4o-mini", **ask)
    assert not_claude.value.body["error"]["type"] == "invalid_request_error"  # type: ignore[index]
    bad = anthropic.Anthropic(
        base_url=deployment.instance.base_url, api_key="not-a-token", max_retries=0
    )
    with pytest.raises(anthropic.AuthenticationError) as refused:
        bad.messages.create(model=CLAUDE, **ask)
    assert refused.value.body["error"]["type"] == "authentication_error"  # type: ignore[index]
    httpx.post(f"{deployment.simulator.base_url}/_sim/keys/revoke", json={"key": key})
    with pytest.raises(anthropic.PermissionDeniedError, match="Anthropic key"):
        client.messages.create(model=CLAUDE, **ask)
    outcomes = [e["outcome"] for e in ledger(deployment, org.id)]
    assert outcomes.count("upstream_key_rejected") == 1  # refusals before a call leave no row


def test_a_shared_credit_org_reaches_claude_through_the_pools_anthropic_key(
    deployment: Deployment,
) -> None:
    pool_key = f"sk-ant-pool-{secrets.token_hex(6)}"
    config = UpstreamConfig.create(Provider.ANTHROPIC, base_url=deployment.simulator.base_url)
    asyncio.run(keys.add_pool_key(deployment.context, "pool-anthropic", config, pool_key))
    org = deployment.new_org(BillingMode.SHARED)
    message = anthropic_sdk(deployment, org).messages.create(
        model=CLAUDE, max_tokens=50, messages=[{"role": "user", "content": "hi [sim:tokens=5]"}]
    )
    assert message.usage.output_tokens == 5
    [entry] = ledger(deployment, org.id)
    assert record_of(deployment, entry)["api_key"] == pool_key
    assert entry["mode"] == "shared"
    assert_row_is_the_upstreams(deployment, entry)
    assert entry["markup_bps"] > 0
    assert entry["charged_micros"] > entry["list_cost_micros"] > 0  # Claude, marked up
