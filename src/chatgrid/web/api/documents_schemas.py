"""Bodies of document collections, documents and search, each beside its converter."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from chatgrid.documents.models import Collection, Document, Passage
from chatgrid.web.api.schemas import Strict


class CollectionCreate(Strict):
    name: str = Field(min_length=1, max_length=200)
    scope: Literal["org", "private"] = "private"


class CollectionPublic(BaseModel):
    id: str
    name: str
    scope: Literal["org", "private"]
    documents: int
    created_at: datetime


def collection_public(collection: Collection, documents: int) -> CollectionPublic:
    return CollectionPublic(
        id=collection.id,
        name=collection.name,
        scope="private" if collection.owner_member_id else "org",
        documents=documents,
        created_at=collection.created_at,
    )


class DocumentPublic(BaseModel):
    id: str
    collection_id: str
    filename: str
    content_type: str
    size_bytes: int
    status: str
    error: str | None
    pages: int | None
    chunks_total: int
    chunks_done: int
    progress: int
    created_at: datetime


def document_public(document: Document) -> DocumentPublic:
    if document.status == "ready":
        progress = 100
    elif document.chunks_total:
        progress = min(99, document.chunks_done * 100 // document.chunks_total)
    else:
        progress = 0
    return DocumentPublic(
        id=document.id,
        collection_id=document.collection_id,
        filename=document.filename,
        content_type=document.content_type,
        size_bytes=document.size_bytes,
        status=document.status,
        error=document.error,
        pages=document.pages,
        chunks_total=document.chunks_total,
        chunks_done=document.chunks_done,
        progress=progress,
        created_at=document.created_at,
    )


def passage_url(org_id: str, document_id: str, chunk_id: str) -> str:
    """The console page that shows a passage in its document (search results, citations)."""
    return f"/orgs/{org_id}/documents/{document_id}/passages/{chunk_id}"


class PassagePublic(BaseModel):
    chunk_id: str
    document_id: str
    filename: str
    heading: str | None
    page: int | None
    text: str
    url: str


def passage_public(org_id: str, passage: Passage) -> PassagePublic:
    return PassagePublic(
        chunk_id=passage.chunk_id,
        document_id=passage.document_id,
        filename=passage.filename,
        heading=passage.heading,
        page=passage.page,
        text=passage.text,
        url=passage_url(org_id, passage.document_id, passage.chunk_id),
    )
