"""Service accounts: org-owned callers that belong to no member, and their tokens (hashes only).

An account outlives whoever made it; its token is what is rotated. Ledger
rows of its calls carry the account's id as ``member_id`` and the token's
id as ``token_id``, so usage and limits see one caller per account.
"""

from __future__ import annotations

from sqlalchemy import Column, ForeignKey, Index, String, Table

from chatgrid.store.tables.base import ID, metadata
from chatgrid.store.types import UTCDateTime

service_accounts = Table(
    "service_accounts",
    metadata,
    Column("id", ID, primary_key=True),
    Column("org_id", ID, ForeignKey("orgs.id"), nullable=False),
    Column("name", String(100), nullable=False),
    Column("scope", String(16), nullable=False),  # "v1" or "admin"
    Column("created_at", UTCDateTime, nullable=False),
    Column("revoked_at", UTCDateTime, nullable=True),
    Index(None, "org_id"),
)

service_account_tokens = Table(
    "service_account_tokens",
    metadata,
    Column("id", ID, primary_key=True),
    Column("service_account_id", ID, ForeignKey("service_accounts.id"), nullable=False),
    Column("org_id", ID, ForeignKey("orgs.id"), nullable=False),
    Column("prefix", String(16), nullable=False),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("revoked_at", UTCDateTime, nullable=True),
    Index(None, "service_account_id"),
)
