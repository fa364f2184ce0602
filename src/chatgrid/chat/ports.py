"""What a chat turn needs from the rest of ChatGrid, as shapes, not imports.

Storage returns chat's values (``chat/models.py``), so chat importing
storage, or the gateway that imports storage, would close the layers into a
circle. ``store/conversations.py`` provides :class:`ConversationStore`,
``store/conversation_shares.py`` provides :class:`ShareStore`,
``store/attachments.py`` provides :class:`AttachmentStore`,
``gateway/workspace.py`` provides :class:`ChatModels`; ``chatgrid/app.py``
joins them at start-up.
"""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from typing import Any, Protocol

from chatgrid.chat.answer import AnswerStore, AnswerStream
from chatgrid.chat.models import (
    AttachedImage,
    ChatMessage,
    Conversation,
    ConversationShare,
    Role,
    Status,
)


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
        collection_ids: list[str] | None = None,
    ) -> Conversation: ...

    def retitle(self, conversation: Conversation, expected: str, title: str) -> bool:
        """Set the title only while it is still ``expected`` (nobody renamed it meanwhile)."""


class ChatModels(Protocol):
    """Streamed chat completions made as a member, through the gateway's own path."""

    def chat_stream(
        self, org_id: str, member_id: str, body: dict[str, Any]
    ) -> AbstractAsyncContextManager[AnswerStream]: ...


class ShareStore(Protocol):
    """Shared links to conversations (``store/conversation_shares.py``)."""

    def share(self, conversation: Conversation) -> tuple[ConversationShare, bool]:
        """The conversation's link, made now (True) or already there (False)."""

    def find(self, org_id: str, conversation_id: str) -> ConversationShare | None: ...

    def unshare(self, org_id: str, conversation_id: str) -> ConversationShare | None:
        """Delete the link; the one deleted, or None when there was none."""


class AttachmentStore(Protocol):
    """A conversation's private collection link and its images (``store/attachments.py``)."""

    def collection_of(self, org_id: str, conversation_id: str) -> str | None: ...

    def link_collection(
        self, org_id: str, conversation_id: str, collection_id: str, replacing: str | None
    ) -> str: ...

    def add_image(
        self,
        org_id: str,
        conversation_id: str,
        member_id: str,
        filename: str,
        media_type: str,
        data: bytes,
    ) -> AttachedImage: ...

    def images(self, org_id: str, conversation_id: str) -> list[AttachedImage]:
        """Oldest first, without their bytes."""

    def image_bytes(
        self, org_id: str, conversation_id: str, image_ids: list[str]
    ) -> dict[str, bytes]: ...

    def pending_count(self, org_id: str, conversation_id: str) -> int: ...

    def claim_images(
        self, org_id: str, conversation_id: str, image_ids: list[str], message_id: str
    ) -> None: ...

    def delete_image(self, org_id: str, conversation_id: str, image_id: str) -> bool: ...
