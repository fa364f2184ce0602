"""On shared credits, chat and embeddings are metered like any call: pool, markup, caps."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from chatgrid.admin import keys
from chatgrid.admin.billing import member_budget_status, set_member_cap
from chatgrid.audit import Actor
from chatgrid.identity.models import BillingMode, Role
from chatgrid.providers.base import Provider, UpstreamConfig
from tests.support.deployment import Deployment
from tests.support.waiting import wait_for
from tests.support.workspace import HANDBOOK, add_person, collection, ready, upload


@pytest.fixture(scope="module")
def pooled(deployment: Deployment) -> Deployment:
    config = UpstreamConfig.create(Provider.OPENAI, base_url=f"{deployment.simulator.base_url}/v1")
    asyncio.run(keys.add_pool_key(deployment.context, "pool-ws", config, "sk-pool-workspace-abc"))
    return deployment


def test_answers_and_embeddings_are_charged_to_the_org_with_markup(pooled: Deployment) -> None:
    org = pooled.new_org(BillingMode.SHARED)
    alice = add_person(pooled, org.id, Role.ADMIN)
    handbook = collection(alice)
    document = ready(alice, upload(alice, handbook, "handbook.md", HANDBOOK.encode()).json()["id"])
    assert document["status"] == "ready", document
    conversation = alice.conversation()
    done = alice.ask(conversation, "When are expenses due?", collection_ids=[handbook])[-1][1]

    def chats() -> list[dict[str, Any]]:
        return [e for e in pooled.context.usage.entries(org.id) if e["endpoint"] == "chat"]

    # The answer, then the conversation's generated title (on by default on shared credits).
    wait_for(lambda: len(chats()) == 2)
    entries = pooled.context.usage.entries(org.id)
    assert {e["mode"] for e in entries} == {"shared"}
    assert {e["endpoint"] for e in entries} == {"chat", "embeddings"}
    assert all(e["markup_bps"] > 0 for e in entries)
    assert all(c["charged_micros"] > c["list_cost_micros"] > 0 for c in chats())
    message = done["message"]
    question_embedding = [e for e in entries if e["endpoint"] == "embeddings"][-1]
    asked = {c["charged_micros"] + question_embedding["charged_micros"] for c in chats()}
    assert message["cost_micros"] in asked
    # What the member sees as spent is the ledger's sum, documents included.
    status = member_budget_status(pooled.context, org.id, alice.member_id)
    assert status.used_micros == sum(e["charged_micros"] for e in entries)


def test_an_exhausted_cap_refuses_chat_and_ingestion_clearly(pooled: Deployment) -> None:
    org = pooled.new_org(BillingMode.SHARED)
    alice = add_person(pooled, org.id, Role.ADMIN)
    conversation = alice.conversation()
    alice.ask(conversation, "hello")
    spent = member_budget_status(pooled.context, org.id, alice.member_id).used_micros
    set_member_cap(pooled.context, org.id, alice.email, spent, actor=Actor(None, "test"))
    url = f"/api/orgs/{org.id}/conversations/{conversation}/messages"
    refused = alice.api("POST", url, json={"content": "again", "model": "gpt-4o-mini"})
    assert refused.status_code == 429
    assert refused.json()["error"]["code"] == "insufficient_quota"
    assert len(alice.messages(conversation)) == 2  # nothing half-written
    handbook = collection(alice)
    document = ready(alice, upload(alice, handbook, "h.md", HANDBOOK.encode()).json()["id"])
    assert document["status"] == "failed"
    assert document["error"]
