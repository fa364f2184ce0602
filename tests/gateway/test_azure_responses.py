"""The Responses API on an org's Azure OpenAI key: Azure's v1 surface, the deployment in
the body, over real HTTP with the official SDK, `chatgrid serve` and the simulator."""

from __future__ import annotations

import asyncio
import secrets
from datetime import date, datetime
from typing import Any

import httpx
import openai
import orjson
import pytest

from chatgrid.admin import credentials
from chatgrid.admin import keys as pool_keys
from chatgrid.audit import Actor
from chatgrid.gateway.bodies import prepare_chat
from chatgrid.gateway.bodies_responses import azure_body, prepare_responses
from chatgrid.identity.models import BillingMode
from chatgrid.ledger.pricing import Usage, cost_of
from chatgrid.providers import UpstreamConfig, UpstreamTarget, build_target
from chatgrid.providers.azure import deployment_of, v1_base
from chatgrid.providers.base import Provider
from chatgrid.providers.targets import call_url
from tests.support.deployment import Deployment, OrgHandle
from tests.support.ledger_checks import ledger, records_by_id
from tests.support.shared_orgs import client

#: The org's model names and the deployments the Azure resource serves them from.
DEPLOYMENTS = {"gpt-4o-mini": "prod-mini", "gpt-4.1": "team-41"}


def azure_org(deployment: Deployment, *, with_openai: bool = False) -> tuple[OrgHandle, str]:
    """A BYOK org whose Azure key (returned) serves gpt-4o-mini and gpt-4.1 from named
    deployments; each org its own key, so the simulator's records tell its calls apart."""
    for model, name in DEPLOYMENTS.items():
        httpx.post(
            f"{deployment.simulator.base_url}/_sim/azure/deployments",
            json={"deployment": name, "model": model},
        ).raise_for_status()
    org = deployment.new_org(key="sk-openai-beside-azure1")
    if not with_openai:
        deployment.context.credentials.revoke(org.id)  # Azure is the org's only key
    azure_key = f"sk-azure-{secrets.token_hex(8)}"
    deployment.connect(
        org.id,
        azure_key,
        provider="azure",
        base_url=deployment.simulator.base_url,
        api_version="2024-10-21",
        deployments=dict(DEPLOYMENTS),
    )
    if with_openai:  # both keys serve gpt-4o-mini: the admin sends it to Azure
        credentials.prefer_key(
            deployment.context, org.id, Actor.cli(), "gpt-4o-mini", Provider.AZURE
        )
    return org, azure_key


def azure_calls(deployment: Deployment, azure_key: str) -> list[dict[str, Any]]:
    """What the gateway sent with the Azure key (not the key's check on connect)."""
    records = deployment.simulator_records()
    checks = ("/openai/models", "/openai/deployments/")
    mine = [r for r in records if r["api_key"] == azure_key]
    return [r for r in mine if not str(r["path"]).startswith(checks)]


def assert_exact_row(
    deployment: Deployment, entry: dict[str, Any], model: str, *, stream: bool
) -> dict[str, Any]:
    """The row holds the org's model, Azure, and the upstream's counts priced to the micro."""
    record = records_by_id(deployment)[entry["upstream_request_id"]]
    usage = record["usage"]
    assert entry["model"] == model and entry["provider"] == "azure"
    assert entry["endpoint"] == "responses" and entry["outcome"] == "ok"
    assert entry["stream"] is stream and not entry["usage_estimated"]
    assert entry["status_code"] == 200 and entry["mode"] == "byok"
    assert entry["prompt_tokens"] == usage["prompt_tokens"] > 0
    assert entry["completion_tokens"] == usage["completion_tokens"] > 0
    assert entry["cached_tokens"] == usage["cached_tokens"]
    started = entry["started_at"]
    day = started.date() if isinstance(started, datetime) else date.fromisoformat(started[:10])
    price = deployment.context.prices.book().price_for(model, day)
    assert price is not None
    counted = Usage(
        prompt_tokens=usage["prompt_tokens"],
        cached_tokens=usage["cached_tokens"],
        completion_tokens=usage["completion_tokens"],
    )
    cost = cost_of(counted, price, markup_bps=entry["markup_bps"], charge_tokens=False)
    assert entry["list_cost_micros"] == cost.list_micros > 0
    assert entry["charged_micros"] == 0  # BYOK: Azure bills the org
    return record


def test_a_response_goes_to_azures_v1_surface_with_the_deployment_as_model(
    deployment: Deployment,
) -> None:
    org, azure_key = azure_org(deployment)
    reply = client(deployment, org.token).responses.create(
        model="gpt-4o-mini", input="Say hello [sim:tokens=7]", instructions="Be brief."
    )
    assert reply.model == "gpt-4o-mini"  # the deployment's model, as Azure names it
    assert reply.output_text and reply.usage is not None and reply.usage.output_tokens == 7
    [call] = azure_calls(deployment, azure_key)
    assert call["method"] == "POST" and call["path"] == "/openai/v1/responses"
    assert call["query"] == ""  # the v1 surface takes no dated api-version
    assert call["body"]["model"] == "prod-mini"  # the deployment's name, not the org's model
    assert call["body"]["input"] == "Say hello [sim:tokens=7]"
    [entry] = ledger(deployment, org.id)
    assert_exact_row(deployment, entry, "gpt-4o-mini", stream=False)
    assert entry["prompt_tokens"] == reply.usage.input_tokens


def test_a_streamed_azure_response_is_ledgered_from_its_final_event(
    deployment: Deployment,
) -> None:
    org, azure_key = azure_org(deployment)
    events = list(
        client(deployment, org.token).responses.create(
            model="gpt-4.1", input="stream it [sim:tokens=12]", stream=True
        )
    )
    assert events[-1].type == "response.completed"
    usage = events[-1].response.usage
    assert usage is not None and usage.output_tokens == 12
    assert len([e for e in events if e.type == "response.output_text.delta"]) == 12
    [call] = azure_calls(deployment, azure_key)
    assert call["path"] == "/openai/v1/responses" and call["stream"]
    [entry] = ledger(deployment, org.id)
    assert_exact_row(deployment, entry, "gpt-4.1", stream=True)
    assert entry["completion_tokens"] == usage.output_tokens
    assert entry["prompt_tokens"] == usage.input_tokens


def test_an_azure_response_is_retrieved_listed_and_deleted_through_the_azure_key(
    deployment: Deployment,
) -> None:
    org, azure_key = azure_org(deployment)
    sdk = client(deployment, org.token)
    created = sdk.responses.create(model="gpt-4o-mini", input="remember this")
    fetched = sdk.responses.retrieve(created.id)
    assert fetched.id == created.id and fetched.output_text == created.output_text
    items = sdk.responses.input_items.list(created.id)
    assert [item.type for item in items.data] == ["message"]
    sdk.responses.delete(created.id)
    with pytest.raises(openai.NotFoundError):
        sdk.responses.retrieve(created.id)
    lookups = [c for c in azure_calls(deployment, azure_key) if c["method"] != "POST"]
    assert [(c["method"], c["path"], c["query"]) for c in lookups] == [
        ("GET", f"/openai/v1/responses/{created.id}", ""),
        ("GET", f"/openai/v1/responses/{created.id}/input_items", ""),
        ("DELETE", f"/openai/v1/responses/{created.id}", ""),
        ("GET", f"/openai/v1/responses/{created.id}", ""),
    ]
    assert len(ledger(deployment, org.id)) == 1  # lookups are free and not ledgered


def test_a_lookup_reaches_the_azure_key_after_the_openai_key_does_not_know_the_id(
    deployment: Deployment,
) -> None:
    org, azure_key = azure_org(deployment, with_openai=True)
    sdk = client(deployment, org.token)
    created = sdk.responses.create(model="gpt-4o-mini", input="made on Azure")
    assert [c["path"] for c in azure_calls(deployment, azure_key)] == ["/openai/v1/responses"]
    assert sdk.responses.retrieve(created.id).id == created.id
    tried = [
        (r["api_key"], r["path"])
        for r in deployment.simulator_records()
        if r["method"] == "GET" and created.id in str(r["path"])
    ]
    assert tried == [
        (org.key, f"/v1/responses/{created.id}"),  # OpenAI first: 404 there
        (azure_key, f"/openai/v1/responses/{created.id}"),
    ]
    sdk.responses.delete(created.id)
    with pytest.raises(openai.NotFoundError):
        sdk.responses.retrieve(created.id)


def test_a_model_without_a_deployment_is_refused_before_any_call(
    deployment: Deployment,
) -> None:
    org, azure_key = azure_org(deployment)
    with pytest.raises(openai.PermissionDeniedError, match="no deployment") as caught:
        client(deployment, org.token).responses.create(model="gpt-4o", input="hi")
    assert caught.value.code == "model_not_deployed"
    assert caught.value.body is not None
    assert azure_calls(deployment, azure_key) == []
    assert ledger(deployment, org.id) == []


ENDPOINT = "https://acme.openai.azure.com"


def azure_target() -> UpstreamTarget:
    config = UpstreamConfig.create(
        Provider.AZURE,
        base_url=ENDPOINT,
        deployments={"gpt-4o-mini": "prod mini/eu", "dall-e-3": "pictures"},
    )
    return build_target(config, "azure-secret-key", "fp")


def test_responses_use_the_v1_surface_and_everything_else_the_deployment() -> None:
    target = azure_target()
    assert call_url(target, "responses", "gpt-4o-mini") == f"{ENDPOINT}/openai/v1/responses"
    assert call_url(target, "responses", "gpt-4o") is None  # no deployment: refused
    assert call_url(target, "images", "dall-e-3") == (
        f"{ENDPOINT}/openai/deployments/pictures/images/generations?api-version=2024-10-21"
    )
    assert deployment_of(target, "gpt-4o-mini") == "prod mini/eu"  # unquoted from the URL
    assert deployment_of(target, "gpt-4o") is None
    assert v1_base(target) == f"{ENDPOINT}/openai/v1"
    openai_target = build_target(UpstreamConfig.create(Provider.OPENAI), "sk-x", "fp")
    assert call_url(openai_target, "responses", "gpt-4o-mini") == (
        "https://api.openai.com/v1/responses"
    )
    assert v1_base(openai_target) is None


def test_the_azure_body_names_the_deployment_and_changes_nothing_else() -> None:
    target = azure_target()
    raw = b'{"model": "gpt-4o-mini", "input": "hi", "stream": true, "store": false}'
    prepared = prepare_responses(raw, "member-tag")
    sent = orjson.loads(azure_body(target, prepared))
    assert sent == {**orjson.loads(prepared.upstream_body), "model": "prod mini/eu"}
    assert prepared.model == "gpt-4o-mini"  # what the ledger records
    hello = b'{"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]}'
    chat = prepare_chat(hello, "member-tag")
    assert azure_body(target, chat) is chat.upstream_body  # chat names it in the path


def test_a_pooled_call_that_fails_over_names_each_azure_keys_own_deployment(
    deployment: Deployment,
) -> None:
    sim = deployment.simulator.base_url
    keys_to_deployments = {}
    for name in ("pool-a-41mini", "pool-b-41mini"):
        httpx.post(
            f"{sim}/_sim/azure/deployments", json={"deployment": name, "model": "gpt-4.1-mini"}
        ).raise_for_status()
        key = f"sk-pool-azure-{secrets.token_hex(6)}"
        config = UpstreamConfig.create(
            Provider.AZURE, base_url=sim, deployments={"gpt-4.1-mini": name}
        )
        asyncio.run(pool_keys.add_pool_key(deployment.context, name, config, key))
        keys_to_deployments[key] = name
    org = deployment.new_org(BillingMode.SHARED)
    httpx.post(f"{sim}/_sim/faults", json={"status": 503, "count": 1}).raise_for_status()
    reply = client(deployment, org.token).responses.create(
        model="gpt-4.1-mini", input="pooled [sim:tokens=6]"
    )
    assert reply.usage is not None and reply.usage.output_tokens == 6
    failed, served = ledger(deployment, org.id)
    assert failed["outcome"] == "pool_key_failover" and failed["status_code"] == 503
    assert served["outcome"] == "ok" and served["provider"] == "azure"
    assert served["model"] == "gpt-4.1-mini" and served["mode"] == "shared"
    posts: list[dict[str, Any]] = [
        r
        for r in deployment.simulator_records()
        if r["api_key"] in keys_to_deployments and r["method"] == "POST"
    ]
    assert [r["path"] for r in posts] == ["/openai/v1/responses"] * 2
    assert {r["api_key"] for r in posts} == set(keys_to_deployments)  # one attempt on each
    for record in posts:  # each key was sent its own deployment's name
        assert record["body"]["model"] == keys_to_deployments[str(record["api_key"])]
    usage = records_by_id(deployment)[served["upstream_request_id"]]["usage"]
    assert served["prompt_tokens"] == usage["prompt_tokens"] == reply.usage.input_tokens
    assert served["completion_tokens"] == usage["completion_tokens"] == 6
    assert served["charged_micros"] >= served["list_cost_micros"] > 0
