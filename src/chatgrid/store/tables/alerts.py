"""Alert channels (where an org's or the operator's alerts go) and the durable delivery queue."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Column,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    UniqueConstraint,
)

from chatgrid.store.tables.base import ID, metadata
from chatgrid.store.types import UTCDateTime

alert_channels = Table(
    "alert_channels",
    metadata,
    Column("id", ID, primary_key=True),
    # Null: one of the operator's channels.
    Column("org_id", ID, ForeignKey("orgs.id"), nullable=True, index=True),
    Column("kind", String(16), nullable=False),  # email | webhook | slack
    # An email channel's address (not a secret).
    Column("email", String(320), nullable=True),
    # What may be shown: the address, or a URL's host only.
    Column("display", String(320), nullable=False),
    # A webhook's or Slack URL and a webhook's signing secret, sealed together as one
    # JSON document by the vault (null for email, and once the channel is removed).
    Column("wrapped_key", LargeBinary, nullable=True),
    Column("master_key_version", Integer, nullable=True),
    Column("nonce", LargeBinary, nullable=True),
    Column("ciphertext", LargeBinary, nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("created_by", String(320), nullable=True),
    Column("removed_at", UTCDateTime, nullable=True),
)


alert_deliveries = Table(
    "alert_deliveries",
    metadata,
    Column("id", ID, primary_key=True),
    Column("channel_id", ID, ForeignKey("alert_channels.id"), nullable=False),
    Column("org_id", ID, ForeignKey("orgs.id"), nullable=True),
    Column("event_kind", String(64), nullable=False),
    # The occurrence: one delivery per channel and key, however many replicas enqueue it.
    Column("dedupe_key", String(200), nullable=False),
    Column("payload", JSON, nullable=False),
    Column("status", String(16), nullable=False),  # pending | delivered | failed
    Column("attempts", Integer, nullable=False),
    Column("next_attempt_at", UTCDateTime, nullable=False),
    # A worker's claim: nobody else sends this delivery until the lease ends.
    Column("lease_owner", String(40), nullable=True),
    Column("lease_until", UTCDateTime, nullable=True),
    Column("last_status_code", Integer, nullable=True),
    Column("last_response", String(500), nullable=True),
    # Every attempt: when, the status code (or the error) and the response's start.
    Column("attempt_log", JSON, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("delivered_at", UTCDateTime, nullable=True),
    UniqueConstraint("channel_id", "dedupe_key"),
    Index("ix_alert_deliveries_due", "status", "next_attempt_at"),
    Index("ix_alert_deliveries_org_id_created_at", "org_id", "created_at"),
)
