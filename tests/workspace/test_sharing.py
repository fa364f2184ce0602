"""Exports for the owner, and a read-only link for the org that nobody else can open."""

from __future__ import annotations

import json

import httpx

from chatgrid.admin.members import remove_member
from chatgrid.audit import Actor, AuditFilter
from chatgrid.identity.models import Role
from tests.support.deployment import Deployment
from tests.support.workspace import HANDBOOK, Member, add_person, collection, ready, upload


def _cited_conversation(alice: Member) -> tuple[str, str]:
    handbook = collection(alice)
    document = ready(alice, upload(alice, handbook, "handbook.md", HANDBOOK.encode()).json()["id"])
    assert document["status"] == "ready", document
    conversation = alice.conversation()
    question = "When are expense reports due? [sim:cite]"
    done = alice.ask(conversation, question, collection_ids=[handbook])[-1][1]["message"]
    assert done["status"] == "complete" and done["citations"], done
    return conversation, question


def test_the_owner_exports_markdown_and_json_with_sources_tokens_and_cost(
    deployment: Deployment,
) -> None:
    org = deployment.new_org()
    alice = add_person(deployment, org.id, Role.ADMIN)
    bob = add_person(deployment, org.id)
    conversation, question = _cited_conversation(alice)
    messages = alice.messages(conversation)
    answer = messages[1]
    base = f"/api/orgs/{org.id}/conversations/{conversation}"

    markdown = alice.api("GET", f"{base}/export.md")
    assert markdown.status_code == 200
    assert markdown.headers["content-type"].startswith("text/markdown")
    assert markdown.headers["content-disposition"].startswith("attachment; filename=")
    text = markdown.text
    assert text.startswith("# When are expense reports due?\n")
    assert question in text and answer["content"] in text
    assert "handbook.md" in text and "Sources:" in text
    assert answer["cost"] in text and answer["model"] in text

    exported = alice.api("GET", f"{base}/export.json")
    assert exported.status_code == 200
    assert exported.headers["content-type"].startswith("application/json")
    body = exported.json()
    assert body["conversation"]["id"] == conversation
    assert body["conversation"]["title"] == "When are expense reports due?"
    kept = body["messages"]
    assert [m["role"] for m in kept] == ["user", "assistant"]
    assert kept[0]["content"] == question
    assert kept[1]["content"] == answer["content"]
    assert kept[1]["model"] == "gpt-4o-mini" and kept[1]["created_at"]
    assert {c["filename"] for c in kept[1]["citations"]} == {"handbook.md"}
    assert [c["n"] for c in kept[1]["citations"]] == [c["n"] for c in answer["citations"]]
    usage = kept[1]["usage"]
    # The answer's ledger rows (the completion and the question's embedding), summed.
    entries = deployment.context.usage.entries(org.id)
    ledgered = sum(e["list_cost_micros"] for e in entries if e["endpoint"] == "chat")
    assert isinstance(usage["cost_micros"], int) and usage["cost_micros"] >= ledgered > 0
    assert usage["cost_micros"] == answer["cost_micros"]
    assert usage["cost"] == answer["cost"] and usage["cost"].startswith("$0.")
    assert usage["completion_tokens"] == answer["completion_tokens"]
    assert kept[0]["usage"] is None
    assert body["totals"]["cost_micros"] == usage["cost_micros"]

    # Exports are the owner's: a teammate gets the same 404 as for an unknown id.
    for path in ("export.md", "export.json"):
        assert bob.api("GET", f"{base}/{path}").status_code == 404
        unknown = f"/api/orgs/{org.id}/conversations/conv_unknown/{path}"
        assert alice.api("GET", unknown).status_code == 404


def test_a_shared_link_is_for_the_org_only_and_dies_when_revoked(deployment: Deployment) -> None:
    org_a = deployment.new_org()
    org_b = deployment.new_org()
    alice = add_person(deployment, org_a.id)
    bob = add_person(deployment, org_a.id)
    charlie = add_person(deployment, org_b.id, Role.OWNER)
    conversation = alice.conversation()
    question = "[sim:echo]The offsite is in Porto this year"
    alice.ask(conversation, question)
    share_url = f"/api/orgs/{org_a.id}/conversations/{conversation}/share"
    assert alice.api("GET", share_url).json() == {"share": None}

    made = alice.api("POST", share_url)
    assert made.status_code == 201, made.text
    link = made.json()
    assert link["url"] == f"/orgs/{org_a.id}/shared/{link['id']}"
    assert alice.api("POST", share_url).json()["id"] == link["id"]  # one link
    assert alice.api("GET", share_url).json()["share"]["id"] == link["id"]
    # Only the owner shares: a teammate cannot share or revoke it.
    assert bob.api("POST", share_url).status_code == 404
    assert bob.api("DELETE", share_url).status_code == 404

    page = bob.client.get(link["url"])
    assert page.status_code == 200
    assert "The offsite is in Porto this year" in page.text
    assert alice.email in page.text
    shared = bob.api("GET", f"/api/orgs/{org_a.id}/shared/{link['id']}")
    assert shared.status_code == 200
    assert [m["role"] for m in shared.json()["messages"]] == ["user", "assistant"]
    assert "cost" not in json.dumps(shared.json())  # the owner's spending stays theirs

    # Anyone else: the same answer as for an id that never existed.
    unknown = "share_00000000000000000000"
    for org in (org_a.id, org_b.id):
        for prefix in ("/orgs", "/api/orgs"):
            real = charlie.api("GET", f"{prefix}/{org}/shared/{link['id']}")
            made_up = charlie.api("GET", f"{prefix}/{org}/shared/{unknown}")
            assert real.status_code == made_up.status_code == 404
            assert "Porto" not in real.text
            if prefix == "/api/orgs":
                assert real.json() == made_up.json()
    stranger = httpx.Client(base_url=deployment.instance.base_url, timeout=30)
    for prefix in ("/orgs", "/api/orgs"):
        real = stranger.get(f"{prefix}/{org_a.id}/shared/{link['id']}")
        made_up = stranger.get(f"{prefix}/{org_a.id}/shared/{unknown}")
        assert real.status_code == made_up.status_code
        assert real.status_code in (303, 401)
        assert "Porto" not in real.text

    revoked = alice.api("DELETE", share_url)
    assert revoked.status_code == 204
    assert bob.client.get(link["url"]).status_code == 404
    assert bob.api("GET", f"/api/orgs/{org_a.id}/shared/{link['id']}").status_code == 404
    assert alice.api("GET", share_url).json() == {"share": None}

    audit = deployment.context.audit.entries(org_a.id, AuditFilter(action="conversation."))
    assert sorted(e.action for e in audit) == ["conversation.shared", "conversation.unshared"]
    for entry in audit:
        assert entry.target == conversation
        assert entry.details == {"share_id": link["id"]}
        assert entry.actor_email == alice.email
    assert "Porto" not in json.dumps([e.details for e in audit])


def test_deleting_a_shared_conversation_ends_its_link(deployment: Deployment) -> None:
    org = deployment.new_org()
    alice = add_person(deployment, org.id)
    bob = add_person(deployment, org.id)
    conversation = alice.conversation("Rota")
    base = f"/api/orgs/{org.id}/conversations/{conversation}"
    link = alice.api("POST", f"{base}/share").json()
    assert bob.client.get(link["url"]).status_code == 200
    assert alice.api("DELETE", base).status_code == 204
    assert bob.client.get(link["url"]).status_code == 404


def test_a_link_ends_with_its_owners_seat(deployment: Deployment) -> None:
    org = deployment.new_org()
    alice = add_person(deployment, org.id)
    bob = add_person(deployment, org.id)
    conversation = alice.conversation("Handover notes")
    link = alice.api("POST", f"/api/orgs/{org.id}/conversations/{conversation}/share").json()
    assert bob.client.get(link["url"]).status_code == 200
    ctx = deployment.context
    owner = ctx.members.get(org.id, org.member_id)
    remove_member(ctx, ctx.orgs.by_id(org.id), owner, Actor.cli(), alice.member_id)
    assert bob.client.get(link["url"]).status_code == 404
    assert bob.api("GET", f"/api/orgs/{org.id}/shared/{link['id']}").status_code == 404
