"""Sharing a conversation with its org: a read-only link, made and revoked by its owner.

Both are audited, and the audit entry names the conversation and the link
only: no title, no message. What a conversation says stays between its
owner and the members who open the link.
"""

from __future__ import annotations

from chatgrid.audit import Actor, AuditTrail
from chatgrid.chat.models import Conversation, ConversationShare
from chatgrid.chat.ports import ShareStore


class ConversationSharing:
    def __init__(self, shares: ShareStore, audit: AuditTrail) -> None:
        self.shares = shares
        self.audit = audit

    def share(self, conversation: Conversation, actor: Actor) -> ConversationShare:
        """The conversation's link (the same one if it is already shared)."""
        link, created = self.shares.share(conversation)
        if created:
            self.audit.record(
                conversation.org_id,
                actor,
                "conversation.shared",
                conversation.id,
                {"share_id": link.id},
            )
        return link

    def unshare(self, conversation: Conversation, actor: Actor) -> bool:
        """Revoke the link: from now on it is a 404. False when it was not shared."""
        link = self.shares.unshare(conversation.org_id, conversation.id)
        if link is None:
            return False
        self.audit.record(
            conversation.org_id,
            actor,
            "conversation.unshared",
            conversation.id,
            {"share_id": link.id},
        )
        return True
