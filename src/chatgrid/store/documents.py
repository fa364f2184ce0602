"""Collections, documents, their uploaded bytes and chunks.

Every method takes the org id and filters by it, so a collection or document
id taken from another org finds nothing. Deleting a document removes its
file, chunks and vectors in one transaction; the keyword index follows the
chunks (SQLite triggers, a PostgreSQL generated column), so it cannot drift.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, Engine, delete, func, or_, select, text, update

from chatgrid.documents.models import (
    Chunk,
    Collection,
    Document,
    DocumentStatus,
    PassageRow,
)
from chatgrid.errors import NotFound
from chatgrid.governance.erasure import Erasure
from chatgrid.store import document_search
from chatgrid.store.document_ingest import (
    IngestionQueue,
    bump_vectors,
    clean_text,
    document_from_row,
)
from chatgrid.store.document_keys import DocumentKeys
from chatgrid.store.document_sealing import DocumentSealing
from chatgrid.store.ids import new_id
from chatgrid.store.tables import chunks, collections, document_files, documents
from chatgrid.store.types import utcnow


def _collection(row: Mapping[Any, Any]) -> Collection:
    return Collection(
        id=row["id"],
        org_id=row["org_id"],
        owner_member_id=row["owner_member_id"],
        name=row["name"],
        created_at=row["created_at"],
    )


def delete_collections(conn: Connection, org_id: str, collection_ids: Sequence[str]) -> None:
    """Collections with every document, file and chunk in them (in the caller's transaction)."""
    if not collection_ids:
        return
    ids = list(
        conn.execute(
            select(documents.c.id).where(
                documents.c.org_id == org_id, documents.c.collection_id.in_(collection_ids)
            )
        ).scalars()
    )
    delete_documents(conn, org_id, ids)
    conn.execute(
        delete(collections).where(
            collections.c.org_id == org_id, collections.c.id.in_(collection_ids)
        )
    )


def delete_some_chunks(
    conn: Connection, org_id: str, document_ids: Sequence[str], limit: int
) -> int:
    """Up to ``limit`` chunks of these documents (in the caller's transaction), ahead of the
    documents themselves: a document of tens of thousands of chunks goes in short
    transactions (retention). How many went; 0 once none is left."""
    some = (
        select(chunks.c.seq)
        .where(chunks.c.org_id == org_id, chunks.c.document_id.in_(document_ids))
        .limit(limit)
    )
    seqs = list(conn.execute(some).scalars())
    if seqs:
        conn.execute(delete(chunks).where(chunks.c.seq.in_(seqs)))
    return len(seqs)


def delete_documents(conn: Connection, org_id: str, document_ids: Sequence[str]) -> None:
    """Documents with their files, chunks, vectors and keyword rows (in the caller's
    transaction; the keyword index follows its rows)."""
    if not document_ids:
        return
    conn.execute(
        delete(chunks).where(chunks.c.org_id == org_id, chunks.c.document_id.in_(document_ids))
    )
    conn.execute(delete(document_files).where(document_files.c.document_id.in_(document_ids)))
    conn.execute(
        delete(documents).where(documents.c.org_id == org_id, documents.c.id.in_(document_ids))
    )


class DocumentRepository(IngestionQueue):
    """Collections, documents and chunks; files and text sealed with each org's data key
    (``keys``; None only for a benchmark's plain baseline)."""

    def __init__(self, engine: Engine, keys: DocumentKeys | None) -> None:
        self.engine = engine
        self.sealing = DocumentSealing(keys)

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
            delete_collections(conn, org_id, [collection_id])

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
        document_id = new_id("doc")
        stored, sealed = self.sealing.file(org_id, document_id, data)
        row = {
            "id": document_id,
            "org_id": org_id,
            "collection_id": collection_id,
            "uploaded_by": uploaded_by,
            "filename": clean_text(filename)[:300],
            "content_type": clean_text(content_type)[:200],
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
            conn.execute(
                document_files.insert().values(document_id=document_id, data=stored, sealed=sealed)
            )
        return document_from_row(row)

    def documents(self, org_id: str, collection_id: str) -> list[Document]:
        query = (
            select(documents)
            .where(documents.c.org_id == org_id, documents.c.collection_id == collection_id)
            .order_by(documents.c.created_at, documents.c.id)
        )
        with self.engine.connect() as conn:
            return [document_from_row(r) for r in conn.execute(query).mappings()]

    def document_counts(self, org_id: str) -> dict[str, int]:
        """How many documents each of the org's collections holds (one query for a list)."""
        query = (
            select(documents.c.collection_id, func.count())
            .where(documents.c.org_id == org_id)
            .group_by(documents.c.collection_id)
        )
        with self.engine.connect() as conn:
            return {str(cid): int(count) for cid, count in conn.execute(query)}

    def document(self, org_id: str, document_id: str) -> Document | None:
        query = select(documents).where(documents.c.org_id == org_id, documents.c.id == document_id)
        with self.engine.connect() as conn:
            row = conn.execute(query).mappings().first()
        return None if row is None else document_from_row(row)

    def file_bytes(self, org_id: str, document_id: str) -> bytes | None:
        query = (
            select(document_files.c.data, document_files.c.sealed)
            .join(documents, documents.c.id == document_files.c.document_id)
            .where(documents.c.org_id == org_id, documents.c.id == document_id)
        )
        with self.engine.connect() as conn:
            row = conn.execute(query).first()
        if row is None:
            return None
        return self.sealing.open_file(org_id, document_id, bytes(row.data), bool(row.sealed))

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
            delete_documents(conn, org_id, [document_id])
            bump_vectors(conn, org_id, collection_id)
        return True

    # --- sealing rows stored before documents were encrypted at rest --------

    def seal_plain_rows(self, batch: int) -> tuple[int, int]:
        """Seal up to ``batch`` plain files and chunks, in one short transaction each; how
        many of each were sealed (0, 0: none is left)."""
        if self.sealing.keys is None:
            return 0, 0  # a plain baseline has nothing to seal with
        f, c = document_files.c, chunks.c
        with self.engine.begin() as conn:
            plain_files = conn.execute(
                select(f.document_id, f.data, documents.c.org_id)
                .join(documents, documents.c.id == f.document_id)
                .where(f.sealed.is_(False))
                .limit(batch)
            ).all()
            for row in plain_files:
                stored, sealed = self.sealing.file(row.org_id, row.document_id, bytes(row.data))
                conn.execute(
                    update(document_files)
                    .where(f.document_id == row.document_id, f.sealed.is_(False))
                    .values(data=stored, sealed=sealed)
                )
        with self.engine.begin() as conn:
            plain_chunks = conn.execute(
                select(c.seq, c.id, c.org_id, c.heading, c.text)
                .where(c.sealed.is_(None))
                .limit(batch)
            ).all()
            for plain in plain_chunks:
                columns = self.sealing.chunk(plain.org_id, plain.id, plain.heading, plain.text)
                conn.execute(
                    update(chunks).where(c.seq == plain.seq, c.sealed.is_(None)).values(**columns)
                )
        if not plain_chunks:
            self.sealing.plain_rows_remain = False
        return len(plain_files), len(plain_chunks)

    def compact_keyword_index(self) -> None:
        """Once chunks were sealed: their plain words go from the index's file too."""
        compact_keyword_index(self.engine)

    # --- chunks and search --------------------------------------------------

    def chunk(self, org_id: str, chunk_id: str) -> Chunk | None:
        hidden = {"seq", "embedding", "keywords"}
        query = select(*(c for c in chunks.c if c.name not in hidden)).where(
            chunks.c.org_id == org_id, chunks.c.id == chunk_id
        )
        with self.engine.connect() as conn:
            row = conn.execute(query).mappings().first()
        if row is None:
            return None
        heading, body = self.sealing.open_chunk(org_id, chunk_id, row)
        return Chunk(
            id=row["id"],
            org_id=row["org_id"],
            collection_id=row["collection_id"],
            document_id=row["document_id"],
            ordinal=row["ordinal"],
            heading=heading,
            page=row["page"],
            text=body,
        )

    def keyword_ranking(
        self, org_id: str, collection_ids: Sequence[str], query: str, limit: int
    ) -> list[str]:
        """Chunk ids best first by full-text rank; any query text is safe."""
        terms = document_search.keyword_terms(query)
        with self.engine.connect() as conn:
            if self.sealing.plain_rows_remain is None:
                self.sealing.plain_rows_remain = plain_chunks_remain(conn)
            match = self.sealing.match_terms(org_id, terms)
            return document_search.keyword_ranking(conn, org_id, collection_ids, match, limit)

    def collection_versions(self, org_id: str, collection_ids: Sequence[str]) -> dict[str, int]:
        with self.engine.connect() as conn:
            return document_search.collection_versions(conn, org_id, collection_ids)

    def collection_vectors(self, org_id: str, collection_id: str) -> tuple[list[str], list[bytes]]:
        with self.engine.connect() as conn:
            return document_search.collection_vectors(conn, org_id, collection_id)

    def passages(
        self, org_id: str, collection_ids: Sequence[str], chunk_ids: Sequence[str]
    ) -> dict[str, PassageRow]:
        def opened(chunk_id: str, row: Any) -> tuple[str | None, str]:
            return self.sealing.open_chunk(org_id, chunk_id, row)

        with self.engine.connect() as conn:
            return document_search.passage_rows(conn, org_id, collection_ids, chunk_ids, opened)

    # --- helpers -----------------------------------------------------------


def erase_uploader(conn: Connection, erasure: Erasure) -> list[str]:
    """The org's documents an erased member uploaded stay, uploaded by the alias; the ids
    of their private collections, which the caller deletes (``delete_collections``)."""
    conn.execute(
        update(documents)
        .where(documents.c.org_id == erasure.org_id, documents.c.uploaded_by == erasure.member_id)
        .values(uploaded_by=erasure.alias)
    )
    owned = select(collections.c.id).where(
        collections.c.org_id == erasure.org_id,
        collections.c.owner_member_id == erasure.member_id,
    )
    return [str(ident) for ident in conn.execute(owned).scalars()]


def plain_chunks_remain(conn: Connection) -> bool:
    """Whether any chunk was stored before documents were sealed (and is not sealed yet)."""
    return (
        conn.execute(select(chunks.c.seq).where(chunks.c.sealed.is_(None)).limit(1)).first()
        is not None
    )


def compact_keyword_index(engine: Engine) -> None:
    """Merge SQLite's full-text segments so words deleted from the index are gone from the
    file too (FTS5 keeps them, marked deleted, until its segments merge). PostgreSQL's
    index follows its rows (and ``VACUUM``)."""
    if engine.dialect.name == "sqlite":
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO chunks_fts(chunks_fts) VALUES ('optimize')"))
