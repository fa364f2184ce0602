"""The official OpenAI SDK against a real `chatgrid serve` and the simulator."""

from __future__ import annotations

import asyncio
import json

import httpx
import openai
import pytest

from chatgrid.identity.models import BillingMode
from chatgrid.identity.tokens import member_user_tag
from tests.support.deployment import Deployment
from tests.support.ledger_checks import assert_ledger_matches_upstream, ledger, records_by_id
from tests.support.waiting import wait_for

MESSAGES = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hello there"}]


def client(deployment: Deployment, token: str) -> openai.OpenAI:
    return openai.OpenAI(base_url=deployment.v1, api_key=token, max_retries=0)


def test_sync_chat_carries_the_orgs_own_key_and_is_ledgered_exactly(
    deployment: Deployment,
) -> None:
    org = deployment.new_org()
    reply = client(deployment, org.token).chat.completions.create(
        model="gpt-4o-mini", messages=MESSAGES
    )
    assert reply.choices[0].message.content
    assert reply.usage is not None
    [entry] = assert_ledger_matches_upstream(deployment, org.id)
    record = records_by_id(deployment)[entry["upstream_request_id"]]
    assert record["api_key"] == org.key
    assert record["body"]["user"] == member_user_tag(org.member_id)
    assert org.member_id not in json.dumps(record["body"])
    assert entry["mode"] == "byok" and entry["charged_micros"] == 0
    assert entry["list_cost_micros"] > 0
    assert entry["prompt_tokens"] == reply.usage.prompt_tokens
    assert entry["completion_tokens"] == reply.usage.completion_tokens
    assert entry["client_addr"] == "127.0.0.1"
    assert entry["outcome"] == "ok"


def test_async_sdk_concurrent_calls_each_get_one_exact_entry(deployment: Deployment) -> None:
    org = deployment.new_org()

    async def run() -> list[openai.types.chat.ChatCompletion]:
        async with openai.AsyncOpenAI(
            base_url=deployment.v1, api_key=org.token, max_retries=0
        ) as aclient:
            return await asyncio.gather(
                *(
                    aclient.chat.completions.create(
                        model="gpt-4o",
                        messages=[{"role": "user", "content": f"question {i} [sim:cached=2]"}],
                    )
                    for i in range(12)
                )
            )

    replies = asyncio.run(run())
    assert len({r.id for r in replies}) == 12
    entries = assert_ledger_matches_upstream(deployment, org.id)
    assert len(entries) == 12
    assert all(e["cached_tokens"] == 2 for e in entries)


def test_streaming_relays_chunks_and_hides_usage_unless_asked(deployment: Deployment) -> None:
    org = deployment.new_org()
    sdk = client(deployment, org.token)
    plain = list(
        sdk.chat.completions.create(
            model="gpt-4o-mini",
            messages=[{"role": "user", "content": "count [sim:tokens=7]"}],
            stream=True,
        )
    )
    assert all(chunk.usage is None for chunk in plain)
    text = "".join(c.choices[0].delta.content or "" for c in plain if c.choices)
    assert len(text.split()) == 7
    with_usage = list(
        sdk.chat.completions.create(
            model="gpt-4o-mini",
            messages=[{"role": "user", "content": "count [sim:tokens=5]"}],
            stream=True,
            stream_options={"include_usage": True},
        )
    )
    assert with_usage[-1].usage is not None
    assert with_usage[-1].usage.completion_tokens == 5
    entries = assert_ledger_matches_upstream(deployment, org.id)
    assert [e["completion_tokens"] for e in entries] == [7, 5]
    assert all(e["stream"] for e in entries)


def test_async_streaming(deployment: Deployment) -> None:
    org = deployment.new_org()

    async def run() -> str:
        async with openai.AsyncOpenAI(
            base_url=deployment.v1, api_key=org.token, max_retries=0
        ) as aclient:
            stream = await aclient.chat.completions.create(
                model="gpt-4o-mini",
                messages=[{"role": "user", "content": "hi [sim:tokens=4]"}],
                stream=True,
            )
            parts = [c.choices[0].delta.content or "" async for c in stream if c.choices]
            return "".join(parts)

    assert len(asyncio.run(run()).split()) == 4
    assert_ledger_matches_upstream(deployment, org.id)


def test_embeddings_and_models(deployment: Deployment) -> None:
    org = deployment.new_org()
    sdk = client(deployment, org.token)
    result = sdk.embeddings.create(
        model="text-embedding-3-small", input=["one", "two"], dimensions=8
    )
    assert [len(d.embedding) for d in result.data] == [8, 8]
    [entry] = assert_ledger_matches_upstream(deployment, org.id)
    assert entry["endpoint"] == "embeddings" and entry["completion_tokens"] == 0
    models = {m.id for m in sdk.models.list()}
    assert {"gpt-4o-mini", "text-embedding-3-small"} <= models
    assert sdk.models.retrieve("gpt-4o").id == "gpt-4o"
    with pytest.raises(openai.NotFoundError):
        sdk.models.retrieve("no-such-model")


def test_tools_and_json_mode_pass_through(deployment: Deployment) -> None:
    org = deployment.new_org()
    sdk = client(deployment, org.token)
    tools = [
        {
            "type": "function",
            "function": {
                "name": "lookup",
                "parameters": {"type": "object", "properties": {"q": {"type": "string"}}},
            },
        }
    ]
    reply = sdk.chat.completions.create(
        model="gpt-4o", messages=MESSAGES, tools=tools, tool_choice="required"
    )
    assert reply.choices[0].message.tool_calls
    assert reply.choices[0].message.tool_calls[0].function.name == "lookup"
    json_reply = sdk.chat.completions.create(
        model="gpt-4o", messages=MESSAGES, response_format={"type": "json_object"}
    )
    json.loads(json_reply.choices[0].message.content or "")
    sent = [
        r["body"]
        for r in deployment.simulator_records()
        if r["api_key"] == org.key and r["path"].endswith("/chat/completions")
    ]
    assert sent[0]["tools"] == tools
    assert sent[1]["response_format"] == {"type": "json_object"}


def test_shared_org_calls_use_a_pool_key_and_are_charged_with_markup(
    deployment: Deployment,
) -> None:
    pool_key = "sk-pool-shared-" + "a1b2c3d4e5"
    if not deployment.context.pool.list():
        import asyncio as _asyncio

        from chatgrid.admin import keys
        from chatgrid.providers.base import Provider, UpstreamConfig

        config = UpstreamConfig.create(
            Provider.OPENAI, base_url=f"{deployment.simulator.base_url}/v1"
        )
        _asyncio.run(keys.add_pool_key(deployment.context, "pool-a", config, pool_key))
    org = deployment.new_org(BillingMode.SHARED)
    client(deployment, org.token).chat.completions.create(model="gpt-4o", messages=MESSAGES)
    [entry] = assert_ledger_matches_upstream(deployment, org.id)
    record = records_by_id(deployment)[entry["upstream_request_id"]]
    assert record["api_key"] == pool_key
    assert entry["mode"] == "shared"
    assert entry["markup_bps"] == 2000
    assert entry["charged_micros"] > entry["list_cost_micros"] > 0


def test_a_stream_the_client_drops_is_still_ledgered_with_upstream_usage(
    deployment: Deployment,
) -> None:
    org = deployment.new_org()
    body = {
        "model": "gpt-4o-mini",
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
    assert not entry["usage_estimated"]
    assert_ledger_matches_upstream(deployment, org.id)
    assert entry["completion_tokens"] == 40


def test_a_stream_the_upstream_cuts_ends_with_an_error_and_is_ledgered(
    deployment: Deployment,
) -> None:
    org = deployment.new_org()
    stream = client(deployment, org.token).chat.completions.create(
        model="gpt-4o-mini",
        messages=[{"role": "user", "content": "break [sim:tokens=20] [sim:cut=6]"}],
        stream=True,
    )
    with pytest.raises(openai.APIError, match="broke off"):
        for _ in stream:
            pass
    [entry] = ledger(deployment, org.id)
    assert entry["outcome"] == "upstream_cut" and entry["usage_estimated"]
    assert entry["completion_tokens"] == 6
    assert_ledger_matches_upstream(deployment, org.id)


def test_upstream_429_keeps_its_meaning_and_retry_after(deployment: Deployment) -> None:
    org = deployment.new_org()
    with pytest.raises(openai.RateLimitError) as caught:
        client(deployment, org.token).chat.completions.create(
            model="gpt-4o-mini", messages=[{"role": "user", "content": "x [sim:429=7]"}]
        )
    assert caught.value.response.headers["retry-after"] == "7"
    [entry] = ledger(deployment, org.id)
    assert entry["status_code"] == 429 and entry["outcome"] == "upstream_rate_limited"


@pytest.mark.parametrize("fault", ["500", "503"])
def test_upstream_5xx_is_a_502(deployment: Deployment, fault: str) -> None:
    org = deployment.new_org()
    with pytest.raises(openai.APIStatusError) as caught:
        client(deployment, org.token).chat.completions.create(
            model="gpt-4o-mini", messages=[{"role": "user", "content": f"x [sim:{fault}]"}]
        )
    assert caught.value.status_code == 502
    assert ledger(deployment, org.id)[0]["outcome"] == "upstream_error"


def test_an_unreachable_upstream_is_a_502(deployment: Deployment) -> None:
    org = deployment.new_org(key="sk-unreach-abcdefgh")
    from chatgrid.store.tables import credentials

    with deployment.context.engine.begin() as conn:  # point the key at a closed port
        conn.execute(
            credentials.update()
            .where(credentials.c.org_id == org.id)
            .values(base_url="http://127.0.0.1:9/v1")
        )
    deployment.context.changes.bump()
    with pytest.raises(openai.APIStatusError) as caught:
        client(deployment, org.token).chat.completions.create(
            model="gpt-4o-mini", messages=MESSAGES
        )
    assert caught.value.status_code == 502
    assert ledger(deployment, org.id)[0]["outcome"] == "upstream_unreachable"
