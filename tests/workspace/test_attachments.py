"""Attachments in the composer, through a running server and the simulator.

A document attached to a conversation is ingested into that conversation's
own collection and cited in its answers without being chosen; an image goes
to a vision-capable model as an ``image_url`` part with a data URL (the
simulator's ``[sim:echo]`` says how many arrived); a model that cannot see is
refused before any call; the upload limits and refusals are the documents
page's, and another member or org gets a 404.
"""

from __future__ import annotations

import base64
import secrets
from typing import Any

import httpx
from sqlalchemy import func, select

from chatgrid.admin import org_settings
from chatgrid.audit import Actor
from chatgrid.identity.models import Role
from chatgrid.limits.policy import OrgPolicy
from chatgrid.store.tables import collections, conversation_images
from tests.support.deployment import Deployment
from tests.support.waiting import wait_for
from tests.support.workspace import HANDBOOK, Member, add_person

#: The smallest PNG signature plus a random tail, so each test's image is its own.
PNG = b"\x89PNG\r\n\x1a\n"


def png() -> bytes:
    return PNG + secrets.token_bytes(32)


def attach(member: Member, conversation: str, *files: tuple[str, bytes, str]) -> httpx.Response:
    return member.api(
        "POST",
        f"/api/orgs/{member.org_id}/conversations/{conversation}/attachments",
        files=[("files", f) for f in files],
    )


def listing(member: Member, conversation: str) -> httpx.Response:
    return member.api("GET", f"/api/orgs/{member.org_id}/conversations/{conversation}/attachments")


def send(member: Member, conversation: str, content: str, model: str) -> httpx.Response:
    url = f"/api/orgs/{member.org_id}/conversations/{conversation}/messages"
    return member.api("POST", url, json={"content": content, "model": model})


def chat_bodies(deployment: Deployment, marker: str) -> list[dict[str, Any]]:
    """The chat requests the simulator received whose last message mentions ``marker``."""
    found = []
    for record in deployment.simulator_records():
        body = record.get("body")
        if not str(record["path"]).endswith("/chat/completions") or not isinstance(body, dict):
            continue
        if marker in str(body["messages"][-1]["content"]):
            found.append(body)
    return found


def test_an_attached_document_is_cited_in_that_conversations_answers(
    deployment: Deployment,
) -> None:
    org = deployment.new_org()
    alice = add_person(deployment, org.id)
    conversation = alice.conversation("Travel questions")
    response = attach(
        alice,
        conversation,
        ("handbook.md", HANDBOOK.encode(), "text/markdown"),
        ("notes.txt", b"Remember the travel desk phone number 1234.", "text/plain"),
    )
    assert response.status_code == 202, response.text
    attached = response.json()
    assert [a["kind"] for a in attached] == ["document", "document"]

    def all_ready() -> list[dict[str, Any]] | None:
        found: list[dict[str, Any]] = listing(alice, conversation).json()
        return found if all(a["status"] == "ready" for a in found) else None

    assert {a["filename"] for a in wait_for(all_ready, timeout=30)} == {
        "handbook.md",
        "notes.txt",
    }
    # No collection chosen: the conversation's own is searched all the same.
    events = alice.ask(conversation, "When are expense reports due? [sim:cite]")
    done = events[-1][1]["message"]
    assert done["status"] == "complete", done
    assert done["citations"], done
    assert {c["filename"] for c in done["citations"]} <= {"handbook.md", "notes.txt"}
    # The collection is alice's own and private, and only this conversation searches it.
    other = alice.conversation("Something else")
    plain = alice.ask(other, "When are expense reports due? [sim:cite]")[-1][1]["message"]
    assert plain["citations"] == []

    # Another member of the org, and another org, see nothing of it.
    bob = add_person(deployment, org.id)
    assert listing(bob, conversation).status_code == 404
    refused = attach(bob, conversation, ("x.txt", b"hello", "text/plain"))
    assert refused.status_code == 404
    document = attached[0]["id"]
    assert bob.api("GET", f"/api/orgs/{org.id}/documents/{document}").status_code == 404
    outsider = add_person(deployment, deployment.new_org().id, Role.OWNER)
    assert listing(outsider, conversation).status_code == 404
    url = f"/api/orgs/{org.id}/conversations/{conversation}/attachments"
    assert outsider.api("GET", url).status_code == 404

    # Deleting the conversation deletes its collection with its documents.
    collection_id = alice.api("GET", f"/api/orgs/{org.id}/documents/{document}").json()[
        "collection_id"
    ]
    gone = alice.api("DELETE", f"/api/orgs/{org.id}/conversations/{conversation}")
    assert gone.status_code == 204
    assert alice.api("GET", f"/api/orgs/{org.id}/documents/{document}").status_code == 404
    with deployment.context.engine.connect() as conn:
        left = conn.execute(select(func.count()).where(collections.c.id == collection_id)).scalar()
    assert left == 0


def test_an_image_reaches_a_vision_model_as_an_image_part(deployment: Deployment) -> None:
    org = deployment.new_org()
    alice = add_person(deployment, org.id)
    conversation = alice.conversation()
    image = png()
    response = attach(alice, conversation, ("photo.png", image, "image/png"))
    assert response.status_code == 202, response.text
    assert response.json()[0] | {"id": None} == {
        "kind": "image",
        "id": None,
        "filename": "photo.png",
        "size_bytes": len(image),
        "status": "waiting",
    }
    marker = secrets.token_hex(4)
    events = alice.ask(conversation, f"[sim:echo]What is in {marker}?")
    done = events[-1][1]["message"]
    assert done["content"] == f"What is in {marker}? [images: 1]"
    (body,) = chat_bodies(deployment, marker)
    parts = body["messages"][-1]["content"]
    assert parts[0] == {"type": "text", "text": f"[sim:echo]What is in {marker}?"}
    expected = "data:image/png;base64," + base64.b64encode(image).decode()
    assert parts[1] == {"type": "image_url", "image_url": {"url": expected}}
    assert [a["status"] for a in listing(alice, conversation).json()] == ["sent"]

    # The next question re-sends the image with the question it came with; its own has none.
    follow_up = secrets.token_hex(4)
    later = alice.ask(conversation, f"[sim:echo]And {follow_up}?")[-1][1]["message"]
    assert later["content"] == f"And {follow_up}?"
    (body,) = chat_bodies(deployment, follow_up)
    earlier = [m for m in body["messages"] if isinstance(m["content"], list)]
    assert len(earlier) == 1 and earlier[0]["content"][1]["image_url"]["url"] == expected

    # Deleting the conversation deletes its images.
    alice.api("DELETE", f"/api/orgs/{org.id}/conversations/{conversation}")
    with deployment.context.engine.connect() as conn:
        left = conn.execute(
            select(func.count()).where(conversation_images.c.conversation_id == conversation)
        ).scalar()
    assert left == 0


def test_a_model_that_cannot_see_is_refused_before_any_call(deployment: Deployment) -> None:
    org = deployment.new_org()
    alice = add_person(deployment, org.id)
    conversation = alice.conversation()
    assert attach(alice, conversation, ("photo.png", png(), "image/png")).status_code == 202
    marker = secrets.token_hex(4)
    refused = send(alice, conversation, f"What is in {marker}?", "gpt-3.5-turbo")
    assert refused.status_code == 400
    error = refused.json()["error"]
    assert error["code"] == "images_need_vision_model" and error["param"] == "model"
    assert "cannot read images" in error["message"]
    assert chat_bodies(deployment, marker) == []
    assert alice.messages(conversation) == []
    # The image still waits for a model that can see it.
    assert [a["status"] for a in listing(alice, conversation).json()] == ["waiting"]


def test_attachments_get_the_upload_limits_and_refusals(deployment: Deployment) -> None:
    org = deployment.new_org()
    alice = add_person(deployment, org.id)
    conversation = alice.conversation()

    def code(response: httpx.Response) -> tuple[int, str]:
        return response.status_code, response.json()["error"]["code"]

    big = PNG + bytes(5 * 1024 * 1024)
    assert code(attach(alice, conversation, ("big.png", big, "image/png"))) == (
        413,
        "image_too_large",
    )
    svg = b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>"
    assert code(attach(alice, conversation, ("x.svg", svg, "image/svg+xml"))) == (
        400,
        "image_type_not_allowed",
    )
    assert code(attach(alice, conversation, ("empty.png", b"", "image/png"))) == (
        400,
        "document_empty",
    )
    assert code(attach(alice, conversation, ("empty.txt", b"", "text/plain"))) == (
        400,
        "document_empty",
    )
    for n in range(4):
        assert attach(alice, conversation, (f"{n}.png", png(), "image/png")).status_code == 202
    assert code(attach(alice, conversation, ("5.png", png(), "image/png"))) == (
        400,
        "too_many_images",
    )
    # A waiting image can be taken back; a sent or unknown one cannot.
    first = listing(alice, conversation).json()[0]["id"]
    url = f"/api/orgs/{org.id}/conversations/{conversation}/attachments/{first}"
    assert alice.api("DELETE", url).status_code == 204
    assert alice.api("DELETE", url).status_code == 404

    # The uploads-per-minute limit counts attachments with documents (30 by default;
    # eight made above). A refusal carries Retry-After.
    elsewhere = [alice.conversation() for _ in range(7)]
    statuses = [
        attach(alice, elsewhere[n // 4], (f"{n}.png", png(), "image/png")).status_code
        for n in range(26)
    ]
    assert statuses.count(429) >= 1 and set(statuses) == {202, 429}
    limited = attach(alice, elsewhere[-1], ("late.png", png(), "image/png"))
    assert limited.status_code == 429 and "retry-after" in limited.headers


def test_a_conversation_with_documents_says_when_their_search_is_not_allowed(
    deployment: Deployment,
) -> None:
    org = deployment.new_org()
    alice = add_person(deployment, org.id)
    conversation = alice.conversation()
    attached = attach(alice, conversation, ("handbook.md", HANDBOOK.encode(), "text/markdown"))
    assert attached.status_code == 202, attached.text
    only_chat = OrgPolicy(allowed_models=frozenset({"gpt-4o-mini"}))
    org_settings.update_policy(deployment.context, org.id, Actor.cli(), only_chat)
    refused = send(alice, conversation, "Where do I book?", "gpt-4o-mini")
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "embedding_model_not_allowed"
