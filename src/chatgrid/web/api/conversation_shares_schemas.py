"""Bodies of the sharing API (a conversation's link, a shared conversation), each beside
its converter. A shared view leaves out tokens and cost: those are the owner's spending."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel

from chatgrid.chat.models import ChatMessage, Conversation, ConversationShare
from chatgrid.web.api.chat_schemas import CitationPublic, citation_public, message_public


def shared_url(org_id: str, share_id: str) -> str:
    return f"/orgs/{org_id}/shared/{share_id}"


class SharePublic(BaseModel):
    id: str
    conversation_id: str
    #: The read-only page, for signed-in members of this org only.
    url: str
    created_at: datetime


def share_public(share: ConversationShare) -> SharePublic:
    return SharePublic(
        id=share.id,
        conversation_id=share.conversation_id,
        url=shared_url(share.org_id, share.id),
        created_at=share.created_at,
    )


class ShareState(BaseModel):
    """The conversation's link, or null while it is not shared."""

    share: SharePublic | None


def share_state(share: ConversationShare | None) -> ShareState:
    return ShareState(share=share_public(share) if share else None)


class SharedMessage(BaseModel):
    role: str
    content: str
    html: str | None
    model: str | None
    status: str
    citations: list[CitationPublic]
    created_at: datetime


def shared_message(org_id: str, message: ChatMessage) -> SharedMessage:
    public = message_public(org_id, message)
    return SharedMessage(
        role=public.role,
        content=public.content,
        html=public.html,
        model=public.model,
        status=public.status,
        citations=[citation_public(org_id, c) for c in message.citations],
        created_at=public.created_at,
    )


class SharedConversation(BaseModel):
    id: str
    title: str
    created_at: datetime
    messages: list[SharedMessage]


def shared_conversation(
    share_id: str, conversation: Conversation, messages: list[ChatMessage]
) -> SharedConversation:
    return SharedConversation(
        id=share_id,
        title=conversation.title,
        created_at=conversation.created_at,
        messages=[shared_message(conversation.org_id, m) for m in messages],
    )
