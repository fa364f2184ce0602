"""What a member attached in a conversation's composer: its private collection and images.

Documents go into an ordinary private collection (``collections``), linked
here to the conversation it belongs to; images are kept here, as bytes
bounded by the attachment rules, until the conversation is deleted.
"""

from __future__ import annotations

from sqlalchemy import Boolean, Column, ForeignKey, Index, Integer, LargeBinary, String, Table, text

from chatgrid.store.tables.base import ID, metadata
from chatgrid.store.types import UTCDateTime

# One private collection per conversation, made at its first attached document.
# No foreign key to ``collections``: the member may delete that collection on the
# documents page, and the next attachment then makes a new one.
conversation_collections = Table(
    "conversation_collections",
    metadata,
    Column("conversation_id", ID, ForeignKey("conversations.id"), primary_key=True),
    Column("org_id", ID, ForeignKey("orgs.id"), nullable=False),
    Column("collection_id", ID, nullable=False, unique=True),
    Column("created_at", UTCDateTime, nullable=False),
)

# An image waits with no message (attached, not yet sent); the turn that sends
# it sets ``message_id`` to its question, and it is re-sent with that question.
conversation_images = Table(
    "conversation_images",
    metadata,
    Column("id", ID, primary_key=True),
    Column("org_id", ID, ForeignKey("orgs.id"), nullable=False),
    Column("conversation_id", ID, ForeignKey("conversations.id"), nullable=False),
    Column("member_id", ID, ForeignKey("members.id"), nullable=False),
    Column("message_id", ID, nullable=True),
    Column("filename", String(255), nullable=False),
    Column("media_type", String(40), nullable=False),
    Column("size_bytes", Integer, nullable=False),
    # Sealed with the org's data key (``vault.documents``) unless attached before images
    # were encrypted at rest.
    Column("data", LargeBinary, nullable=False),
    Column("sealed", Boolean, nullable=False, server_default=text("false")),
    Column("created_at", UTCDateTime, nullable=False),
    Index(None, "org_id", "conversation_id"),
)
