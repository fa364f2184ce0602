"""Orgs and the limits set on them (by their admins and by the operator)."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    ForeignKey,
    Integer,
    String,
    Table,
    text,
)

from chatgrid.store.tables.base import ID, metadata
from chatgrid.store.types import UTCDateTime

orgs = Table(
    "orgs",
    metadata,
    Column("id", ID, primary_key=True),
    Column("name", String(100), nullable=False, unique=True),
    Column("billing_mode", String(16), nullable=False),
    Column("status", String(16), nullable=False, server_default="active"),
    Column("markup_bps", Integer, nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    # Whether the operator lets this org use shared credits (pooled keys).
    Column("shared_allowed", Boolean, nullable=False, server_default=text("true")),
    Column("trial_ends_at", UTCDateTime, nullable=True),
    # The plan the org pays for; null while on its trial (or the default plan).
    Column("plan_id", ID, nullable=True),
    Column("suspended_reason", String(300), nullable=True),
)


# Limits the operator imposes on a shared-credit org, on top of its admin's own.
operator_policies = Table(
    "operator_policies",
    metadata,
    Column("org_id", ID, ForeignKey("orgs.id"), primary_key=True),
    Column("org_rpm", Integer, nullable=True),
    Column("org_tpm", Integer, nullable=True),
    Column("member_rpm", Integer, nullable=True),
    Column("member_tpm", Integer, nullable=True),
    Column("updated_at", UTCDateTime, nullable=False),
)


# Limits and model rules an org admin sets; one row per org, absent = no limits.
org_policies = Table(
    "org_policies",
    metadata,
    Column("org_id", ID, ForeignKey("orgs.id"), primary_key=True),
    Column("org_rpm", Integer, nullable=True),
    Column("org_tpm", Integer, nullable=True),
    Column("member_rpm", Integer, nullable=True),
    Column("member_tpm", Integer, nullable=True),
    Column("member_concurrency", Integer, nullable=True),
    # null: every model the org's upstream offers; otherwise the allowed list.
    Column("allowed_models", JSON, nullable=True),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("updated_by", String(320), nullable=True),
)
