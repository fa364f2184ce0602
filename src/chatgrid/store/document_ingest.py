"""The ingestion worker's side of the document store: claim, chunk, embed, finish.

Split from ``store/documents.py`` (the member-facing side: collections,
uploads, deletion, search) because its rules are the queue's: a claim is a
conditional UPDATE only one worker can win, an abandoned claim is retried a
bounded number of times, and every change to a collection's chunks bumps its
``vectors_version`` so every replica's vector cache reloads.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import timedelta
from typing import Any

from sqlalchemy import Connection, Engine, and_, bindparam, delete, func, or_, select, update

from chatgrid.documents.models import ChunkDraftLike, Document, DocumentStatus
from chatgrid.errors import NotFound
from chatgrid.store.ids import new_id
from chatgrid.store.tables import chunks, collections, documents
from chatgrid.store.types import utcnow

_ERROR_CHARS = 500


def document_from_row(row: Mapping[Any, Any]) -> Document:
    return Document(
        id=row["id"],
        org_id=row["org_id"],
        collection_id=row["collection_id"],
        uploaded_by=row["uploaded_by"],
        filename=row["filename"],
        content_type=row["content_type"],
        size_bytes=row["size_bytes"],
        status=row["status"],
        error=row["error"],
        pages=row["pages"],
        chunks_total=row["chunks_total"],
        chunks_done=row["chunks_done"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        sha256=row["sha256"],
        attempts=row["attempts"],
    )


def clean_text(value: str | None) -> str:
    """PostgreSQL text cannot hold NUL; extracted text sometimes does."""
    return (value or "").replace("\x00", "")


def bump_vectors(conn: Connection, org_id: str, collection_id: str) -> None:
    """Tell every replica's vector cache that this collection changed."""
    conn.execute(
        update(collections)
        .where(collections.c.org_id == org_id, collections.c.id == collection_id)
        .values(vectors_version=collections.c.vectors_version + 1)
    )


def collection_of(conn: Connection, org_id: str, document_id: str) -> str:
    collection_id = conn.execute(
        select(documents.c.collection_id).where(
            documents.c.org_id == org_id, documents.c.id == document_id
        )
    ).scalar()
    if collection_id is None:
        raise NotFound("no such document", code="document_not_found")
    return str(collection_id)


class IngestionQueue:
    """What the ingestion worker does to documents; mixed into ``DocumentRepository``."""

    engine: Engine

    def claim_next(self, stale_after_seconds: int, max_attempts: int = 3) -> Document | None:
        """Move one queued (or abandoned) document to processing, for this worker only.

        Exclusive across threads and replicas: the claim is a conditional
        UPDATE that only one caller's rowcount sees succeed. A document whose
        worker died (claimed longer ago than ``stale_after_seconds``) is
        claimed again, up to ``max_attempts`` times; then it is failed, so a
        file that crashes workers cannot loop forever.
        """
        now = utcnow()
        cutoff = now - timedelta(seconds=stale_after_seconds)
        claimable = or_(
            documents.c.status == DocumentStatus.QUEUED.value,
            and_(
                documents.c.status == DocumentStatus.PROCESSING.value,
                documents.c.claimed_at < cutoff,
            ),
        )
        with self.engine.begin() as conn:
            conn.execute(
                update(documents)
                .where(
                    documents.c.status == DocumentStatus.PROCESSING.value,
                    documents.c.claimed_at < cutoff,
                    documents.c.attempts >= max_attempts,
                )
                .values(
                    status=DocumentStatus.FAILED.value,
                    error=f"ingestion did not finish after {max_attempts} attempts",
                    claimed_at=None,
                    updated_at=now,
                )
            )
        for _ in range(20):
            with self.engine.connect() as conn:
                candidates = list(
                    conn.execute(
                        select(documents.c.id)
                        .where(claimable)
                        .order_by(documents.c.created_at, documents.c.id)
                        .limit(8)
                    ).scalars()
                )
            if not candidates:
                return None
            for document_id in candidates:
                with self.engine.begin() as conn:
                    claimed = conn.execute(
                        update(documents)
                        .where(documents.c.id == document_id, claimable)
                        .values(
                            status=DocumentStatus.PROCESSING.value,
                            claimed_at=now,
                            updated_at=now,
                            attempts=documents.c.attempts + 1,
                        )
                    ).rowcount
                    if claimed == 1:
                        row = (
                            conn.execute(select(documents).where(documents.c.id == document_id))
                            .mappings()
                            .one()
                        )
                        return document_from_row(row)
        return None

    def start_chunks(
        self,
        org_id: str,
        document_id: str,
        drafts: Sequence[ChunkDraftLike],
        pages: int | None,
    ) -> list[str]:
        """Store the chunks (not yet embedded); replaces any left by an earlier attempt."""
        ordered = sorted(drafts, key=lambda d: d.ordinal)
        with self.engine.begin() as conn:
            collection_id = collection_of(conn, org_id, document_id)
            conn.execute(
                delete(chunks).where(chunks.c.org_id == org_id, chunks.c.document_id == document_id)
            )
            ids = [new_id("chk") for _ in ordered]
            if ordered:
                conn.execute(
                    chunks.insert(),
                    [
                        {
                            "id": chunk_id,
                            "org_id": org_id,
                            "collection_id": collection_id,
                            "document_id": document_id,
                            "ordinal": draft.ordinal,
                            "heading": clean_text(draft.heading)[:500] or None,
                            "page": draft.page,
                            "text": clean_text(draft.text),
                            "embedding": None,
                        }
                        for chunk_id, draft in zip(ids, ordered, strict=True)
                    ],
                )
            conn.execute(
                update(documents)
                .where(documents.c.id == document_id)
                .values(chunks_total=len(ids), chunks_done=0, pages=pages, updated_at=utcnow())
            )
            bump_vectors(conn, org_id, collection_id)
        return ids

    def set_embeddings(self, org_id: str, document_id: str, pairs: list[tuple[str, bytes]]) -> None:
        """Attach float32 little-endian vectors to chunks; chunks_done counts embedded chunks."""
        with self.engine.begin() as conn:
            collection_id = collection_of(conn, org_id, document_id)
            if pairs:
                conn.execute(
                    update(chunks)
                    .where(
                        chunks.c.id == bindparam("chunk_id"),
                        chunks.c.org_id == org_id,
                        chunks.c.document_id == document_id,
                    )
                    .values(embedding=bindparam("vector")),
                    [{"chunk_id": cid, "vector": vector} for cid, vector in pairs],
                )
            embedded = (
                select(func.count())
                .select_from(chunks)
                .where(chunks.c.document_id == document_id, chunks.c.embedding.is_not(None))
                .scalar_subquery()
            )
            conn.execute(
                update(documents)
                .where(documents.c.id == document_id)
                .values(chunks_done=embedded, updated_at=utcnow())
            )
            bump_vectors(conn, org_id, collection_id)

    def mark_ready(self, org_id: str, document_id: str) -> None:
        self._finish(org_id, document_id, DocumentStatus.READY, None)

    def mark_failed(self, org_id: str, document_id: str, error: str) -> None:
        """Failed documents keep their file (for the record) but no searchable chunks."""
        with self.engine.begin() as conn:
            collection_id = collection_of(conn, org_id, document_id)
            conn.execute(
                delete(chunks).where(chunks.c.org_id == org_id, chunks.c.document_id == document_id)
            )
            bump_vectors(conn, org_id, collection_id)
        self._finish(org_id, document_id, DocumentStatus.FAILED, clean_text(error)[:_ERROR_CHARS])

    def _finish(
        self, org_id: str, document_id: str, status: DocumentStatus, error: str | None
    ) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                update(documents)
                .where(documents.c.org_id == org_id, documents.c.id == document_id)
                .values(status=status.value, error=error, claimed_at=None, updated_at=utcnow())
            )
