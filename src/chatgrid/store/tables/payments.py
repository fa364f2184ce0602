"""Card payments: the operator's Stripe settings (sealed), Stripe's events seen, failed payments.

``payment_events`` makes each Stripe event count once (Stripe may send one
twice). ``payment_failures`` holds a row per org whose payment failed and is
not yet made good: the grace period, then read-only (``billing.payment_standing``).
"""

from __future__ import annotations

from sqlalchemy import Column, ForeignKey, Integer, LargeBinary, String, Table

from chatgrid.store.tables.base import ID, metadata
from chatgrid.store.types import UTCDateTime

payment_settings = Table(
    "payment_settings",
    metadata,
    Column("provider", String(16), primary_key=True),  # "stripe"
    # The secret key and the webhook signing secret, sealed together as one JSON document.
    Column("wrapped_key", LargeBinary, nullable=False),
    Column("master_key_version", Integer, nullable=False),
    Column("nonce", LargeBinary, nullable=False),
    Column("ciphertext", LargeBinary, nullable=False),
    Column("fingerprint", String(32), nullable=False),
    Column("api_base", String(500), nullable=True),  # null: Stripe's own
    Column("grace_days", Integer, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("updated_by", String(320), nullable=True),
)

payment_events = Table(
    "payment_events",
    metadata,
    Column("event_id", String(255), primary_key=True),
    Column("provider", String(16), nullable=False),
    Column("type", String(100), nullable=False),
    Column("org_id", ID, nullable=True),
    Column("object_ref", String(255), nullable=True),  # the invoice (or session) it is about
    Column("outcome", String(40), nullable=False),
    Column("received_at", UTCDateTime, nullable=False),
)

payment_failures = Table(
    "payment_failures",
    metadata,
    Column("org_id", ID, ForeignKey("orgs.id"), primary_key=True),
    Column("invoice_ref", String(255), nullable=False),  # the provider's invoice or charge
    Column("period", String(7), nullable=True),  # ChatGrid's invoice month, when known
    Column("failed_at", UTCDateTime, nullable=False),
    Column("grace_ends_at", UTCDateTime, nullable=False),
)

#: The Stripe customer that pays for an org (its card is Stripe's to keep, never ours).
stripe_customers = Table(
    "stripe_customers",
    metadata,
    Column("org_id", ID, ForeignKey("orgs.id"), primary_key=True),
    Column("customer_id", String(255), nullable=False, unique=True),
    Column("linked_at", UTCDateTime, nullable=False),
)
