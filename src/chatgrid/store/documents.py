"""Collections, documents, their uploaded bytes and chunks.

Every method takes the org id and filters by it, so a collection or document
id taken from another org finds nothing. Deleting a document removes its
file, chunks and vectors in one transaction; the keyword index follows the
chunks (SQLite triggers, a PostgreSQL generated column), so it cannot drift.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from datetime import timedelta
from typing import Any

from sqlalchemy import Connection, Engine, and_, bindparam, delete, func, or_, select, update

from chatgrid.documents.models import (
    Chunk,
    ChunkDraftLike,
    Collection,
    Document,
    DocumentStatus,
    PassageRow,
)
from chatgrid.errors import NotFound
from chatgrid.store import document_search
from chatgrid.store.ids import new_id
from chatgrid.store.tables import chunks, collections, document_files, documents
from chatgrid.store.types import utcnow

_ERROR_CHARS = 500


def _collection(row: Mapping[Any, Any]) -> Collection:
    return Collection(
        id=row["id"],
        org_id=row["org_id"],
        owner_member_id=row["owner_member_id"],
        name=row["name"],
        created_at=row["created_at"],
    )


def _document(row: Mapping[Any, Any]) -> Document:
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


def _clean(value: str | None) -> str:
    """PostgreSQL text cannot hold NUL; extracted text sometimes does."""
    return (value or "").replace("\x00", "")


def _bump_vectors(conn: Connection, org_id: str, collection_id: str) -> None:
    """Tell every replica's vector cache that this collection changed."""
    conn.execute(
        update(collections)
        .where(collections.c.org_id == org_id, collections.c.id == collection_id)
        .values(vectors_version=collections.c.vectors_version + 1)
    )


def _delete_documents(conn: Connection, org_id: str, document_ids: Sequence[str]) -> None:
    if not document_ids:
        return
    conn.execute(
        delete(chunks).where(chunks.c.org_id == org_id, chunks.c.document_id.in_(document_ids))
    )
    conn.execute(delete(document_files).where(document_files.c.document_id.in_(document_ids)))
    conn.execute(
        delete(documents).where(documents.c.org_id == org_id, documents.c.id.in_(document_ids))
    )


class DocumentRepository:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    # --- collections -------------------------------------------------------

    def create_collection(self, org_id: str, name: str, owner_member_id: str | None) -> Collection:
        row = {
            "id": new_id("col"),
            "org_id": org_id,
            "owner_member_id": owner_member_id,
            "name": name,
            "created_at": utcnow(),
        }
        with self.engine.begin() as conn:
            conn.execute(collections.insert().values(**row))
        return _collection(row)

    def collections_visible(self, org_id: str, member_id: str) -> list[Collection]:
        """The org's shared collections and this member's private ones."""
        query = (
            select(collections)
            .where(
                collections.c.org_id == org_id,
                or_(
                    collections.c.owner_member_id.is_(None),
                    collections.c.owner_member_id == member_id,
                ),
            )
            .order_by(collections.c.name, collections.c.id)
        )
        with self.engine.connect() as conn:
            return [_collection(r) for r in conn.execute(query).mappings()]

    def collection(self, org_id: str, collection_id: str) -> Collection | None:
        query = select(collections).where(
            collections.c.org_id == org_id, collections.c.id == collection_id
        )
        with self.engine.connect() as conn:
            row = conn.execute(query).mappings().first()
        return None if row is None else _collection(row)

    def delete_collection(self, org_id: str, collection_id: str) -> None:
        """The collection and every document, file and chunk in it."""
        with self.engine.begin() as conn:
            ids = list(
                conn.execute(
                    select(documents.c.id).where(
                        documents.c.org_id == org_id, documents.c.collection_id == collection_id
                    )
                ).scalars()
            )
            _delete_documents(conn, org_id, ids)
            conn.execute(
                delete(collections).where(
                    collections.c.org_id == org_id, collections.c.id == collection_id
                )
            )

    # --- documents ---------------------------------------------------------

    def add_document(
        self,
        org_id: str,
        collection_id: str,
        uploaded_by: str,
        filename: str,
        content_type: str,
        data: bytes,
    ) -> Document:
        """Store the upload and queue it; any replica's worker may ingest it."""
        now = utcnow()
        row = {
            "id": new_id("doc"),
            "org_id": org_id,
            "collection_id": collection_id,
            "uploaded_by": uploaded_by,
            "filename": _clean(filename)[:300],
            "content_type": _clean(content_type)[:200],
            "size_bytes": len(data),
            "sha256": hashlib.sha256(data).hexdigest(),
            "status": DocumentStatus.QUEUED.value,
            "error": None,
            "pages": None,
            "chunks_total": 0,
            "chunks_done": 0,
            "attempts": 0,
            "claimed_at": None,
            "created_at": now,
            "updated_at": now,
        }
        with self.engine.begin() as conn:
            owner = conn.execute(
                select(collections.c.id).where(
                    collections.c.org_id == org_id, collections.c.id == collection_id
                )
            ).first()
            if owner is None:
                raise NotFound("no such collection", code="collection_not_found")
            conn.execute(documents.insert().values(**row))
            conn.execute(document_files.insert().values(document_id=row["id"], data=data))
        return _document(row)

    def documents(self, org_id: str, collection_id: str) -> list[Document]:
        query = (
            select(documents)
            .where(documents.c.org_id == org_id, documents.c.collection_id == collection_id)
            .order_by(documents.c.created_at, documents.c.id)
        )
        with self.engine.connect() as conn:
            return [_document(r) for r in conn.execute(query).mappings()]

    def document(self, org_id: str, document_id: str) -> Document | None:
        query = select(documents).where(documents.c.org_id == org_id, documents.c.id == document_id)
        with self.engine.connect() as conn:
            row = conn.execute(query).mappings().first()
        return None if row is None else _document(row)

    def file_bytes(self, org_id: str, document_id: str) -> bytes | None:
        query = (
            select(document_files.c.data)
            .join(documents, documents.c.id == document_files.c.document_id)
            .where(documents.c.org_id == org_id, documents.c.id == document_id)
        )
        with self.engine.connect() as conn:
            data = conn.execute(query).scalar()
        return None if data is None else bytes(data)

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
                        return _document(row)
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
            collection_id = self._collection_of(conn, org_id, document_id)
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
                            "heading": _clean(draft.heading)[:500] or None,
                            "page": draft.page,
                            "text": _clean(draft.text),
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
            _bump_vectors(conn, org_id, collection_id)
        return ids

    def set_embeddings(self, org_id: str, document_id: str, pairs: list[tuple[str, bytes]]) -> None:
        """Attach float32 little-endian vectors to chunks; chunks_done counts embedded chunks."""
        with self.engine.begin() as conn:
            collection_id = self._collection_of(conn, org_id, document_id)
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
            _bump_vectors(conn, org_id, collection_id)

    def mark_ready(self, org_id: str, document_id: str) -> None:
        self._finish(org_id, document_id, DocumentStatus.READY, None)

    def mark_failed(self, org_id: str, document_id: str, error: str) -> None:
        """Failed documents keep their file (for the record) but no searchable chunks."""
        with self.engine.begin() as conn:
            collection_id = self._collection_of(conn, org_id, document_id)
            conn.execute(
                delete(chunks).where(chunks.c.org_id == org_id, chunks.c.document_id == document_id)
            )
            _bump_vectors(conn, org_id, collection_id)
        self._finish(org_id, document_id, DocumentStatus.FAILED, _clean(error)[:_ERROR_CHARS])

    def delete_document(self, org_id: str, document_id: str) -> bool:
        """File, chunks, vectors and keyword rows go in one transaction."""
        with self.engine.begin() as conn:
            collection_id = conn.execute(
                select(documents.c.collection_id).where(
                    documents.c.org_id == org_id, documents.c.id == document_id
                )
            ).scalar()
            if collection_id is None:
                return False
            _delete_documents(conn, org_id, [document_id])
            _bump_vectors(conn, org_id, collection_id)
        return True

    # --- chunks and search --------------------------------------------------

    def chunk(self, org_id: str, chunk_id: str) -> Chunk | None:
        query = select(*(c for c in chunks.c if c.name not in {"seq", "embedding"})).where(
            chunks.c.org_id == org_id, chunks.c.id == chunk_id
        )
        with self.engine.connect() as conn:
            row = conn.execute(query).mappings().first()
        if row is None:
            return None
        return Chunk(
            id=row["id"],
            org_id=row["org_id"],
            collection_id=row["collection_id"],
            document_id=row["document_id"],
            ordinal=row["ordinal"],
            heading=row["heading"],
            page=row["page"],
            text=row["text"],
        )

    def keyword_ranking(
        self, org_id: str, collection_ids: Sequence[str], query: str, limit: int
    ) -> list[str]:
        """Chunk ids best first by full-text rank; any query text is safe."""
        with self.engine.connect() as conn:
            return document_search.keyword_ranking(conn, org_id, collection_ids, query, limit)

    def collection_versions(self, org_id: str, collection_ids: Sequence[str]) -> dict[str, int]:
        with self.engine.connect() as conn:
            return document_search.collection_versions(conn, org_id, collection_ids)

    def collection_vectors(self, org_id: str, collection_id: str) -> tuple[list[str], list[bytes]]:
        with self.engine.connect() as conn:
            return document_search.collection_vectors(conn, org_id, collection_id)

    def passages(
        self, org_id: str, collection_ids: Sequence[str], chunk_ids: Sequence[str]
    ) -> dict[str, PassageRow]:
        with self.engine.connect() as conn:
            return document_search.passage_rows(conn, org_id, collection_ids, chunk_ids)

    # --- helpers -----------------------------------------------------------

    def _collection_of(self, conn: Connection, org_id: str, document_id: str) -> str:
        collection_id = conn.execute(
            select(documents.c.collection_id).where(
                documents.c.org_id == org_id, documents.c.id == document_id
            )
        ).scalar()
        if collection_id is None:
            raise NotFound("no such document", code="document_not_found")
        return str(collection_id)

    def _finish(
        self, org_id: str, document_id: str, status: DocumentStatus, error: str | None
    ) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                update(documents)
                .where(documents.c.org_id == org_id, documents.c.id == document_id)
                .values(status=status.value, error=error, claimed_at=None, updated_at=utcnow())
            )
