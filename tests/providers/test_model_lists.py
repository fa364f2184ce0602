"""A key's current model list, asked of the simulator over HTTP, by provider."""

from __future__ import annotations

import asyncio
import secrets

import httpx
import pytest

from chatgrid.providers.base import Provider, UpstreamConfig
from chatgrid.providers.model_lists import ModelListUnavailable, fetch_model_list
from chatgrid.providers.network import create_upstream_session
from chatgrid.settings import Settings
from tests.support.processes import RunningProcess


def listed(config: UpstreamConfig, key: str) -> list[str] | None:
    async def ask() -> list[str] | None:
        settings = Settings(allow_private_upstreams=True)
        async with create_upstream_session(settings) as session:
            return await fetch_model_list(session, config, key)

    return asyncio.run(ask())


def test_an_openai_compatible_key_lists_what_the_server_lists_for_it(
    simulator: RunningProcess,
) -> None:
    key = f"sk-list-{secrets.token_hex(8)}"
    httpx.post(
        f"{simulator.base_url}/_sim/keys/models", json={"key": key, "withhold": ["gpt-5"]}
    ).raise_for_status()
    config = UpstreamConfig.create(Provider.OPENAI_COMPATIBLE, base_url=f"{simulator.base_url}/v1")
    models = listed(config, key)
    assert models is not None and "gpt-4o-mini" in models and "gpt-5" not in models
    assert models == sorted(models)


def test_an_anthropic_key_lists_the_claude_models_with_its_own_headers(
    simulator: RunningProcess,
) -> None:
    config = UpstreamConfig.create(Provider.ANTHROPIC, base_url=simulator.base_url)
    models = listed(config, "sk-ant-list-0123456789")
    assert models and all(m.startswith("claude") for m in models)


def test_an_azure_resource_lists_its_configured_deployments_without_a_call() -> None:
    config = UpstreamConfig.create(
        Provider.AZURE,
        base_url="https://unreachable.invalid",
        deployments={"gpt-4o-mini": "mini", "gpt-4o": "big"},
    )
    assert listed(config, "azure-key") == ["gpt-4o", "gpt-4o-mini"]


def test_a_rejected_key_gives_no_list(simulator: RunningProcess) -> None:
    key = f"sk-gone-{secrets.token_hex(8)}"
    httpx.post(f"{simulator.base_url}/_sim/keys/revoke", json={"key": key}).raise_for_status()
    config = UpstreamConfig.create(Provider.OPENAI_COMPATIBLE, base_url=f"{simulator.base_url}/v1")
    with pytest.raises(ModelListUnavailable, match="HTTP 401"):
        listed(config, key)
