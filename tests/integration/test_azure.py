"""An org on Azure OpenAI: deployments, api-version and the api-key header."""

from __future__ import annotations

import asyncio

import openai
import pytest

from chatgrid.admin import keys
from chatgrid.errors import UpstreamRefused
from chatgrid.providers.base import Provider, UpstreamConfig
from tests.support.deployment import Deployment
from tests.support.ledger_checks import assert_ledger_matches_upstream


def test_azure_calls_go_to_the_models_deployment(deployment: Deployment) -> None:
    org = deployment.new_org(key="sk-unused-for-now1")
    deployment.context.credentials.revoke(org.id)  # Azure its only key: gpt-4o has nowhere else
    key = "sk-azure-0123456789"
    deployment.connect(
        org.id,
        key,
        provider="azure",
        base_url=deployment.simulator.base_url,
        api_version="2024-10-21",
        deployments={
            "gpt-4o-mini": "gpt-4o-mini",
            "text-embedding-3-small": "text-embedding-3-small",
        },
    )
    client = openai.OpenAI(base_url=deployment.v1, api_key=org.token, max_retries=0)
    client.chat.completions.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}]
    )
    client.embeddings.create(model="text-embedding-3-small", input="hello")
    with pytest.raises(openai.PermissionDeniedError, match="no deployment"):
        client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "hi"}])
    azure_calls = [
        r
        for r in deployment.simulator_records()
        if r["api_key"] == key
        and r["path"].startswith("/openai/deployments/")
        and r["method"] == "POST"
    ]
    assert [c["path"] for c in azure_calls] == [
        "/openai/deployments/gpt-4o-mini/chat/completions",
        "/openai/deployments/text-embedding-3-small/embeddings",
    ]
    assert all(c["query"] == "api-version=2024-10-21" for c in azure_calls)
    entries = assert_ledger_matches_upstream(deployment, org.id)
    assert {e["provider"] for e in entries} == {"azure"}


def test_a_missing_azure_deployment_is_refused_on_connect(deployment: Deployment) -> None:
    org = deployment.new_org()
    config = UpstreamConfig.create(
        Provider.AZURE,
        base_url=deployment.simulator.base_url,
        deployments={"gpt-4o": "no-such-deployment"},
    )
    with pytest.raises(UpstreamRefused, match="does not exist") as caught:
        asyncio.run(keys.set_credential(deployment.context, org.id, config, "sk-azure-0123456789"))
    assert caught.value.code == "deployment_missing"
