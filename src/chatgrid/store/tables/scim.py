"""SCIM provisioning: the org's bearer tokens (hashes only) and the IdP's ids for members."""

from __future__ import annotations

from sqlalchemy import Column, ForeignKey, String, Table, UniqueConstraint

from chatgrid.store.tables.base import ID, metadata
from chatgrid.store.types import UTCDateTime

scim_tokens = Table(
    "scim_tokens",
    metadata,
    Column("id", ID, primary_key=True),
    Column("org_id", ID, ForeignKey("orgs.id"), nullable=False),
    Column("prefix", String(16), nullable=False),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("revoked_at", UTCDateTime, nullable=True),
)

# The identity provider's own id for a member (``externalId``), when it sent one.
scim_users = Table(
    "scim_users",
    metadata,
    Column("member_id", ID, ForeignKey("members.id"), primary_key=True),
    Column("org_id", ID, ForeignKey("orgs.id"), nullable=False),
    Column("external_id", String(255), nullable=True),
    UniqueConstraint("org_id", "external_id"),
)

# Groups the identity provider pushes; a group's displayName maps to a role through the
# org's SSO role map (``admin.scim``). Members are the org's members (by member id).
scim_groups = Table(
    "scim_groups",
    metadata,
    Column("id", ID, primary_key=True),
    Column("org_id", ID, ForeignKey("orgs.id"), nullable=False),
    Column("display_name", String(255), nullable=False),
    Column("external_id", String(255), nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    UniqueConstraint("org_id", "display_name"),
)

scim_group_members = Table(
    "scim_group_members",
    metadata,
    Column("group_id", ID, ForeignKey("scim_groups.id"), primary_key=True),
    Column("member_id", ID, ForeignKey("members.id"), primary_key=True),
)
