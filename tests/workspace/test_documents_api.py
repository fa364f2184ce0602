"""Documents through the workspace: upload, background ingestion, cited answers, deletion."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from chatgrid.identity.models import Role
from chatgrid.store.tables import chat_messages, chunks, document_files, documents
from tests.support.deployment import Deployment
from tests.support.documents import encrypt_pdf, make_pdf
from tests.support.workspace import HANDBOOK, add_person, collection, ready, upload


def test_upload_ingest_and_answer_with_citations(deployment: Deployment) -> None:
    org = deployment.new_org()
    alice = add_person(deployment, org.id, Role.ADMIN)
    handbook = collection(alice)
    response = upload(alice, handbook, "handbook.md", HANDBOOK.encode())
    assert response.status_code == 202, response.text
    assert response.json()["status"] == "queued"
    document = ready(alice, response.json()["id"])
    assert document["status"] == "ready", document
    assert document["progress"] == 100
    assert document["chunks_done"] == document["chunks_total"] >= 1

    conversation = alice.conversation()
    events = alice.ask(
        conversation, "When are expense reports due? [sim:cite]", collection_ids=[handbook]
    )
    done = events[-1][1]["message"]
    assert done["citations"], done
    cited = done["citations"][0]
    assert cited["filename"] == "handbook.md"
    assert cited["url"] == (
        f"/orgs/{org.id}/documents/{document['id']}/passages/{cited['chunk_id']}"
    )
    passage = deployment.context.documents.chunk(org.id, cited["chunk_id"])
    assert passage is not None
    assert "Expense reports are due" in passage.text
    # An answer that names no source lists none, though passages were given.
    plain = alice.ask(conversation, "Thanks!", collection_ids=[handbook])[-1][1]["message"]
    assert plain["status"] == "complete" and plain["citations"] == []
    # The collections chosen are remembered with the conversation, and changed with it.
    detail = alice.api("GET", f"/api/orgs/{org.id}/conversations/{conversation}").json()
    assert detail["conversation"]["collection_ids"] == [handbook]
    alice.ask(conversation, "[sim:tokens=2] And without documents?")
    detail = alice.api("GET", f"/api/orgs/{org.id}/conversations/{conversation}").json()
    assert detail["conversation"]["collection_ids"] == []

    # The question's embedding and the document's went through the gateway too.
    entries = deployment.context.usage.entries(org.id)
    assert {e["endpoint"] for e in entries} == {"chat", "embeddings"}
    assert plain["cost_micros"] == sum(
        e["list_cost_micros"] for e in entries if e["call_id"] in _calls_of(deployment, plain)
    )
    assert done["cost_micros"] == sum(
        e["list_cost_micros"] for e in entries if e["call_id"] in _calls_of(deployment, done)
    )


def _calls_of(deployment: Deployment, message: dict[str, Any]) -> set[str]:
    """The ledger rows a message says it cost: its completion and its question's embedding."""
    m = chat_messages.c
    with deployment.context.engine.connect() as conn:
        row = conn.execute(
            select(m.call_id, m.retrieval_call_id).where(m.id == message["id"])
        ).one()
    assert row.call_id and row.retrieval_call_id
    return {row.call_id, row.retrieval_call_id}


def test_broken_and_unsupported_files_fail_clearly(deployment: Deployment) -> None:
    org = deployment.new_org()
    alice = add_person(deployment, org.id, Role.ADMIN)
    handbook = collection(alice)
    broken = upload(alice, handbook, "report.pdf", b"%PDF-1.7\nthis is not really a pdf")
    assert broken.status_code == 202
    failed = ready(alice, broken.json()["id"])
    assert failed["status"] == "failed"
    assert failed["error"] and "PDF" in failed["error"]
    empty = upload(alice, handbook, "empty.txt", b"", "text/plain")
    assert empty.status_code == 400
    assert empty.json()["error"]["code"] == "document_empty"


def test_members_read_shared_collections_but_only_admins_curate_them(
    deployment: Deployment,
) -> None:
    org = deployment.new_org()
    alice = add_person(deployment, org.id, Role.ADMIN)
    bob = add_person(deployment, org.id)
    shared = collection(alice)
    refused = bob.api("POST", f"/api/orgs/{org.id}/collections", json={"name": "x", "scope": "org"})
    assert refused.status_code == 403
    assert upload(bob, shared, "notes.md", b"# Notes\n\nhello").status_code == 403
    mine = collection(bob, "Bob's notes", "private")
    assert upload(bob, mine, "notes.md", b"# Notes\n\nhello").status_code == 202
    listed = {c["id"]: c["scope"] for c in bob.api("GET", f"/api/orgs/{org.id}/collections").json()}
    assert listed == {shared: "org", mine: "private"}
    # Bob's private collection is invisible to the admin.
    alice_sees = {c["id"] for c in alice.api("GET", f"/api/orgs/{org.id}/collections").json()}
    assert mine not in alice_sees
    assert alice.api("GET", f"/api/orgs/{org.id}/collections/{mine}/documents").status_code == 404


def test_deleting_a_document_removes_its_file_text_chunks_and_vectors(
    deployment: Deployment,
) -> None:
    org = deployment.new_org()
    alice = add_person(deployment, org.id, Role.ADMIN)
    handbook = collection(alice)
    document = ready(alice, upload(alice, handbook, "h.md", HANDBOOK.encode()).json()["id"])
    assert document["status"] == "ready"
    assert alice.api("DELETE", f"/api/orgs/{org.id}/documents/{document['id']}").status_code == 204
    actions = [e.action for e in deployment.context.audit.entries(org.id)]
    assert {"collection.created", "document.uploaded", "document.deleted"} <= set(actions)
    with deployment.context.engine.connect() as conn:
        for table, column in (
            (documents, documents.c.id),
            (document_files, document_files.c.document_id),
            (chunks, chunks.c.document_id),
        ):
            count = conn.execute(
                select(func.count()).select_from(table).where(column == document["id"])
            ).scalar_one()
            assert count == 0, table.name
    found = alice.api("GET", f"/api/orgs/{org.id}/search", params={"q": "expense reports"})
    assert found.status_code == 200
    assert found.json() == []


def test_too_large_and_encrypted_files_are_refused_with_a_reason(deployment: Deployment) -> None:
    org = deployment.new_org()
    alice = add_person(deployment, org.id, Role.ADMIN)
    handbook = collection(alice)
    limit = deployment.context.settings.document_max_bytes
    just_over = upload(alice, handbook, "big.txt", b"a" * (limit + 1), "text/plain")
    assert just_over.status_code == 413
    assert just_over.json()["error"]["code"] == "document_too_large"
    assert "MiB" in just_over.json()["error"]["message"]
    far_over = upload(alice, handbook, "huge.txt", b"a" * (limit + 1024 * 1024), "text/plain")
    assert far_over.status_code == 413  # refused before the body is read in full
    locked = encrypt_pdf(make_pdf(["Salaries for 2027."]), user_password="pw")
    document = ready(alice, upload(alice, handbook, "salaries.pdf", locked).json()["id"])
    assert document["status"] == "failed"
    assert "password" in document["error"].lower() or "encrypt" in document["error"].lower()
    listed = alice.api("GET", f"/api/orgs/{org.id}/collections/{handbook}/documents").json()
    assert [d["filename"] for d in listed] == ["salaries.pdf"]  # the refused uploads left nothing
