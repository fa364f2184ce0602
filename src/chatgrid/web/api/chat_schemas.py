"""The chat and documents API's bodies, and how stored objects become them."""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from typing import Literal

from pydantic import BaseModel, Field

from chatgrid.chat.models import TITLE_MAX, ChatMessage, Conversation
from chatgrid.chat.render import render_markdown
from chatgrid.documents.models import Collection, Document
from chatgrid.ledger.money import format_dollars
from chatgrid.web.api.schemas import Strict


class ConversationCreate(Strict):
    title: str | None = Field(default=None, max_length=TITLE_MAX)
    model: str | None = Field(default=None, max_length=100)


class ConversationRename(Strict):
    title: str = Field(min_length=1, max_length=TITLE_MAX)


class MessageCreate(Strict):
    content: str = Field(default="", max_length=32_000)
    model: str = Field(min_length=1, max_length=100)
    collection_ids: list[str] = Field(default_factory=list, max_length=50)
    mode: Literal["send", "regenerate", "edit"] = "send"


class CollectionCreate(Strict):
    name: str = Field(min_length=1, max_length=200)
    scope: Literal["org", "private"] = "private"


class ConversationPublic(BaseModel):
    id: str
    title: str
    model: str | None
    created_at: datetime
    updated_at: datetime


class CitationPublic(BaseModel):
    n: int
    document_id: str
    filename: str
    chunk_id: str
    heading: str | None
    page: int | None
    url: str


class MessagePublic(BaseModel):
    id: str
    role: str
    content: str
    html: str | None
    model: str | None
    status: str
    error: str | None
    error_code: str | None
    prompt_tokens: int | None
    completion_tokens: int | None
    cost_micros: int | None
    cost: str | None
    usage_estimated: bool
    citations: list[CitationPublic]
    created_at: datetime


class ConversationDetail(BaseModel):
    conversation: ConversationPublic
    messages: list[MessagePublic]


class Problem(BaseModel):
    message: str
    code: str | None


class ModelsPublic(BaseModel):
    models: list[str]
    default: str | None
    #: Why there are no models right now (trial ended, no working key, suspended, …).
    problem: Problem | None = None


class CollectionPublic(BaseModel):
    id: str
    name: str
    scope: Literal["org", "private"]
    documents: int
    created_at: datetime


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


class PassagePublic(BaseModel):
    chunk_id: str
    document_id: str
    filename: str
    heading: str | None
    page: int | None
    text: str
    url: str


#: Answers are re-read far more often than written: render each distinct text once.
_rendered = lru_cache(maxsize=1024)(render_markdown)


def passage_url(org_id: str, document_id: str, chunk_id: str) -> str:
    return f"/orgs/{org_id}/documents/{document_id}/passages/{chunk_id}"


def conversation_public(conversation: Conversation) -> ConversationPublic:
    return ConversationPublic(
        id=conversation.id,
        title=conversation.title,
        model=conversation.model,
        created_at=conversation.created_at,
        updated_at=conversation.updated_at,
    )


def message_public(org_id: str, message: ChatMessage) -> MessagePublic:
    usage = message.usage
    assistant = message.role == "assistant"
    return MessagePublic(
        id=message.id,
        role=message.role,
        content=message.content,
        html=_rendered(message.content) if assistant else None,
        model=message.model,
        status=message.status,
        error=message.error,
        error_code=message.error_code,
        prompt_tokens=usage.prompt_tokens if usage else None,
        completion_tokens=usage.completion_tokens if usage else None,
        cost_micros=usage.cost_micros if usage else None,
        cost=f"${format_dollars(usage.cost_micros)}" if usage else None,
        usage_estimated=usage.estimated if usage else False,
        citations=[
            CitationPublic(
                n=c.n,
                document_id=c.document_id,
                filename=c.filename,
                chunk_id=c.chunk_id,
                heading=c.heading,
                page=c.page,
                url=passage_url(org_id, c.document_id, c.chunk_id),
            )
            for c in message.citations
        ],
        created_at=message.created_at,
    )


def collection_public(collection: Collection, documents: int) -> CollectionPublic:
    return CollectionPublic(
        id=collection.id,
        name=collection.name,
        scope="private" if collection.owner_member_id else "org",
        documents=documents,
        created_at=collection.created_at,
    )


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
