"""Conversations, their messages, their shared links, and the org's chat settings."""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    UniqueConstraint,
)

from chatgrid.store.tables.base import ID, metadata
from chatgrid.store.types import UTCDateTime

conversations = Table(
    "conversations",
    metadata,
    Column("id", ID, primary_key=True),
    Column("org_id", ID, ForeignKey("orgs.id"), nullable=False),
    Column("member_id", ID, ForeignKey("members.id"), nullable=False),
    Column("title", String(200), nullable=False),
    Column("model", String(100), nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    # The collections its questions were last asked with (a JSON list of ids).
    Column("collection_ids", String, nullable=True),
    Index(None, "org_id", "member_id", "updated_at"),
    Index(None, "org_id", "updated_at"),  # retention sweeps by age
)


chat_messages = Table(
    "chat_messages",
    metadata,
    Column("id", ID, primary_key=True),
    Column("conversation_id", ID, ForeignKey("conversations.id"), nullable=False),
    Column("org_id", ID, nullable=False),
    Column("position", Integer, nullable=False),
    Column("role", String(16), nullable=False),
    Column("content", String, nullable=False),
    Column("model", String(100), nullable=True),
    # streaming, complete, stopped, failed
    Column("status", String(16), nullable=False),
    Column("error", String(500), nullable=True),
    Column("error_code", String(64), nullable=True),
    # The ledger rows behind this answer: the completion and the question's
    # embedding. Tokens and cost shown in the page are read from them.
    Column("call_id", String(40), nullable=True),
    Column("retrieval_call_id", String(40), nullable=True),
    # JSON list of the passages given to the model: [{n, chunk_id, document_id, ...}]
    Column("citations", String, nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    UniqueConstraint("conversation_id", "position"),
)


# A read-only link to a conversation for the members of its org. Revoking
# deletes the row, so the link is a 404 at once; the audit log keeps the history.
conversation_shares = Table(
    "conversation_shares",
    metadata,
    Column("id", ID, primary_key=True),
    Column("org_id", ID, ForeignKey("orgs.id"), nullable=False),
    Column("conversation_id", ID, ForeignKey("conversations.id"), nullable=False, unique=True),
    Column("member_id", ID, ForeignKey("members.id"), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
)


# An org admin's choices for the workspace. No row: the defaults of the org's
# billing mode (generated titles on for shared credits, off for BYOK).
org_chat_settings = Table(
    "org_chat_settings",
    metadata,
    Column("org_id", ID, ForeignKey("orgs.id"), primary_key=True),
    Column("generated_titles", Boolean, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)
