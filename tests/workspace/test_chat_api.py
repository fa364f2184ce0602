"""Chat through the workspace API, over real HTTP, on the gateway's own path."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

from sqlalchemy import update

from chatgrid.identity.models import Role
from chatgrid.store.tables import orgs
from chatgrid.store.types import utcnow
from tests.support.deployment import Deployment
from tests.support.waiting import wait_for
from tests.support.workspace import add_person, parse_event


def test_an_answer_streams_is_kept_and_costs_what_the_ledger_says(
    deployment: Deployment,
) -> None:
    org = deployment.new_org()
    alice = add_person(deployment, org.id, Role.ADMIN)
    conversation = alice.conversation()
    events = alice.ask(conversation, "[sim:slow=5][sim:tokens=12] Tell me about **tables**")

    names = [name for name, _ in events]
    assert names[0] == "start"
    assert names.count("delta") >= 3  # it arrived in pieces
    assert names[-1] == "done"
    deltas = [data for name, data in events if name == "delta"]
    answer = "".join(d["text"] for d in deltas)
    done = events[-1][1]["message"]
    assert done["content"] == answer
    assert done["status"] == "complete"
    assert events[0][1]["user_message"]["content"].endswith("Tell me about **tables**")

    # The ledger row behind the answer: a workspace call, usage as OpenAI reported it.
    entries = deployment.context.usage.entries(org.id)
    assert len(entries) == 1
    entry = entries[0]
    assert entry["token_id"] == "workspace"
    assert entry["member_id"] == alice.member_id
    assert entry["completion_tokens"] == 12
    assert done["completion_tokens"] == 12
    assert done["prompt_tokens"] == entry["prompt_tokens"]
    assert done["cost_micros"] == entry["list_cost_micros"]  # BYOK: what OpenAI bills

    messages = alice.messages(conversation)
    assert [m["role"] for m in messages] == ["user", "assistant"]
    assert messages[1]["cost_micros"] == entry["list_cost_micros"]
    titles = alice.api("GET", f"/api/orgs/{org.id}/conversations").json()
    assert titles[0]["title"] == "Tell me about tables"  # the first line, cleaned


def test_regenerate_and_edit_replace_the_last_answer(deployment: Deployment) -> None:
    org = deployment.new_org()
    alice = add_person(deployment, org.id)
    conversation = alice.conversation()
    alice.ask(conversation, "[sim:echo]first question")
    alice.ask(conversation, "[sim:echo]second question")
    alice.ask(conversation, "", mode="regenerate")
    # The model is asked the question once, after the history before it.
    sent = _last_chat_messages(deployment)
    assert [(m["role"], m["content"]) for m in sent[1:]] == [
        ("user", "[sim:echo]first question"),
        ("assistant", "first question"),
        ("user", "[sim:echo]second question"),
    ]
    assert [m["content"] for m in alice.messages(conversation)] == [
        "[sim:echo]first question",
        "first question",
        "[sim:echo]second question",
        "second question",
    ]
    alice.ask(conversation, "[sim:echo]second, edited", mode="edit")
    assert [m["content"] for m in alice.messages(conversation)][-2:] == [
        "[sim:echo]second, edited",
        "second, edited",
    ]
    assert [m["content"] for m in _last_chat_messages(deployment)[1:]] == [
        "[sim:echo]first question",
        "first question",
        "[sim:echo]second, edited",
    ]
    # Every answer, including the replaced ones, was a ledgered call.
    assert len(deployment.context.usage.entries(org.id)) == 4


def _last_chat_messages(deployment: Deployment) -> list[dict[str, Any]]:
    records = deployment.simulator_records()
    chat = [r for r in records if str(r["path"]).endswith("/chat/completions")][-1]
    return list(chat["body"]["messages"])  # type: ignore[index]


def test_a_refusal_answers_before_the_stream_and_writes_nothing(
    deployment: Deployment,
) -> None:
    org = deployment.new_org()
    alice = add_person(deployment, org.id)
    conversation = alice.conversation()
    with deployment.context.engine.begin() as conn:
        conn.execute(
            update(orgs)
            .where(orgs.c.id == org.id)
            .values(trial_ends_at=utcnow() - timedelta(minutes=1))
        )
    deployment.context.changes.bump()
    url = f"/api/orgs/{org.id}/conversations/{conversation}/messages"
    response = alice.api("POST", url, json={"content": "hello", "model": "gpt-4o-mini"})
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "trial_ended"
    assert "trial" in response.json()["error"]["message"]
    assert alice.messages(conversation) == []
    # The page learns why before anyone types: no models, and the reason.
    models = alice.api("GET", f"/api/orgs/{org.id}/models").json()
    assert models["models"] == []
    assert models["problem"]["code"] == "trial_ended"

    blank = alice.api("POST", url, json={"content": "  ", "model": "gpt-4o-mini"})
    assert blank.status_code == 400
    unknown = alice.api("POST", url, json={"content": "x", "model": "gpt-4o-mini", "n": 2})
    assert unknown.status_code == 400


def test_a_revoked_key_fails_the_answer_with_a_clear_message(deployment: Deployment) -> None:
    org = deployment.new_org()
    alice = add_person(deployment, org.id)
    conversation = alice.conversation()
    url = f"/api/orgs/{org.id}/conversations/{conversation}/messages"
    response = alice.api("POST", url, json={"content": "[sim:401] hi", "model": "gpt-4o-mini"})
    assert response.status_code == 403
    assert "key" in response.json()["error"]["message"]
    assert response.json()["error"]["code"] == "upstream_key_rejected"


def test_stop_keeps_the_partial_answer_and_the_call_is_ledgered(
    deployment: Deployment,
) -> None:
    org = deployment.new_org()
    alice = add_person(deployment, org.id)
    conversation = alice.conversation()
    url = f"/api/orgs/{org.id}/conversations/{conversation}/messages"
    body = {"content": "[sim:slow=100][sim:tokens=40] long story", "model": "gpt-4o-mini"}
    seen = ""
    with alice.client.stream("POST", url, json=body, headers={"X-CSRF-Token": alice.csrf}) as r:
        assert r.status_code == 200
        buffer = b""
        deltas = 0
        for piece in r.iter_bytes():
            buffer += piece
            while b"\n\n" in buffer:
                raw, buffer = buffer.split(b"\n\n", 1)
                name, data = parse_event(raw)
                if name == "delta":
                    seen += data["text"]
                    deltas += 1
            if deltas >= 3:
                break  # the member pressed Stop: the connection closes here

    def stopped() -> dict[str, object] | None:
        answer = alice.messages(conversation)[-1]
        return answer if answer["status"] == "stopped" else None

    answer = wait_for(stopped)
    assert str(answer["content"]).startswith(seen)
    assert len(str(answer["content"])) < 40 * 12  # not the whole answer
    # The gateway drained the upstream, so the ledger holds the real usage.
    entry = wait_for(lambda: deployment.context.usage.entries(org.id))[0]
    assert entry["outcome"] == "client_disconnected"
    assert entry["completion_tokens"] == 40
    time.sleep(0.2)
    assert alice.messages(conversation)[-1]["completion_tokens"] == 40


def test_conversations_are_private_searchable_renamable_and_deletable(
    deployment: Deployment,
) -> None:
    org = deployment.new_org()
    alice = add_person(deployment, org.id, Role.ADMIN)
    bob = add_person(deployment, org.id)
    budget = alice.conversation("Budget 2027")
    alice.conversation("Hiring plan")
    base = f"/api/orgs/{org.id}/conversations"
    found = alice.api("GET", base, params={"q": "budget"}).json()
    assert [c["id"] for c in found] == [budget]
    assert alice.api("GET", base, params={"q": "%"}).json() == []
    renamed = alice.api("PATCH", f"{base}/{budget}", json={"title": "Budget FY27"})
    assert renamed.json()["title"] == "Budget FY27"
    # Not even an admin's colleague (or the admin, for a member's) can read another's chats.
    assert bob.api("GET", f"{base}/{budget}").status_code == 404
    assert bob.api("DELETE", f"{base}/{budget}").status_code == 404
    assert bob.api("GET", base).json() == []
    assert alice.api("DELETE", f"{base}/{budget}").status_code == 204
    assert alice.api("GET", f"{base}/{budget}").status_code == 404
    no_csrf = alice.client.post(base, json={})
    assert no_csrf.status_code == 403


def test_models_follow_the_orgs_allowed_list(deployment: Deployment) -> None:
    org = deployment.new_org()
    alice = add_person(deployment, org.id)
    listed = alice.api("GET", f"/api/orgs/{org.id}/models").json()
    assert "gpt-4o-mini" in listed["models"]
    assert listed["default"] == "gpt-4o-mini"


def test_an_answer_nobody_reads_is_still_finished_in_the_store(deployment: Deployment) -> None:
    org = deployment.new_org()
    alice = add_person(deployment, org.id)
    conversation = alice.conversation()
    url = f"/api/orgs/{org.id}/conversations/{conversation}/messages"
    body = {"content": "[sim:slow=20] hello", "model": "gpt-4o-mini"}
    with alice.client.stream("POST", url, json=body, headers={"X-CSRF-Token": alice.csrf}) as r:
        assert r.status_code == 200  # the tab closes before reading a byte

    def settled() -> dict[str, object] | None:
        answer = alice.messages(conversation)[-1]
        return answer if answer["status"] != "streaming" else None

    answer = wait_for(settled)
    assert answer["status"] in ("complete", "stopped")
    entry = wait_for(lambda: deployment.context.usage.entries(org.id))[0]
    assert entry["member_id"] == alice.member_id


def test_messages_sent_at_once_in_one_conversation_all_get_their_place(
    deployment: Deployment,
) -> None:
    org = deployment.new_org()
    alice = add_person(deployment, org.id)
    conversation = alice.conversation()
    with ThreadPoolExecutor(max_workers=6) as pool:
        answers = list(pool.map(lambda n: alice.ask(conversation, f"question {n}"), range(6)))
    assert all(events[-1][0] == "done" for events in answers)
    messages = alice.messages(conversation)
    assert len(messages) == 12
    assert sorted(m["content"] for m in messages if m["role"] == "user") == [
        f"question {n}" for n in range(6)
    ]
