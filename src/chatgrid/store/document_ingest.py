"""The ingestion worker's side of the document store: claim, chunk, embed, finish.

Split from ``store/documents.py`` (the member-facing side: collections,
uploads, deletion, search) because its rules are the queue's: a claim is a
conditional UPDATE only one worker can win, an abandoned claim is retried a
bounded number of times, and every change to a collection's chunks bumps its
``vectors_version`` so every replica's vector cache reloads.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Engine,
    and_,
    bindparam,
    case,
    delete,
    func,
    or_,
    select,
    text,
    update,
)

from chatgrid.documents.models import (
    CHUNK_ROWS_PER_TRANSACTION,
    ChunkDraftLike,
    Document,
    DocumentStatus,
)
from chatgrid.errors import NotFound
from chatgrid.store.document_sealing import DocumentSealing
from chatgrid.store.ids import new_id
from chatgrid.store.tables import chunks, collections, documents
from chatgrid.store.types import utcnow

_ERROR_CHARS = 500
_PG_QUEUE_LOCK = 0x6367_696E_6765  # "cginge": ChatGrid's ingestion queue
_NEVER = datetime(1970, 1, 1, tzinfo=UTC)


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


def _lock_queue(conn: Connection) -> None:
    """Serialize claims across processes until this transaction ends."""
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_QUEUE_LOCK})
    else:
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def _next_org(conn: Connection, claimable: ColumnElement[bool], cutoff: datetime) -> str | None:
    """The org whose turn it is (see ``claim_next``), or None when nothing waits."""
    waiting = {
        row.org_id: row.oldest
        for row in conn.execute(
            select(documents.c.org_id, func.min(documents.c.created_at).label("oldest"))
            .where(claimable)
            .group_by(documents.c.org_id)
        )
    }
    if not waiting:
        return None
    reading = case(
        (
            and_(
                documents.c.status == DocumentStatus.PROCESSING.value,
                documents.c.claimed_at >= cutoff,
            ),
            1,
        ),
        else_=0,
    )
    served = {
        row.org_id: (int(row.reading or 0), row.last_claim)
        for row in conn.execute(
            select(
                documents.c.org_id,
                func.sum(reading).label("reading"),
                func.max(documents.c.claimed_at).label("last_claim"),
            )
            .where(documents.c.org_id.in_(list(waiting)))
            .group_by(documents.c.org_id)
        )
    }

    def turn(org_id: str) -> tuple[int, datetime, datetime, str]:
        reading, last_claim = served.get(org_id, (0, None))
        return (reading, last_claim or _NEVER, waiting[org_id], org_id)

    return str(min(waiting, key=turn))


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
    sealing: DocumentSealing

    def claim_next(self, stale_after_seconds: int, max_attempts: int = 3) -> Document | None:
        """Move one queued (or abandoned) document to processing, for this worker only.

        Fair across orgs: the document taken is the oldest waiting one of the
        org with the fewest documents being read now, then the org served
        longest ago (``claimed_at`` stays on a finished document as its last
        claim), then the org whose oldest document has waited longest. So
        orgs take turns: one org's uploads never put another org's document
        behind more than one extraction per worker, however many it queued.

        Exclusive and consistent across threads and replicas: the choice and
        the claim are one transaction that holds the queue's lock (a
        transaction-scoped advisory lock on PostgreSQL, ``BEGIN IMMEDIATE`` on
        SQLite), so two workers never decide on the same stale view. A
        document whose worker died (claimed longer ago than
        ``stale_after_seconds``) is claimed again, up to ``max_attempts``
        times; then it is failed, so a file that crashes workers cannot loop
        forever.
        """
        now = utcnow()
        cutoff = now - timedelta(seconds=stale_after_seconds)
        with self.engine.connect() as conn:
            _lock_queue(conn)
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
                    updated_at=now,
                )
            )
            claimable = or_(
                documents.c.status == DocumentStatus.QUEUED.value,
                and_(
                    documents.c.status == DocumentStatus.PROCESSING.value,
                    documents.c.claimed_at < cutoff,
                ),
            )
            org_id = _next_org(conn, claimable, cutoff)
            if org_id is None:
                conn.commit()
                return None
            document_id = conn.execute(
                select(documents.c.id)
                .where(documents.c.org_id == org_id, claimable)
                .order_by(documents.c.created_at, documents.c.id)
                .limit(1)
            ).scalar_one()
            conn.execute(
                update(documents)
                .where(documents.c.id == document_id)
                .values(
                    status=DocumentStatus.PROCESSING.value,
                    claimed_at=now,
                    updated_at=now,
                    attempts=documents.c.attempts + 1,
                )
            )
            row = conn.execute(select(documents).where(documents.c.id == document_id)).mappings()
            claimed = document_from_row(row.one())
            conn.commit()
        return claimed

    def start_chunks(
        self,
        org_id: str,
        document_id: str,
        drafts: Sequence[ChunkDraftLike],
        pages: int | None,
    ) -> list[str]:
        """Store the chunks (not yet embedded); replaces any left by an earlier attempt.

        The ingestion worker does the same in steps (``clear_chunks``, then
        ``add_chunks`` per ``CHUNK_ROWS_PER_TRANSACTION``, then
        ``count_chunks``), returning to the event loop between them.
        """
        self.clear_chunks(org_id, document_id)
        ordered = sorted(drafts, key=lambda d: d.ordinal)
        ids: list[str] = []
        for start in range(0, len(ordered), CHUNK_ROWS_PER_TRANSACTION):
            ids += self.add_chunks(
                org_id, document_id, ordered[start : start + CHUNK_ROWS_PER_TRANSACTION]
            )
        self.count_chunks(org_id, document_id, len(ids), pages)
        return ids

    def add_chunks(
        self, org_id: str, document_id: str, drafts: Sequence[ChunkDraftLike]
    ) -> list[str]:
        """Store some of a document's chunks in one short transaction; their new ids in order.

        Short because on SQLite one transaction for a 20 MiB file's 37,000
        chunks (and their full-text rows) held the only write lock for
        seconds, and the ledger's commit on the ``/v1`` event loop waited
        behind it.
        """
        ids = [new_id("chk") for _ in drafts]
        with self.engine.begin() as conn:
            collection_id = collection_of(conn, org_id, document_id)
            if drafts:
                conn.execute(
                    chunks.insert(),
                    [
                        {
                            "id": chunk_id,
                            "org_id": org_id,
                            "collection_id": collection_id,
                            "document_id": document_id,
                            "ordinal": draft.ordinal,
                            "page": draft.page,
                            "embedding": None,
                            **self.sealing.chunk(
                                org_id,
                                chunk_id,
                                clean_text(draft.heading)[:500] or None,
                                clean_text(draft.text),
                            ),
                        }
                        for chunk_id, draft in zip(ids, drafts, strict=True)
                    ],
                )
        return ids

    def count_chunks(self, org_id: str, document_id: str, total: int, pages: int | None) -> None:
        """The chunks are all stored: the page can show progress from here."""
        with self.engine.begin() as conn:
            collection_id = collection_of(conn, org_id, document_id)
            conn.execute(
                update(documents)
                .where(documents.c.org_id == org_id, documents.c.id == document_id)
                .values(chunks_total=total, chunks_done=0, pages=pages, updated_at=utcnow())
            )
            bump_vectors(conn, org_id, collection_id)

    def clear_chunks(self, org_id: str, document_id: str) -> None:
        """A document's chunks, removed a bounded batch per transaction (see ``add_chunks``)."""
        while True:
            with self.engine.begin() as conn:
                batch = list(
                    conn.execute(
                        select(chunks.c.id)
                        .where(chunks.c.org_id == org_id, chunks.c.document_id == document_id)
                        .limit(CHUNK_ROWS_PER_TRANSACTION)
                    ).scalars()
                )
                if not batch:
                    return
                conn.execute(delete(chunks).where(chunks.c.id.in_(batch)))

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
        self.clear_chunks(org_id, document_id)
        with self.engine.begin() as conn:
            bump_vectors(conn, org_id, collection_of(conn, org_id, document_id))
        self._finish(org_id, document_id, DocumentStatus.FAILED, clean_text(error)[:_ERROR_CHARS])

    def _finish(
        self, org_id: str, document_id: str, status: DocumentStatus, error: str | None
    ) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                update(documents)
                .where(documents.c.org_id == org_id, documents.c.id == document_id)
                .values(status=status.value, error=error, updated_at=utcnow())
            )
