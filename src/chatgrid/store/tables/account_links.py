"""Email verification and password reset: the mailed links, and accounts not verified yet.

A link row keeps only its token's SHA-256. An account is unverified while
it has a row in ``unverified_accounts``: only a console sign-up on an
instance that can send mail makes one, so every other way an account comes
to be (an invitation accepted, the command line, an operator) needs no
change here, and accounts from before email verification stay as they were.
"""

from __future__ import annotations

from sqlalchemy import Column, ForeignKey, Index, String, Table

from chatgrid.store.tables.base import ID, metadata
from chatgrid.store.types import UTCDateTime

account_links = Table(
    "account_links",
    metadata,
    Column("id", ID, primary_key=True),
    Column("user_id", ID, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("purpose", String(32), nullable=False),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
    Column("used_at", UTCDateTime, nullable=True),
    Index(None, "user_id", "purpose"),
)


unverified_accounts = Table(
    "unverified_accounts",
    metadata,
    Column("user_id", ID, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("since", UTCDateTime, nullable=False),
)
