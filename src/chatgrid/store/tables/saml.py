"""SAML: the assertion ids already accepted, so a captured assertion works once.

Shared by every replica through the database: the id is the primary key, so
two replicas racing to accept the same assertion get one insert and one
conflict. A row is kept until the assertion's own ``NotOnOrAfter`` (plus the
clock skew allowed); after that the assertion is refused as expired anyway.
"""

from __future__ import annotations

from sqlalchemy import Column, ForeignKey, Index, String, Table

from chatgrid.store.tables.base import ID, metadata
from chatgrid.store.types import UTCDateTime

saml_assertions_seen = Table(
    "saml_assertions_seen",
    metadata,
    # SHA-256 of "issuer\nassertion id": ids are only unique per issuer.
    Column("assertion_hash", String(64), primary_key=True),
    Column("org_id", ID, ForeignKey("orgs.id"), nullable=False),
    Column("seen_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
    Index(None, "expires_at"),
)
