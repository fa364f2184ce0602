"""Plans, seats and invoices: what the operator bills an org for."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    UniqueConstraint,
    text,
)

from chatgrid.store.tables.base import ID, metadata
from chatgrid.store.types import BigIntPK, UTCDateTime

# What a seat costs and what it includes. Money in micro-dollars.
plans = Table(
    "plans",
    metadata,
    Column("id", ID, primary_key=True),
    Column("name", String(100), nullable=False, unique=True),
    Column("seat_price_micros", BigInteger, nullable=False),
    Column("markup_bps", Integer, nullable=False),
    # Shared-credit spend (charged amount) included per seat per month, pooled across seats.
    Column("allowance_micros_per_seat", BigInteger, nullable=False),
    # When the allowance runs out: false = hard stop, true = metered overage.
    Column("overage", Boolean, nullable=False, server_default=text("false")),
    Column("is_default", Boolean, nullable=False, server_default=text("false")),
    Column("created_at", UTCDateTime, nullable=False),
)


# When each seat was held, for proration by day (a member removed and re-added
# has two periods).
seat_periods = Table(
    "seat_periods",
    metadata,
    Column("id", BigIntPK, primary_key=True, autoincrement=True),
    Column("org_id", ID, ForeignKey("orgs.id"), nullable=False),
    Column("member_id", ID, ForeignKey("members.id"), nullable=False),
    Column("started_at", UTCDateTime, nullable=False),
    Column("ended_at", UTCDateTime, nullable=True),
    Index(None, "org_id", "started_at"),
)


# Issued invoices are immutable: lines and totals are a snapshot; only the
# payment status moves (issued → paid).
invoices = Table(
    "invoices",
    metadata,
    Column("id", ID, primary_key=True),
    Column("org_id", ID, ForeignKey("orgs.id"), nullable=False),
    Column("period", String(7), nullable=False),  # YYYY-MM
    Column("currency", String(3), nullable=False, server_default="USD"),
    Column("lines", JSON, nullable=False),
    Column("total_micros", BigInteger, nullable=False),
    Column("status", String(16), nullable=False),
    Column("issued_at", UTCDateTime, nullable=False),
    Column("paid_at", UTCDateTime, nullable=True),
    Column("payment_provider", String(32), nullable=True),
    Column("payment_reference", String(200), nullable=True),
    UniqueConstraint("org_id", "period"),
)
