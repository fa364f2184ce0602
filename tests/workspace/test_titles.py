"""Conversation titles: the first line, cleaned, or a small model's title through the gateway."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from chatgrid.admin import keys
from chatgrid.audit import AuditFilter
from chatgrid.chat.titles import TITLE_INSTRUCTIONS
from chatgrid.identity.models import BillingMode, Role
from chatgrid.providers.base import Provider, UpstreamConfig
from tests.support.deployment import Deployment
from tests.support.waiting import wait_for
from tests.support.workspace import Member, add_person


@pytest.fixture(scope="module")
def pooled(deployment: Deployment) -> Deployment:
    config = UpstreamConfig.create(Provider.OPENAI, base_url=f"{deployment.simulator.base_url}/v1")
    asyncio.run(keys.add_pool_key(deployment.context, "pool-titles", config, "sk-pool-titles-abc"))
    return deployment


def _title(member: Member, conversation: str) -> str:
    listed = member.api("GET", f"/api/orgs/{member.org_id}/conversations").json()
    return str(next(c["title"] for c in listed if c["id"] == conversation))


def _titles_on(member: Member) -> dict[str, Any]:
    url = f"/api/orgs/{member.org_id}/chat-settings"
    response = member.api("PUT", url, json={"generated_titles": True})
    assert response.status_code == 200, response.text
    return dict(response.json())


def _title_requests(deployment: Deployment, question: str) -> list[dict[str, Any]]:
    bodies: list[dict[str, Any]] = [
        body for r in deployment.simulator_records() if isinstance(body := r.get("body"), dict)
    ]

    # Other tests share the simulator, and some send hostile bodies: read only chat turns.
    def turns(body: dict[str, Any]) -> list[dict[str, Any]]:
        messages = body.get("messages")
        if isinstance(messages, list) and all(isinstance(m, dict) for m in messages):
            return messages
        return []

    return [
        b
        for b in bodies
        if (messages := turns(b))
        and messages[0].get("content") == TITLE_INSTRUCTIONS
        and messages[-1].get("content") == question
    ]


def test_a_byok_org_keeps_the_cleaned_first_line_and_makes_no_title_call(
    deployment: Deployment,
) -> None:
    org = deployment.new_org()
    alice = add_person(deployment, org.id, Role.ADMIN)
    settings = alice.api("GET", f"/api/orgs/{org.id}/chat-settings").json()
    assert settings == {"generated_titles": False, "chosen": False, "title_model": "gpt-4o-mini"}
    question = "[sim:echo]## Plan the **Lisbon** offsite\nwith details"
    # The chat page names a new conversation after the raw first line; that gives way too.
    conversation = alice.conversation(title="[sim:echo]## Plan the **Lisbon** offsite")
    done = alice.ask(conversation, question)[-1][1]["message"]
    assert done["status"] == "complete"
    assert _title(alice, conversation) == "Plan the Lisbon offsite"
    assert len(deployment.context.usage.entries(org.id)) == 1  # the answer only
    assert _title_requests(deployment, question) == []


def test_an_admin_turns_titles_on_and_the_title_call_is_ledgered_apart(
    deployment: Deployment,
) -> None:
    org = deployment.new_org()
    alice = add_person(deployment, org.id, Role.ADMIN)
    assert _titles_on(alice) == {
        "generated_titles": True,
        "chosen": True,
        "title_model": "gpt-4o-mini",
    }
    changed = deployment.context.audit.entries(org.id, AuditFilter(action="org.titles_changed"))
    assert [e.details for e in changed] == [{"before": False, "after": True}]
    conversation = alice.conversation()
    question = "What should we pack for a week of hiking in the Alps?"
    done = alice.ask(conversation, question)[-1][1]["message"]
    first_line = question

    title = wait_for(lambda: (t := _title(alice, conversation)) != first_line and t)
    assert 0 < len(title) <= 60
    entries = deployment.context.usage.entries(org.id)
    assert len(entries) == 2
    assert {e["endpoint"] for e in entries} == {"chat"}
    assert {e["token_id"] for e in entries} == {"workspace"}
    assert {e["member_id"] for e in entries} == {alice.member_id}
    # The answer's own cost is its own call's: the title's call is not added to it.
    assert done["cost_micros"] in {e["list_cost_micros"] for e in entries}
    sent = _title_requests(deployment, question)
    assert len(sent) == 1
    assert sent[0]["model"] == "gpt-4o-mini"
    assert sent[0]["max_tokens"] <= 32
    # A second answer in the same conversation makes no second title call.
    alice.ask(conversation, "And for a week of rain?")
    assert len(deployment.context.usage.entries(org.id)) == 3
    assert _title(alice, conversation) == title


def test_a_refused_title_call_leaves_the_first_line_and_the_answer_whole(
    deployment: Deployment,
) -> None:
    org = deployment.new_org()
    alice = add_person(deployment, org.id, Role.ADMIN)
    _titles_on(alice)
    policy = {"allowed_models": ["gpt-4.1-mini", deployment.context.settings.embedding_model]}
    assert alice.api("PUT", f"/api/orgs/{org.id}/policy", json=policy).status_code == 200
    conversation = alice.conversation()
    events = alice.ask(conversation, "# Draft the *release* notes", model="gpt-4.1-mini")
    assert events[-1][1]["message"]["status"] == "complete"
    assert not [name for name, _ in events if name == "error"]
    log = deployment.instance.server
    assert log is not None
    wait_for(lambda: f"no generated title: org={org.id}" in log.log_text())
    assert _title(alice, conversation) == "Draft the release notes"
    assert len(deployment.context.usage.entries(org.id)) == 1


def test_a_shared_credit_org_gets_titles_by_default_billed_to_it(pooled: Deployment) -> None:
    org = pooled.new_org(BillingMode.SHARED)
    alice = add_person(pooled, org.id, Role.ADMIN)
    settings = alice.api("GET", f"/api/orgs/{org.id}/chat-settings").json()
    assert settings["generated_titles"] is True and settings["chosen"] is False
    conversation = alice.conversation()
    question = "How do I book a meeting room?"
    alice.ask(conversation, question)
    wait_for(lambda: len(pooled.context.usage.entries(org.id)) == 2)
    entries = pooled.context.usage.entries(org.id)
    assert {e["mode"] for e in entries} == {"shared"}
    assert all(e["charged_micros"] > 0 for e in entries)
    wait_for(lambda: _title(alice, conversation) != question)
    # A member cannot change the setting; the admin's "off" is kept over the default.
    bob = add_person(pooled, org.id, Role.MEMBER)
    url = f"/api/orgs/{org.id}/chat-settings"
    assert bob.api("PUT", url, json={"generated_titles": False}).status_code == 403
    off = alice.api("PUT", url, json={"generated_titles": False}).json()
    assert off == {"generated_titles": False, "chosen": True, "title_model": "gpt-4o-mini"}
    again = alice.conversation()
    alice.ask(again, "[sim:echo]Where is the *printer*?")
    assert _title(alice, again) == "Where is the printer?"
    assert len(pooled.context.usage.entries(org.id)) == 3


def test_a_title_chosen_before_the_first_question_is_kept(deployment: Deployment) -> None:
    org = deployment.new_org()
    alice = add_person(deployment, org.id, Role.ADMIN)
    _titles_on(alice)
    conversation = alice.conversation(title="Travel questions")
    alice.ask(conversation, "[sim:echo]Which airline do we use?")
    assert _title(alice, conversation) == "Travel questions"
    assert len(deployment.context.usage.entries(org.id)) == 1  # no title call
