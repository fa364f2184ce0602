"""An org with several keys: OpenAI beside a named OpenAI-compatible server (and
Anthropic), the model picking the key, each key with its own lifecycle."""

from __future__ import annotations

import json
import secrets

import httpx
import openai
import pytest

from chatgrid.providers.base import Provider
from tests.support.deployment import Deployment, OrgHandle
from tests.support.ledger_checks import assert_ledger_matches_upstream, ledger

MESSAGES = [{"role": "user", "content": "hello"}]
#: Withheld from the org's OpenAI key, so only its local server serves it.
ONLY_LOCAL = "gpt-4.1-nano"


def sdk(deployment: Deployment, token: str) -> openai.OpenAI:
    return openai.OpenAI(base_url=deployment.v1, api_key=token, max_retries=0)


def keys_used(deployment: Deployment, *keys: str) -> list[tuple[str, str]]:
    """(key, model) of each chat call the simulator got with one of these keys, in order."""
    return [
        (str(r["api_key"]), str(r["body"]["model"]))  # type: ignore[index]
        for r in deployment.simulator_records()
        if r["api_key"] in keys and str(r["path"]).endswith("/chat/completions")
    ]


def two_key_org(deployment: Deployment) -> tuple[OrgHandle, str, str]:
    """An org whose OpenAI key cannot see ONLY_LOCAL, and a server named "local" that can."""
    openai_key = f"sk-oai-{secrets.token_hex(8)}"
    local_key = f"sk-local-{secrets.token_hex(8)}"
    httpx.post(
        f"{deployment.simulator.base_url}/_sim/keys/models",
        json={"key": openai_key, "withhold": [ONLY_LOCAL]},
    ).raise_for_status()
    org = deployment.new_org(key=openai_key)
    result = deployment.instance.cli(
        "credential",
        "set",
        org.name,
        "--provider",
        "openai-compatible",
        "--name",
        "local",
        "--base-url",
        f"{deployment.simulator.base_url}/v1",
        input=local_key,
    )
    assert result.returncode == 0, result.stderr
    return org, openai_key, local_key


def fingerprint(deployment: Deployment, org_id: str, provider: Provider, name: str = "") -> str:
    stored = deployment.context.credentials.find(org_id, provider, name)
    assert stored is not None
    return stored.sealed.fingerprint


def test_the_model_picks_the_key_and_the_ledger_names_it(deployment: Deployment) -> None:
    org, openai_key, local_key = two_key_org(deployment)
    client = sdk(deployment, org.token)
    client.chat.completions.create(model=ONLY_LOCAL, messages=MESSAGES)
    client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)  # both: OpenAI first
    assert keys_used(deployment, openai_key, local_key) == [
        (local_key, ONLY_LOCAL),
        (openai_key, "gpt-4o-mini"),
    ]
    entries = assert_ledger_matches_upstream(deployment, org.id)
    assert [(e["model"], e["provider"], e["credential_fingerprint"]) for e in entries] == [
        (
            ONLY_LOCAL,
            "openai-compatible",
            fingerprint(deployment, org.id, Provider.OPENAI_COMPATIBLE, "local"),
        ),
        ("gpt-4o-mini", "openai", fingerprint(deployment, org.id, Provider.OPENAI)),
    ]
    listed = {m.id for m in client.models.list()}
    assert {ONLY_LOCAL, "gpt-4o-mini"} <= listed


def test_revoking_one_key_leaves_the_other_serving(deployment: Deployment) -> None:
    org, openai_key, local_key = two_key_org(deployment)
    client = sdk(deployment, org.token)
    client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
    ambiguous = deployment.instance.cli("credential", "revoke", org.name)
    assert ambiguous.returncode != 0 and "several keys" in ambiguous.stderr
    result = deployment.instance.cli("credential", "revoke", org.name, "--provider", "openai")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["provider"] == "openai"
    before = len(keys_used(deployment, openai_key))
    client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)  # now the server's
    client.chat.completions.create(model=ONLY_LOCAL, messages=MESSAGES)
    assert len(keys_used(deployment, openai_key)) == before  # the revoked key: not once more
    assert keys_used(deployment, local_key) == [
        (local_key, "gpt-4o-mini"),
        (local_key, ONLY_LOCAL),
    ]


def test_the_admins_choice_sends_a_shared_model_to_that_key(deployment: Deployment) -> None:
    org, openai_key, local_key = two_key_org(deployment)
    client = sdk(deployment, org.token)
    result = deployment.instance.cli(
        "credential",
        "prefer",
        org.name,
        "gpt-4o-mini",
        "--provider",
        "openai-compatible",
        "--name",
        "local",
    )
    assert result.returncode == 0, result.stderr
    client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
    client.chat.completions.create(model="gpt-4o", messages=MESSAGES)  # not chosen: OpenAI
    assert keys_used(deployment, openai_key, local_key) == [
        (local_key, "gpt-4o-mini"),
        (openai_key, "gpt-4o"),
    ]
    shown = json.loads(deployment.instance.cli("credential", "show", org.name).stdout)
    assert shown["preferred"] == {"gpt-4o-mini": {"provider": "openai-compatible", "name": "local"}}
    assert [(k["provider"], k["name"]) for k in shown["keys"]] == [
        ("openai", ""),
        ("openai-compatible", "local"),
    ]
    assert openai_key not in json.dumps(shown) and local_key not in json.dumps(shown)


def test_a_rejected_key_is_marked_broken_alone(deployment: Deployment) -> None:
    org, openai_key, local_key = two_key_org(deployment)
    client = sdk(deployment, org.token)
    httpx.post(f"{deployment.simulator.base_url}/_sim/keys/revoke", json={"key": local_key})
    with pytest.raises(openai.PermissionDeniedError, match="key was rejected"):
        client.chat.completions.create(model=ONLY_LOCAL, messages=MESSAGES)
    with pytest.raises(openai.PermissionDeniedError, match="OpenAI-compatible server key"):
        client.chat.completions.create(model=ONLY_LOCAL, messages=MESSAGES)
    client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)  # OpenAI still serves
    statuses = {
        (k.config.provider, k.name): k.status for k in deployment.context.credentials.active(org.id)
    }
    assert statuses == {
        (Provider.OPENAI, ""): "active",
        (Provider.OPENAI_COMPATIBLE, "local"): "broken",
    }
    assert ledger(deployment, org.id)[-1]["credential_fingerprint"] == fingerprint(
        deployment, org.id, Provider.OPENAI
    )
    assert len(keys_used(deployment, openai_key)) == 1


def test_an_anthropic_key_is_validated_and_claude_models_go_to_it(
    deployment: Deployment,
) -> None:
    org = deployment.new_org()
    anthropic_key = f"sk-ant-{secrets.token_hex(8)}"
    result = deployment.instance.cli(
        "credential",
        "set",
        org.name,
        "--provider",
        "anthropic",
        "--base-url",
        deployment.simulator.base_url,
        input=anthropic_key,
    )
    assert result.returncode == 0, result.stderr
    connected = json.loads(result.stdout)
    assert connected["provider"] == "anthropic"
    assert "claude-sonnet-4-5-20250929" in connected["models"]
    listing = [
        r
        for r in deployment.simulator_records()
        if r["api_key"] == anthropic_key and str(r["path"]).startswith("/v1/models")
    ]
    assert listing, "the key was checked by listing Anthropic's models"
    client = sdk(deployment, org.token)
    reply = client.chat.completions.create(model="claude-sonnet-4-5-20250929", messages=MESSAGES)
    assert reply.choices[0].message.content
    sent = [
        r
        for r in deployment.simulator_records()
        if r["api_key"] == anthropic_key and r["path"] == "/v1/messages"
    ]
    assert len(sent) == 1  # translated, and sent with the org's Anthropic key
    entry = ledger(deployment, org.id)[-1]
    assert (entry["provider"], entry["credential_fingerprint"]) == (
        "anthropic",
        fingerprint(deployment, org.id, Provider.ANTHROPIC),
    )
    client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)  # OpenAI unchanged
    assert {m.id for m in client.models.list()} >= {"gpt-4o-mini", "claude-sonnet-4-5-20250929"}


def test_a_rejected_anthropic_key_is_refused_on_connect(deployment: Deployment) -> None:
    org = deployment.new_org()
    bad_key = f"sk-ant-{secrets.token_hex(8)}"
    httpx.post(f"{deployment.simulator.base_url}/_sim/keys/revoke", json={"key": bad_key})
    result = deployment.instance.cli(
        "credential",
        "set",
        org.name,
        "--provider",
        "anthropic",
        "--base-url",
        deployment.simulator.base_url,
        input=bad_key,
    )
    assert result.returncode != 0 and "rejected the key" in result.stderr
    assert bad_key not in result.stderr
    assert [k.config.provider for k in deployment.context.credentials.active(org.id)] == [
        Provider.OPENAI
    ]
