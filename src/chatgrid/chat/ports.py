"""What a chat turn needs from the rest of ChatGrid, as shapes, not imports.

Storage returns chat's values (``chat/models.py``), so chat importing
storage, or the gateway that imports storage, would close the layers into a
circle. ``store/conversations.py`` provides :class:`ConversationStore`,
``gateway/workspace.py`` provides :class:`ChatModels`; ``chatgrid/app.py``
joins them at start-up.
"""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from typing import Any, Protocol

from chatgrid.chat.answer import AnswerStore, AnswerStream
from chatgrid.chat.models import ChatMessage, Conversation, Role, Status


class ConversationStore(AnswerStore, Protocol):
    """A conversation's messages as a turn reads and writes them."""

    def messages(self, org_id: str, conversation_id: str) -> list[ChatMessage]: ...

    def append(
        self,
        conversation: Conversation,
        role: Role,
        content: str,
        *,
        model: str | None,
        status: Status,
    ) -> ChatMessage: ...

    def drop_from(self, org_id: str, conversation_id: str, position: int) -> None: ...

    def set_content(self, org_id: str, message_id: str, content: str) -> None: ...

    def update(
        self,
        conversation: Conversation,
        *,
        title: str | None = None,
        model: str | None = None,
    ) -> Conversation: ...


class ChatModels(Protocol):
    """Streamed chat completions made as a member, through the gateway's own path."""

    def chat_stream(
        self, org_id: str, member_id: str, body: dict[str, Any]
    ) -> AbstractAsyncContextManager[AnswerStream]: ...
