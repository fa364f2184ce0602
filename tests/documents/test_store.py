"""Document storage on the configured backend: scoping, ingestion state, deletion, claims."""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass

import numpy as np
import pytest
from sqlalchemy import func, select, text

from chatgrid.context import AppContext
from chatgrid.documents.models import DocumentStatus
from chatgrid.documents.vectors import encode_vector
from chatgrid.errors import NotFound
from chatgrid.identity.models import BillingMode, Role
from chatgrid.store.tables import chunks, collections, document_files, documents


@dataclass(frozen=True)
class Draft:
    ordinal: int
    text: str
    heading: str | None = None
    page: int | None = None


def _org(context: AppContext, name: str) -> tuple[str, str]:
    org = context.orgs.create(name, BillingMode.BYOK)
    member = context.accounts.add_member_without_password(
        org.id, f"alice@{name}.example.com", Role.OWNER
    )
    return org.id, member.id


def _vector(seed: int, dims: int = 16) -> bytes:
    return encode_vector(np.random.default_rng(seed).standard_normal(dims))


def _row_counts(context: AppContext) -> dict[str, int]:
    counts: dict[str, int] = {}
    with context.engine.connect() as conn:
        for table in (collections, documents, document_files, chunks):
            counts[table.name] = conn.execute(select(func.count()).select_from(table)).scalar_one()
        if context.engine.dialect.name == "sqlite":
            # One row per indexed chunk in FTS5's own bookkeeping table.
            counts["fts"] = conn.execute(
                text("SELECT count(*) FROM chunks_fts_docsize")
            ).scalar_one()
        else:
            counts["fts"] = conn.execute(
                text("SELECT count(*) FROM chunks WHERE tsv IS NOT NULL")
            ).scalar_one()
    return counts


def test_shared_collections_are_seen_by_all_members_private_ones_by_their_owner(
    context: AppContext,
) -> None:
    org_id, alice = _org(context, "acme")
    bob = context.accounts.add_member_without_password(
        org_id, "bob@acme.example.com", Role.MEMBER
    ).id
    shared = context.documents.create_collection(org_id, "Handbook", None)
    private = context.documents.create_collection(org_id, "Alice's notes", alice)
    assert not shared.is_private and private.is_private
    assert {c.id for c in context.documents.collections_visible(org_id, alice)} == {
        shared.id,
        private.id,
    }
    assert [c.id for c in context.documents.collections_visible(org_id, bob)] == [shared.id]
    other_org, carol = _org(context, "other")
    assert context.documents.collections_visible(other_org, carol) == []
    assert context.documents.collection(other_org, shared.id) is None
    assert context.documents.collection(org_id, shared.id) == shared


def test_an_upload_is_stored_queued_and_invisible_to_other_orgs(context: AppContext) -> None:
    org_id, alice = _org(context, "acme")
    other_org, _ = _org(context, "other")
    col = context.documents.create_collection(org_id, "Docs", None)
    doc = context.documents.add_document(org_id, col.id, alice, "a.txt", "text/plain", b"hello")
    assert doc.status == DocumentStatus.QUEUED and doc.size_bytes == 5
    assert len(doc.sha256) == 64
    assert context.documents.file_bytes(org_id, doc.id) == b"hello"
    assert context.documents.document(org_id, doc.id) == doc
    assert context.documents.documents(org_id, col.id) == [doc]
    assert context.documents.file_bytes(other_org, doc.id) is None
    assert context.documents.document(other_org, doc.id) is None
    assert context.documents.documents(other_org, col.id) == []
    with pytest.raises(NotFound):
        context.documents.add_document(other_org, col.id, alice, "b.txt", "text/plain", b"x")
    with pytest.raises(NotFound):
        context.documents.start_chunks(other_org, doc.id, [Draft(0, "x")], None)
    with pytest.raises(NotFound):
        context.documents.set_embeddings(other_org, doc.id, [])
    assert context.documents.delete_document(other_org, doc.id) is False
    assert context.documents.file_bytes(org_id, doc.id) == b"hello"


def test_ingestion_progress_is_counted_and_a_retry_replaces_earlier_chunks(
    context: AppContext,
) -> None:
    org_id, alice = _org(context, "acme")
    col = context.documents.create_collection(org_id, "Docs", None)
    doc = context.documents.add_document(org_id, col.id, alice, "a.md", "text/markdown", b"#")
    drafts = [Draft(2, "third"), Draft(0, "first", "Intro", 1), Draft(1, "second")]
    ids = context.documents.start_chunks(org_id, doc.id, drafts, pages=3)
    assert [context.documents.chunk(org_id, i).text for i in ids] == [  # type: ignore[union-attr]
        "first",
        "second",
        "third",
    ]
    first = context.documents.chunk(org_id, ids[0])
    assert first is not None and first.heading == "Intro" and first.page == 1
    assert first.document_id == doc.id and first.collection_id == col.id
    state = context.documents.document(org_id, doc.id)
    assert state is not None and (state.chunks_total, state.chunks_done, state.pages) == (3, 0, 3)
    context.documents.set_embeddings(org_id, doc.id, [(ids[0], _vector(0)), (ids[1], _vector(1))])
    state = context.documents.document(org_id, doc.id)
    assert state is not None and state.chunks_done == 2
    context.documents.set_embeddings(org_id, doc.id, [(ids[0], _vector(0))])  # idempotent
    context.documents.set_embeddings(org_id, doc.id, [(ids[2], _vector(2))])
    context.documents.mark_ready(org_id, doc.id)
    state = context.documents.document(org_id, doc.id)
    assert state is not None and state.status == DocumentStatus.READY and state.chunks_done == 3

    again = context.documents.start_chunks(org_id, doc.id, [Draft(0, "only")], pages=1)
    assert context.documents.chunk(org_id, ids[0]) is None
    assert _row_counts(context)["chunks"] == 1 == _row_counts(context)["fts"]
    assert context.documents.keyword_ranking(org_id, [col.id], "only", 5) == again
    assert context.documents.chunk(_org(context, "other")[0], again[0]) is None


def test_nul_characters_from_extraction_are_dropped_on_every_backend(
    context: AppContext,
) -> None:
    org_id, alice = _org(context, "acme")
    col = context.documents.create_collection(org_id, "Docs", None)
    doc = context.documents.add_document(org_id, col.id, alice, "n\x00.txt", "text/plain", b"\x00")
    [chunk_id] = context.documents.start_chunks(org_id, doc.id, [Draft(0, "a\x00b", "h\x00")], 1)
    chunk = context.documents.chunk(org_id, chunk_id)
    assert chunk is not None and (chunk.text, chunk.heading) == ("ab", "h")
    assert context.documents.file_bytes(org_id, doc.id) == b"\x00"


def test_a_failed_document_keeps_no_searchable_chunks(context: AppContext) -> None:
    org_id, alice = _org(context, "acme")
    col = context.documents.create_collection(org_id, "Docs", None)
    doc = context.documents.add_document(org_id, col.id, alice, "a.pdf", "application/pdf", b"%")
    context.documents.start_chunks(org_id, doc.id, [Draft(0, "zebra stripes")], None)
    context.documents.mark_failed(org_id, doc.id, "the PDF is encrypted " + "x" * 2000)
    state = context.documents.document(org_id, doc.id)
    assert state is not None and state.status == DocumentStatus.FAILED
    assert state.error is not None and state.error.startswith("the PDF is encrypted")
    assert len(state.error) <= 500
    assert context.documents.keyword_ranking(org_id, [col.id], "zebra", 5) == []


def test_deleting_a_document_removes_its_file_chunks_vectors_and_keyword_rows(
    context: AppContext,
) -> None:
    org_id, alice = _org(context, "acme")
    col = context.documents.create_collection(org_id, "Docs", None)
    keep = context.documents.add_document(org_id, col.id, alice, "k.txt", "text/plain", b"k")
    gone = context.documents.add_document(org_id, col.id, alice, "g.txt", "text/plain", b"g")
    keep_ids = context.documents.start_chunks(org_id, keep.id, [Draft(0, "ordinary text")], None)
    gone_ids = context.documents.start_chunks(
        org_id, gone.id, [Draft(0, "canary platypus"), Draft(1, "more platypus")], None
    )
    context.documents.set_embeddings(org_id, keep.id, [(keep_ids[0], _vector(0))])
    context.documents.set_embeddings(
        org_id, gone.id, [(gone_ids[0], _vector(1)), (gone_ids[1], _vector(2))]
    )
    before = _row_counts(context)
    assert before == {
        "collections": 1,
        "documents": 2,
        "document_files": 2,
        "chunks": 3,
        "fts": 3,
    }
    assert len(context.documents.collection_vectors(org_id, col.id)[0]) == 3

    assert context.documents.delete_document(org_id, gone.id) is True
    assert _row_counts(context) == {
        "collections": 1,
        "documents": 1,
        "document_files": 1,
        "chunks": 1,
        "fts": 1,
    }
    assert context.documents.keyword_ranking(org_id, [col.id], "platypus", 5) == []
    assert context.documents.collection_vectors(org_id, col.id)[0] == keep_ids
    assert context.documents.file_bytes(org_id, gone.id) is None
    assert context.documents.delete_document(org_id, gone.id) is False

    context.documents.delete_collection(org_id, col.id)
    assert set(_row_counts(context).values()) == {0}


def test_deleting_a_document_bumps_its_collections_vector_version(context: AppContext) -> None:
    org_id, alice = _org(context, "acme")
    col = context.documents.create_collection(org_id, "Docs", None)
    doc = context.documents.add_document(org_id, col.id, alice, "k.txt", "text/plain", b"k")
    start = context.documents.collection_versions(org_id, [col.id])[col.id]
    ids = context.documents.start_chunks(org_id, doc.id, [Draft(0, "a")], None)
    context.documents.set_embeddings(org_id, doc.id, [(ids[0], _vector(0))])
    embedded = context.documents.collection_versions(org_id, [col.id])[col.id]
    context.documents.delete_document(org_id, doc.id)
    deleted = context.documents.collection_versions(org_id, [col.id])[col.id]
    assert start < embedded < deleted
    assert context.documents.collection_versions(_org(context, "b")[0], [col.id]) == {}


def test_each_queued_document_is_claimed_by_exactly_one_of_many_workers(
    context: AppContext,
) -> None:
    org_id, alice = _org(context, "acme")
    col = context.documents.create_collection(org_id, "Docs", None)
    queued = {
        context.documents.add_document(org_id, col.id, alice, f"{n}.txt", "text/plain", b"x").id
        for n in range(24)
    }
    claims: list[str] = []
    lock = threading.Lock()
    start = threading.Barrier(6)
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            start.wait()
            while (doc := context.documents.claim_next(stale_after_seconds=3600)) is not None:
                assert doc.status == DocumentStatus.PROCESSING
                with lock:
                    claims.append(doc.id)
        except BaseException as exc:  # reported below, not swallowed
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert Counter(claims) == Counter(queued)
    assert context.documents.claim_next(stale_after_seconds=3600) is None


def test_an_abandoned_claim_is_retried_then_failed(context: AppContext) -> None:
    org_id, alice = _org(context, "acme")
    col = context.documents.create_collection(org_id, "Docs", None)
    doc = context.documents.add_document(org_id, col.id, alice, "a.txt", "text/plain", b"x")
    first = context.documents.claim_next(stale_after_seconds=3600)
    assert first is not None and first.id == doc.id and first.attempts == 1
    assert context.documents.claim_next(stale_after_seconds=3600) is None
    # A zero staleness window treats every claim as abandoned: its worker "died".
    second = context.documents.claim_next(stale_after_seconds=0, max_attempts=2)
    assert second is not None and second.id == doc.id and second.attempts == 2
    assert context.documents.claim_next(stale_after_seconds=0, max_attempts=2) is None
    failed = context.documents.document(org_id, doc.id)
    assert failed is not None and failed.status == DocumentStatus.FAILED
    assert failed.error == "ingestion did not finish after 2 attempts"
