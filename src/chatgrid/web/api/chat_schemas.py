"""Bodies of the chat API (conversations, messages, models), each beside its converter."""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from typing import Literal

from pydantic import BaseModel, Field

from chatgrid.chat.models import TITLE_MAX, ChatMessage, Citation, Conversation
from chatgrid.chat.render import render_markdown
from chatgrid.errors import ChatGridError
from chatgrid.ledger.money import format_dollars
from chatgrid.web.api.documents_schemas import passage_url
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


class ConversationPublic(BaseModel):
    id: str
    title: str
    model: str | None
    created_at: datetime
    updated_at: datetime
    collection_ids: list[str]


def conversation_public(conversation: Conversation) -> ConversationPublic:
    return ConversationPublic(
        id=conversation.id,
        title=conversation.title,
        model=conversation.model,
        collection_ids=list(conversation.collection_ids),
        created_at=conversation.created_at,
        updated_at=conversation.updated_at,
    )


class CitationPublic(BaseModel):
    n: int
    document_id: str
    filename: str
    chunk_id: str
    heading: str | None
    page: int | None
    url: str


def citation_public(org_id: str, citation: Citation) -> CitationPublic:
    return CitationPublic(
        n=citation.n,
        document_id=citation.document_id,
        filename=citation.filename,
        chunk_id=citation.chunk_id,
        heading=citation.heading,
        page=citation.page,
        url=passage_url(org_id, citation.document_id, citation.chunk_id),
    )


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


#: Answers are re-read far more often than written: render each distinct text once.
_rendered = lru_cache(maxsize=1024)(render_markdown)


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
        citations=[citation_public(org_id, c) for c in message.citations],
        created_at=message.created_at,
    )


class ConversationDetail(BaseModel):
    conversation: ConversationPublic
    messages: list[MessagePublic]


def conversation_detail(
    conversation: Conversation, messages: list[ChatMessage]
) -> ConversationDetail:
    return ConversationDetail(
        conversation=conversation_public(conversation),
        messages=[message_public(conversation.org_id, m) for m in messages],
    )


class Problem(BaseModel):
    message: str
    code: str | None


def problem(refusal: ChatGridError) -> Problem:
    return Problem(message=refusal.message, code=refusal.code)


class ModelsPublic(BaseModel):
    models: list[str]
    default: str | None
    #: Why there are no models right now (trial ended, no working key, suspended, …).
    problem: Problem | None = None


#: Preselected in the model picker when the upstream offers them (else its first model).
_PREFERRED_MODELS = ("gpt-4o-mini", "gpt-4.1-mini")


def models_public(ids: list[str]) -> ModelsPublic:
    default = next((m for m in _PREFERRED_MODELS if m in ids), None)
    return ModelsPublic(models=ids, default=default or (ids[0] if ids else None))


def models_refused(refusal: ChatGridError) -> ModelsPublic:
    """No models, and why: the page still loads, and says at once why nothing can be sent."""
    return ModelsPublic(models=[], default=None, problem=problem(refusal))
