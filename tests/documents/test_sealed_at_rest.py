"""Documents encrypted at rest, on both databases: no file, chunk text, heading or indexed word
is in the database in the clear, yet search, passages, downloads and exports read as before;
a sealed row moved elsewhere does not open; rotating the master key rewraps the org's data
key; rows stored before sealing stay searchable and are sealed by ``seal-documents``."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import Engine, LargeBinary, String, Text, func, select, text, update

from chatgrid.admin import keys
from chatgrid.audit import Actor
from chatgrid.context import AppContext
from chatgrid.identity.models import BillingMode, Role
from chatgrid.store.attachments import AttachmentRepository
from chatgrid.store.document_keys import DocumentKeys
from chatgrid.store.documents import DocumentRepository
from chatgrid.store.tables import (
    chunks,
    conversation_images,
    document_files,
    metadata,
    org_data_keys,
)
from chatgrid.vault import SecretUnreadable

#: Words no generated id or hash contains: found anywhere, the clear text leaked.
CANARY = "zanzibarquokka"
BODY = f"Quarterly plan. The {CANARY} initiative ships in March."
IMAGE = b"\x89PNG\r\n" + CANARY.encode() + b" pixels"


@dataclass(frozen=True)
class Draft:
    ordinal: int
    text: str
    heading: str | None = None
    page: int | None = None


def org_with_document(
    ctx: AppContext, name: str, repo: DocumentRepository | None = None
) -> tuple[str, str, str]:
    """An org, a collection and one ingested document holding the canary, and an image
    holding it attached in a conversation."""
    repo = repo or ctx.documents
    org = ctx.orgs.create(name, BillingMode.BYOK)
    member = ctx.accounts.add_member_without_password(org.id, f"a@{name}.example", Role.OWNER)
    collection = repo.create_collection(org.id, "Plans", None)
    doc = repo.add_document(
        org.id, collection.id, member.id, "plan.md", "text/markdown", BODY.encode()
    )
    repo.start_chunks(org.id, doc.id, [Draft(0, BODY, heading=f"{CANARY} heading")], pages=1)
    images = AttachmentRepository(ctx.engine, repo.sealing)
    conversation = ctx.conversations.create(org.id, member.id, "Plans", "gpt-4o-mini")
    images.add_image(org.id, conversation.id, member.id, "p.png", "image/png", IMAGE)
    return org.id, collection.id, doc.id


def image_of(ctx: AppContext, org_id: str) -> bytes:
    with ctx.engine.connect() as conn:
        found = conn.execute(
            select(conversation_images.c.id, conversation_images.c.conversation_id).where(
                conversation_images.c.org_id == org_id
            )
        ).one()
    return ctx.attachments.image_bytes(org_id, found.conversation_id, [found.id])[found.id]


def clear_text_in_database(engine: Engine, needle: str) -> list[str]:
    """Every column (and, on SQLite, any byte of the database files) holding ``needle``."""
    found: list[str] = []
    raw = needle.encode()
    with engine.connect() as conn:
        for table in metadata.sorted_tables:
            for column in table.c:
                if isinstance(column.type, (String, Text)):
                    hit = func.lower(column).like(f"%{needle.lower()}%")
                elif isinstance(column.type, LargeBinary):
                    if engine.dialect.name == "sqlite":
                        hit = func.instr(column, raw) > 0
                    else:
                        hit = func.strpos(func.encode(column, "escape"), needle) > 0
                else:
                    continue
                if conn.execute(select(func.count()).select_from(table).where(hit)).scalar_one():
                    found.append(f"{table.name}.{column.name}")
        if engine.dialect.name == "postgresql":
            tsv = text("SELECT count(*) FROM chunks WHERE tsv::text LIKE :n")
            if conn.execute(tsv, {"n": f"%{needle}%"}).scalar_one():
                found.append("chunks.tsv")
    if engine.dialect.name == "sqlite":
        engine.dispose()  # checkpoints the WAL into the file
        database = Path(str(engine.url.database))
        for path in (database, Path(f"{database}-wal")):
            if path.exists() and raw in path.read_bytes().lower():
                found.append(path.name)
    return found


def test_nothing_of_a_document_is_in_the_clear_and_it_reads_as_before(
    context: AppContext,
) -> None:
    ctx = context
    org_id, collection_id, doc_id = org_with_document(ctx, "sealed")

    assert clear_text_in_database(ctx.engine, CANARY) == []
    assert clear_text_in_database(ctx.engine, "quarterly") == []
    # Everything above storage reads the clear text.
    assert ctx.documents.file_bytes(org_id, doc_id) == BODY.encode()
    assert image_of(ctx, org_id) == IMAGE
    ranked = ctx.documents.keyword_ranking(org_id, [collection_id], f"{CANARY.upper()}?", 5)
    assert len(ranked) == 1
    passage = ctx.documents.passages(org_id, [collection_id], ranked)[ranked[0]]
    assert passage.text == BODY and passage.heading == f"{CANARY} heading"
    chunk = ctx.documents.chunk(org_id, ranked[0])
    assert chunk is not None and chunk.text == BODY
    assert ctx.documents.keyword_ranking(org_id, [collection_id], "zanzibar", 5) == []


def test_a_sealed_row_opens_only_where_it_was_sealed(context: AppContext) -> None:
    ctx = context
    org_a, _, doc_a = org_with_document(ctx, "first")
    org_b, collection_b, doc_b = org_with_document(ctx, "second")
    with ctx.engine.begin() as conn:  # another org's sealed file copied over this one's
        theirs = conn.execute(
            select(document_files.c.data).where(document_files.c.document_id == doc_a)
        ).scalar_one()
        conn.execute(
            update(document_files).where(document_files.c.document_id == doc_b).values(data=theirs)
        )
    with pytest.raises(SecretUnreadable):
        ctx.documents.file_bytes(org_b, doc_b)
    # The same words have other names in another org's index.
    with ctx.engine.connect() as conn:
        names = conn.execute(select(chunks.c.org_id, chunks.c.keywords)).all()
    by_org = {row.org_id: set(row.keywords.split()) for row in names}
    assert by_org[org_a].isdisjoint(by_org[org_b])
    assert len(ctx.documents.keyword_ranking(org_b, [collection_b], CANARY, 5)) == 1


def test_rotating_the_master_key_rewraps_the_data_keys(context: AppContext) -> None:
    ctx = context
    org_id, collection_id, doc_id = org_with_document(ctx, "rotated")
    before = master_version(ctx, org_id)

    result = keys.rotate_master(ctx, Actor.cli())

    assert master_version(ctx, org_id) == result["master_key_version"] > before
    # A process that never saw the key before (no cipher in memory) reads with the new master.
    fresh = DocumentRepository(ctx.engine, DocumentKeys(ctx.engine, lambda: ctx.vault))
    assert fresh.file_bytes(org_id, doc_id) == BODY.encode()
    assert len(fresh.keyword_ranking(org_id, [collection_id], CANARY, 5)) == 1


def master_version(ctx: AppContext, org_id: str) -> int:
    with ctx.engine.connect() as conn:
        query = select(org_data_keys.c.master_key_version).where(org_data_keys.c.org_id == org_id)
        return int(conn.execute(query).scalar_one())


def test_documents_stored_before_sealing_are_found_then_sealed(context: AppContext) -> None:
    ctx = context
    before = DocumentRepository(ctx.engine, None)  # how rows were stored before this release
    org_id, collection_id, doc_id = org_with_document(ctx, "legacy", before)
    assert clear_text_in_database(ctx.engine, CANARY) != []
    assert len(ctx.documents.keyword_ranking(org_id, [collection_id], CANARY, 5)) == 1

    sealed = keys.seal_plain_documents(ctx, Actor.cli())

    assert sealed == {"files_sealed": 1, "chunks_sealed": 1, "images_sealed": 1}
    assert clear_text_in_database(ctx.engine, CANARY) == []
    assert ctx.documents.file_bytes(org_id, doc_id) == BODY.encode()
    assert image_of(ctx, org_id) == IMAGE
    ranked = ctx.documents.keyword_ranking(org_id, [collection_id], CANARY, 5)
    assert ctx.documents.passages(org_id, [collection_id], ranked)[ranked[0]].text == BODY
    again = keys.seal_plain_documents(ctx, Actor.cli())
    assert again == {"files_sealed": 0, "chunks_sealed": 0, "images_sealed": 0}
