"""Email domains that orgs claim and prove by DNS (``identity.domains`` holds the rules)."""

from __future__ import annotations

from sqlalchemy import CheckConstraint, Column, ForeignKey, String, Table, UniqueConstraint

from chatgrid.store.tables.base import ID, metadata
from chatgrid.store.types import UTCDateTime

# Any number of orgs may claim a domain; ``verified_domain`` is set (to the
# domain itself) only on the claim DNS proved, and it is unique: the database
# itself keeps a domain verified for at most one org, whatever races.
email_domains = Table(
    "email_domains",
    metadata,
    Column("id", ID, primary_key=True),
    Column("org_id", ID, ForeignKey("orgs.id"), nullable=False),
    Column("domain", String(253), nullable=False, index=True),
    Column("token", String(64), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("created_by", String(320), nullable=True),
    Column("verified_at", UTCDateTime, nullable=True),
    Column("verified_domain", String(253), nullable=True, unique=True),
    UniqueConstraint("org_id", "domain"),
    CheckConstraint(
        "verified_domain IS NULL OR verified_domain = domain",
        name="ck_email_domains_verified_is_domain",
    ),
)
