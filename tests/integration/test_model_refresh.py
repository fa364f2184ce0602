"""A key's model list follows its provider: a model added after connect works without
reconnecting, and a model that does not exist gets OpenAI's own 404.

The simulator withholds models from one key (``/_sim/keys/models``) and
releases them later, as a provider does when it ships a model or a fine-tune
is made after the key was connected.
"""

from __future__ import annotations

import asyncio
import json
import secrets
from concurrent.futures import ThreadPoolExecutor

import httpx
import openai
import pytest

from chatgrid.admin import keys
from chatgrid.gateway.model_refresh import ModelChange, refresh_all
from chatgrid.providers.base import Provider, UpstreamConfig
from chatgrid.providers.network import create_upstream_session
from tests.support.deployment import Deployment, OrgHandle

MESSAGES = [{"role": "user", "content": "hello"}]


def sdk(deployment: Deployment, token: str) -> openai.OpenAI:
    return openai.OpenAI(base_url=deployment.v1, api_key=token, max_retries=0)


def key_sees(deployment: Deployment, key: str, *, withhold: list[str], release: list[str]) -> None:
    response = httpx.post(
        f"{deployment.simulator.base_url}/_sim/keys/models",
        json={"key": key, "withhold": withhold, "release": release},
    )
    response.raise_for_status()


def org_without(deployment: Deployment, *models: str) -> OrgHandle:
    """A BYOK org whose key, when connected, did not list ``models`` yet."""
    key = f"sk-refresh-{secrets.token_hex(12)}"
    key_sees(deployment, key, withhold=list(models), release=[])
    return deployment.new_org(key=key)


def stored_models(deployment: Deployment, org: OrgHandle) -> list[str]:
    stored = deployment.context.credentials.current(org.id)
    assert stored is not None
    return stored.models


def model_list_calls(deployment: Deployment, key: str) -> int:
    return sum(
        1
        for r in deployment.simulator_records()
        if r["api_key"] == key and r["method"] == "GET" and r["path"] == "/v1/models"
    )


def test_a_model_added_upstream_after_connect_works_without_reconnecting(
    deployment: Deployment,
) -> None:
    org = org_without(deployment, "gpt-5")
    assert org.key is not None
    assert "gpt-5" not in stored_models(deployment, org)
    key_sees(deployment, org.key, withhold=[], release=["gpt-5"])

    answer = sdk(deployment, org.token).chat.completions.create(model="gpt-5", messages=MESSAGES)

    assert answer.model.startswith("gpt-5")
    assert "gpt-5" in stored_models(deployment, org)
    assert "gpt-5" in [m.id for m in sdk(deployment, org.token).models.list()]


def test_a_model_that_does_not_exist_is_openais_404_model_not_found(
    deployment: Deployment,
) -> None:
    org = deployment.new_org()
    client = sdk(deployment, org.token)
    with pytest.raises(openai.NotFoundError) as missing:
        client.chat.completions.create(model="gpt-nonexistent", messages=MESSAGES)
    assert missing.value.code == "model_not_found"
    assert "The model `gpt-nonexistent` does not exist" in missing.value.message


def test_a_model_withheld_by_the_provider_stays_404_until_it_is_released(
    deployment: Deployment,
) -> None:
    org = org_without(deployment, "gpt-4.1")
    with pytest.raises(openai.NotFoundError) as missing:
        sdk(deployment, org.token).chat.completions.create(model="gpt-4.1", messages=MESSAGES)
    assert missing.value.code == "model_not_found"
    assert "gpt-4.1" not in stored_models(deployment, org)


def test_credential_refresh_prints_the_models_added_and_removed(deployment: Deployment) -> None:
    org = org_without(deployment, "gpt-5-mini")
    assert org.key is not None
    key_sees(deployment, org.key, withhold=["o4-mini"], release=["gpt-5-mini"])
    calls_before = model_list_calls(deployment, org.key)

    result = deployment.instance.cli("credential", "refresh", org.name)

    assert result.returncode == 0, result.stderr
    [change] = json.loads(result.stdout)["keys"]
    assert change["added"] == ["gpt-5-mini"]
    assert change["removed"] == ["o4-mini"]
    assert stored_models(deployment, org) == change["models"]
    client = sdk(deployment, org.token)
    client.chat.completions.create(model="gpt-5-mini", messages=MESSAGES)
    assert model_list_calls(deployment, org.key) == calls_before + 1  # the refresh's own
    [entry] = [
        e
        for e in deployment.context.audit.entries(org.id)
        if e.action == "credential.models_refreshed"
    ]
    assert entry.details["added"] == ["gpt-5-mini"]
    assert entry.details["removed"] == ["o4-mini"]


def scheduled_round(deployment: Deployment) -> list[ModelChange]:
    """One round of the scheduled refresh, as a replica runs it."""

    async def one_round() -> list[ModelChange]:
        async with create_upstream_session(deployment.context.settings) as session:
            return await refresh_all(deployment.context, session)

    return asyncio.run(one_round())


def test_the_scheduled_refresh_picks_up_a_new_model(deployment: Deployment) -> None:
    org = org_without(deployment, "gpt-4.1-nano")
    assert org.key is not None
    key_sees(deployment, org.key, withhold=[], release=["gpt-4.1-nano"])

    changes = scheduled_round(deployment)
    assert [c.added for c in changes if c.owner == org.id] == [["gpt-4.1-nano"]]
    assert "gpt-4.1-nano" in stored_models(deployment, org)
    calls_before = model_list_calls(deployment, org.key)
    sdk(deployment, org.token).chat.completions.create(model="gpt-4.1-nano", messages=MESSAGES)
    assert model_list_calls(deployment, org.key) == calls_before  # the server knew already


def test_the_scheduled_refresh_updates_pooled_keys_too(deployment: Deployment) -> None:
    key = f"sk-pool-refresh-{secrets.token_hex(8)}"
    key_sees(deployment, key, withhold=["gpt-5-nano"], release=[])
    config = UpstreamConfig.create(Provider.OPENAI, base_url=f"{deployment.simulator.base_url}/v1")
    name = f"pool-{secrets.token_hex(4)}"
    pooled = asyncio.run(keys.add_pool_key(deployment.context, name, config, key))
    assert "gpt-5-nano" not in pooled.models
    key_sees(deployment, key, withhold=[], release=["gpt-5-nano"])

    changes = scheduled_round(deployment)

    assert [c.added for c in changes if c.key_id == pooled.id] == [["gpt-5-nano"]]
    assert "gpt-5-nano" in deployment.context.pool.get(pooled.id).models


def test_a_flood_of_unknown_models_asks_the_provider_a_bounded_number_of_times(
    deployment: Deployment,
) -> None:
    org = deployment.new_org()
    assert org.key is not None
    client = sdk(deployment, org.token)
    calls_before = model_list_calls(deployment, org.key)

    def ask(n: int) -> str | None:
        try:
            client.chat.completions.create(model=f"made-up-{n}", messages=MESSAGES)
        except openai.NotFoundError as refused:
            return refused.code
        return None

    with ThreadPoolExecutor(max_workers=8) as pool:
        codes = list(pool.map(ask, range(60)))

    assert codes == ["model_not_found"] * 60
    assert model_list_calls(deployment, org.key) - calls_before <= 2
