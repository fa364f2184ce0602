"""What the chat workspace keeps: conversations, their messages, and where answers came from."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final, Literal

Role = Literal["user", "assistant"]
Status = Literal["streaming", "complete", "stopped", "failed"]

TITLE_MAX: Final = 200


@dataclass(frozen=True, slots=True)
class Conversation:
    id: str
    org_id: str
    member_id: str
    title: str
    model: str | None
    created_at: datetime
    updated_at: datetime
    #: The document collections chosen for it, remembered for when it is opened again.
    collection_ids: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Citation:
    """A passage the answer was given, numbered as the model saw it: ``[n]``."""

    n: int
    chunk_id: str
    document_id: str
    filename: str
    heading: str | None
    page: int | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "n": self.n,
            "chunk_id": self.chunk_id,
            "document_id": self.document_id,
            "filename": self.filename,
            "heading": self.heading,
            "page": self.page,
        }

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> Citation:
        return cls(
            n=int(raw["n"]),
            chunk_id=str(raw["chunk_id"]),
            document_id=str(raw["document_id"]),
            filename=str(raw["filename"]),
            heading=raw.get("heading"),
            page=raw.get("page"),
        )


@dataclass(frozen=True, slots=True)
class MessageUsage:
    """Tokens and money of an answer, summed from its ledger rows (never stored twice)."""

    prompt_tokens: int
    completion_tokens: int
    cost_micros: int
    estimated: bool


@dataclass(frozen=True, slots=True)
class ChatMessage:
    id: str
    conversation_id: str
    position: int
    role: Role
    content: str
    model: str | None
    status: Status
    error: str | None
    error_code: str | None
    call_id: str | None
    retrieval_call_id: str | None
    created_at: datetime
    citations: list[Citation] = field(default_factory=list)
    usage: MessageUsage | None = None


@dataclass(frozen=True, slots=True)
class ConversationShare:
    """A read-only link to a conversation, for the signed-in members of its org only."""

    id: str
    org_id: str
    conversation_id: str
    member_id: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class AttachedImage:
    """An image attached in the composer; ``message_id`` is None until a turn sends it.

    Its bytes are read apart (``AttachmentStore.image_bytes``), only when sent.
    """

    id: str
    org_id: str
    conversation_id: str
    message_id: str | None
    filename: str
    media_type: str
    size_bytes: int
    created_at: datetime
