"""What the documents part needs from the rest of ChatGrid, as shapes, not imports.

Storage returns this part's values (``documents/models.py``), so if this part
imported storage back, or the gateway (which imports storage), the layers
would close into a circle. Instead the services here name what they call:
``store/documents.py`` provides :class:`DocumentStore` and :class:`IngestStore`,
``gateway/workspace.py`` provides :class:`Embedder` (the audit log is
``audit.AuditTrail``). ``chatgrid/app.py`` joins them at start-up.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from chatgrid.documents.models import ChunkDraftLike, Collection, Document, Passage


class DocumentStore(Protocol):
    """Collections and documents as the library reads and changes them."""

    def create_collection(
        self, org_id: str, name: str, owner_member_id: str | None
    ) -> Collection: ...

    def collections_visible(self, org_id: str, member_id: str) -> list[Collection]: ...

    def collection(self, org_id: str, collection_id: str) -> Collection | None: ...

    def delete_collection(self, org_id: str, collection_id: str) -> None: ...

    def add_document(
        self,
        org_id: str,
        collection_id: str,
        uploaded_by: str,
        filename: str,
        content_type: str,
        data: bytes,
    ) -> Document: ...

    def documents(self, org_id: str, collection_id: str) -> list[Document]: ...

    def document_counts(self, org_id: str) -> dict[str, int]: ...

    def document(self, org_id: str, document_id: str) -> Document | None: ...

    def delete_document(self, org_id: str, document_id: str) -> bool: ...


class IngestStore(Protocol):
    """The ingestion queue: claim a document, store its chunks and vectors, finish it."""

    def claim_next(self, stale_after_seconds: int, max_attempts: int = 3) -> Document | None: ...

    def file_bytes(self, org_id: str, document_id: str) -> bytes | None: ...

    def clear_chunks(self, org_id: str, document_id: str) -> None: ...

    def add_chunks(
        self, org_id: str, document_id: str, drafts: Sequence[ChunkDraftLike]
    ) -> list[str]: ...

    def count_chunks(
        self, org_id: str, document_id: str, total: int, pages: int | None
    ) -> None: ...

    def set_embeddings(
        self, org_id: str, document_id: str, pairs: list[tuple[str, bytes]]
    ) -> None: ...

    def mark_ready(self, org_id: str, document_id: str) -> None: ...

    def mark_failed(self, org_id: str, document_id: str, error: str) -> None: ...


class Embedder(Protocol):
    """Embeddings made as a member, through the gateway's billed and limited path."""

    async def embed(
        self, org_id: str, member_id: str, texts: list[str], model: str, dimensions: int
    ) -> tuple[list[bytes], str | None]: ...


class PassageSearch(Protocol):
    """Blocking hybrid search over chunks (``documents/retrieval.Retriever``)."""

    def search(
        self,
        org_id: str,
        collection_ids: list[str],
        query: str,
        query_vector: bytes | None,
        limit: int = 8,
    ) -> list[Passage]: ...
