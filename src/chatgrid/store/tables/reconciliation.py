"""The admin key an org gives ChatGrid to read its OpenAI Usage and Costs APIs, sealed.

One row per org. The key is sealed like every upstream key (envelope
encryption, bound to the org) and rewrapped when the master key rotates;
``api_key_id`` is OpenAI's id of the org's ChatGrid key (``key_…``), to read
that key's usage only. Never exported: it is a secret.
"""

from __future__ import annotations

from sqlalchemy import Column, ForeignKey, Integer, LargeBinary, String, Table

from chatgrid.store.tables.base import ID, metadata
from chatgrid.store.types import UTCDateTime

reconciliation_keys = Table(
    "reconciliation_keys",
    metadata,
    Column("org_id", ID, ForeignKey("orgs.id"), primary_key=True),
    Column("wrapped_key", LargeBinary, nullable=False),
    Column("master_key_version", Integer, nullable=False),
    Column("nonce", LargeBinary, nullable=False),
    Column("ciphertext", LargeBinary, nullable=False),
    Column("fingerprint", String(32), nullable=False),
    Column("last4", String(4), nullable=False),
    Column("api_key_id", String(100), nullable=True),  # null: every key of the OpenAI org
    Column("updated_at", UTCDateTime, nullable=False),
    Column("updated_by", String(320), nullable=True),
)
