"""The chat picker offers chat models only, and document search says what it needs.

An embedding model can be called but not chatted with; a member who names
one gets a refusal that says so (not an upstream 404 the page reads as "this
conversation no longer exists"). An allow-list without the embedding model
makes document questions fail: the refusal names that model and says an
admin must allow it, not the chat model the member chose.
"""

from __future__ import annotations

from chatgrid.admin import keys, org_settings
from chatgrid.audit import Actor
from chatgrid.identity.models import Role
from chatgrid.limits.policy import OrgPolicy
from tests.support.deployment import Deployment
from tests.support.workspace import add_person


def test_the_picker_lists_chat_models_and_an_embedding_model_is_refused_in_words(
    deployment: Deployment,
) -> None:
    org = deployment.new_org()
    alice = add_person(deployment, org.id, Role.ADMIN)
    listed = alice.api("GET", f"/api/orgs/{org.id}/models").json()
    assert "gpt-4o-mini" in listed["models"]
    assert listed["models"] and not [m for m in listed["models"] if "embedding" in m]

    conversation = alice.conversation()
    url = f"/api/orgs/{org.id}/conversations/{conversation}/messages"
    body = {"content": "hello", "model": "text-embedding-3-small"}
    refused = alice.api("POST", url, json=body)
    assert refused.status_code == 400
    error = refused.json()["error"]
    assert error["code"] == "not_a_chat_model" and error["param"] == "model"
    assert "text-embedding-3-small" in error["message"] and "embedding" in error["message"]
    assert alice.messages(conversation) == []
    assert deployment.context.usage.entries(org.id) == []


def test_a_document_question_refused_for_the_embedding_model_says_so(
    deployment: Deployment,
) -> None:
    org = deployment.new_org()
    alice = add_person(deployment, org.id, Role.ADMIN)
    created = alice.api(
        "POST", f"/api/orgs/{org.id}/collections", json={"name": "Handbook", "scope": "org"}
    )
    assert created.status_code == 201, created.text
    only_chat = OrgPolicy(allowed_models=frozenset({"gpt-4o-mini"}))
    org_settings.update_policy(deployment.context, org.id, Actor.cli(), only_chat)

    conversation = alice.conversation()
    url = f"/api/orgs/{org.id}/conversations/{conversation}/messages"
    body = {"content": "Where do I book?", "model": "gpt-4o-mini"}
    refused = alice.api("POST", url, json={**body, "collection_ids": [created.json()["id"]]})
    assert refused.status_code == 403
    error = refused.json()["error"]
    assert error["code"] == "embedding_model_not_allowed"
    embedding_model = deployment.context.settings.embedding_model
    assert f"Document search needs the embedding model '{embedding_model}'" in error["message"]
    assert "admin" in error["message"] and "gpt-4o-mini" not in error["message"]
    assert alice.messages(conversation) == []
    # Without documents the chat model still answers.
    events = alice.ask(conversation, "[sim:echo]hi")
    assert events[-1][0] == "done"


def test_with_no_key_the_chat_page_gets_one_message_for_the_one_who_can_act(
    deployment: Deployment,
) -> None:
    org = deployment.new_org()
    keys.revoke_credential(deployment.context, org.id)
    admin = add_person(deployment, org.id, Role.ADMIN)
    member = add_person(deployment, org.id, Role.MEMBER)
    for person, step in ((admin, "Connect one on the Key page"), (member, "An admin connects one")):
        listed = person.api("GET", f"/api/orgs/{org.id}/models").json()
        assert listed["models"] == []
        # A code the page does not reword: the page shows this one sentence, nothing else.
        assert listed["problem"]["code"] == "setup_needed"
        message = listed["problem"]["message"]
        assert message.startswith("Your organization has no working OpenAI key connected.")
        assert step in message and "ask an admin" not in message.lower()


def test_an_empty_picker_says_why_and_where_it_is_changed(deployment: Deployment) -> None:
    org = deployment.new_org()
    admin = add_person(deployment, org.id, Role.ADMIN)
    only_embedding = OrgPolicy(allowed_models=frozenset({"text-embedding-3-small"}))
    org_settings.update_policy(deployment.context, org.id, Actor.cli(), only_embedding)
    listed = admin.api("GET", f"/api/orgs/{org.id}/models").json()
    assert listed["models"] == []
    assert listed["problem"]["code"] == "setup_needed"
    assert "allows none of the chat models its key offers" in listed["problem"]["message"]
    assert "Limits & models page" in listed["problem"]["message"]
