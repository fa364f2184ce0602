"""The document actions, once: collections, uploads, deletions and search.

The JSON API and the chat workspace both come here, so "which collections
may this member see → embed the question as them → retrieve" is written one
time. Who may do what: every member reads the org's shared collections and
their own private ones; only admins create, fill or empty shared
collections; only its owner touches a private one. Anything else in the org
is "not found", exactly like something in another org, so ids reveal
nothing. Changes to shared collections are audited; a member's private ones
are their own business.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass

from chatgrid.audit import Actor, AuditTrail
from chatgrid.documents.models import Collection, Document, Passage
from chatgrid.documents.ports import DocumentStore, Embedder, PassageSearch
from chatgrid.documents.upload_limit import UploadLimit
from chatgrid.errors import InvalidRequest, NotFound, PermissionDenied, RequestTooLarge
from chatgrid.settings import Settings


@dataclass(frozen=True)
class Reader:
    """A member acting on documents: whose private collections are theirs, and
    whether they curate the org's shared ones."""

    member_id: str
    is_admin: bool
    actor: Actor


def clean_filename(name: str | None) -> str:
    """The last path segment of what the browser sent; never a path of ours."""
    return (name or "document").replace("\\", "/").rsplit("/", 1)[-1] or "document"


class DocumentLibrary:
    def __init__(
        self,
        store: DocumentStore,
        audit: AuditTrail,
        embedder: Embedder,
        retriever: PassageSearch,
        uploads: UploadLimit,
        settings: Settings,
        on_upload: Callable[[], None] = lambda: None,
    ) -> None:
        self.store = store
        self.audit = audit
        self.embedder = embedder
        self.retriever = retriever
        #: Uploads per member per minute, counted where ``/v1``'s limits are.
        self.uploads = uploads
        self.settings = settings
        self._on_upload = on_upload

    @property
    def max_bytes(self) -> int:
        return self.settings.document_max_bytes

    # Reading ------------------------------------------------------------

    def visible(self, org_id: str, member_id: str) -> list[Collection]:
        return self.store.collections_visible(org_id, member_id)

    def document_counts(self, org_id: str) -> dict[str, int]:
        return self.store.document_counts(org_id)

    def collection(self, org_id: str, member_id: str, collection_id: str) -> Collection:
        found = self.store.collection(org_id, collection_id)
        if found is None or not found.visible_to(member_id):
            raise NotFound("No such collection.")
        return found

    def document(self, org_id: str, member_id: str, document_id: str) -> Document:
        found = self.store.document(org_id, document_id)
        if found is None:
            raise NotFound("No such document.")
        self.collection(org_id, member_id, found.collection_id)
        return found

    def documents(self, collection: Collection) -> list[Document]:
        return self.store.documents(collection.org_id, collection.id)

    # Changing -----------------------------------------------------------

    def create_collection(
        self, org_id: str, reader: Reader, name: str, *, shared: bool
    ) -> Collection:
        name = name.strip()
        if not name:
            raise InvalidRequest("A collection needs a name.", param="name")
        if shared and not reader.is_admin:
            raise PermissionDenied("Only an admin can create a collection shared with everyone.")
        created = self.store.create_collection(org_id, name, None if shared else reader.member_id)
        if shared:
            details = {"name": name}
            self.audit.record(org_id, reader.actor, "collection.created", created.id, details)
        return created

    def delete_collection(self, reader: Reader, collection: Collection) -> None:
        _require_curator(reader, collection)
        self.store.delete_collection(collection.org_id, collection.id)
        if not collection.is_private:
            details = {"name": collection.name}
            self.audit.record(
                collection.org_id, reader.actor, "collection.deleted", collection.id, details
            )

    async def upload(
        self,
        reader: Reader,
        collection: Collection,
        filename: str | None,
        content_type: str | None,
        data: bytes,
    ) -> Document:
        """Store the file and queue it for ingestion (any replica's worker takes it)."""
        _require_curator(reader, collection)
        # Counted before anything is stored or queued.
        await self.uploads.admit(collection.org_id, reader.member_id)
        if len(data) > self.max_bytes:
            raise RequestTooLarge(
                f"This file is larger than the {self.max_bytes // (1024 * 1024)} MiB "
                "a document may be.",
                code="document_too_large",
            )
        if not data:
            raise InvalidRequest("The file is empty.", param="file", code="document_empty")
        name = clean_filename(filename)
        document = await asyncio.to_thread(
            self.store.add_document,
            collection.org_id,
            collection.id,
            reader.member_id,
            name,
            content_type or "application/octet-stream",
            data,
        )
        if not collection.is_private:
            details = {"filename": name, "collection": collection.name, "bytes": len(data)}
            await asyncio.to_thread(
                self.audit.record,
                collection.org_id,
                reader.actor,
                "document.uploaded",
                document.id,
                details,
            )
        self._on_upload()
        return document

    def delete_document(self, reader: Reader, document: Document) -> None:
        collection = self.collection(document.org_id, reader.member_id, document.collection_id)
        _require_curator(reader, collection)
        self.store.delete_document(document.org_id, document.id)
        if not collection.is_private:
            details = {"filename": document.filename, "collection": collection.name}
            self.audit.record(
                document.org_id, reader.actor, "document.deleted", document.id, details
            )

    # Searching ----------------------------------------------------------

    async def search(
        self,
        org_id: str,
        member_id: str,
        query: str,
        collection_ids: list[str] | None,
        limit: int,
        *,
        param: str = "collection_ids",
    ) -> tuple[list[Passage], str | None]:
        """The best passages of the collections asked for (None: all this member
        sees), and the id of the embedding call that found them (its ledger row).

        The question is embedded as the member, so it is billed, limited and
        ledgered like any call of theirs; a collection they cannot see is a
        404 before anything is spent.
        """
        visible = await asyncio.to_thread(self.store.collections_visible, org_id, member_id)
        allowed = {c.id for c in visible}
        wanted = sorted(allowed) if collection_ids is None else list(dict.fromkeys(collection_ids))
        if any(c not in allowed for c in wanted):
            raise NotFound("No such collection.", param=param)
        if not wanted:
            return [], None
        vectors, call_id = await self.embedder.embed(
            org_id,
            member_id,
            [query],
            self.settings.embedding_model,
            self.settings.embedding_dimensions,
        )
        passages = await asyncio.to_thread(
            self.retriever.search, org_id, wanted, query, vectors[0], limit
        )
        return passages, call_id


def _require_curator(reader: Reader, collection: Collection) -> None:
    """Shared collections are curated by admins; a private one belongs to its owner."""
    if collection.owner_member_id is None and not reader.is_admin:
        raise PermissionDenied("Only an admin can change the organization's shared documents.")
