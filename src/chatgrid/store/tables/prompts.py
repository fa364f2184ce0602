"""The prompt library: each member's saved prompts and the org's shared ones."""

from __future__ import annotations

from sqlalchemy import Column, ForeignKey, String, Table, Text, UniqueConstraint

from chatgrid.store.tables.base import ID, metadata
from chatgrid.store.types import UTCDateTime

prompts = Table(
    "prompts",
    metadata,
    Column("id", ID, primary_key=True),
    Column("org_id", ID, ForeignKey("orgs.id"), nullable=False),
    # Null: shared with the whole org (admins curate it); otherwise this member's own.
    Column("owner_member_id", ID, ForeignKey("members.id"), nullable=True),
    # "org" for shared prompts, else the owner's member id: the shelf a name is
    # unique on (a unique constraint cannot see two NULL owners as equal).
    Column("shelf", ID, nullable=False),
    Column("name", String(40), nullable=False),
    Column("body", Text, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    UniqueConstraint("org_id", "shelf", "name"),
)
