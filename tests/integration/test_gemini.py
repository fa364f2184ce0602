"""Google Gemini through its OpenAI-compatible endpoint: connected beside the org's OpenAI
key, called by the bare model name, ledgered and priced like any other call."""

from __future__ import annotations

import secrets

import openai
import pytest

from tests.support.deployment import Deployment, OrgHandle
from tests.support.ledger_checks import assert_ledger_matches_upstream

MESSAGES = [{"role": "user", "content": "hello"}]
#: gemini-2.5-flash's list price, micro-dollars per 1M tokens (ledger/default_prices.json).
INPUT, OUTPUT = 300_000, 2_500_000


def gemini_org(deployment: Deployment) -> tuple[OrgHandle, str]:
    """An org with its OpenAI key and a Gemini key, connected as an admin would."""
    org = deployment.new_org()
    key = f"sk-gemini-{secrets.token_hex(8)}"  # the simulator takes sk- keys only
    result = deployment.instance.cli(
        "credential",
        "set",
        org.name,
        "--provider",
        "gemini",
        "--base-url",
        f"{deployment.simulator.base_url}/v1beta/openai",
        input=key,
    )
    assert result.returncode == 0, result.stderr
    return org, key


def test_a_gemini_model_goes_to_the_gemini_key_and_is_priced_exactly(
    deployment: Deployment,
) -> None:
    org, key = gemini_org(deployment)
    client = openai.OpenAI(base_url=deployment.v1, api_key=org.token, max_retries=0)
    whole = client.chat.completions.create(model="gemini-2.5-flash", messages=MESSAGES)
    assert whole.choices[0].message.content
    chunks = list(
        client.chat.completions.create(
            model="gemini-2.5-flash",
            messages=MESSAGES,
            stream=True,
            stream_options={"include_usage": True},
        )
    )
    assert chunks[-1].usage is not None and chunks[-1].usage.completion_tokens > 0
    client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)  # the OpenAI key

    calls = [
        (r["api_key"], r["path"])
        for r in deployment.simulator_records()
        if r["api_key"] in (key, org.key) and str(r["path"]).endswith("/chat/completions")
    ]
    assert calls == [
        (key, "/v1beta/openai/chat/completions"),
        (key, "/v1beta/openai/chat/completions"),
        (org.key, "/v1/chat/completions"),
    ]
    entries = assert_ledger_matches_upstream(deployment, org.id)
    gemini = [e for e in entries if e["model"] == "gemini-2.5-flash"]
    assert [e["provider"] for e in gemini] == ["gemini", "gemini"]
    for entry in gemini:
        assert entry["cached_tokens"] == 0
        exact = entry["prompt_tokens"] * INPUT + entry["completion_tokens"] * OUTPUT
        assert entry["list_cost_micros"] == (exact + 500_000) // 1_000_000

    listed = {model.id for model in client.models.list()}
    assert {"gemini-2.5-flash", "gemini-2.5-pro", "gpt-4o-mini"} <= listed


def test_a_model_gemini_does_not_have_is_openais_404(deployment: Deployment) -> None:
    org, _ = gemini_org(deployment)
    client = openai.OpenAI(base_url=deployment.v1, api_key=org.token, max_retries=0)
    with pytest.raises(openai.NotFoundError) as refused:
        client.chat.completions.create(model="gemini-9-ultra", messages=MESSAGES)
    assert refused.value.code == "model_not_found"
