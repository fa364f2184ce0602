"""Upstream keys: an org's own credential and the operator's pooled keys (sealed)."""

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
    text,
)

from chatgrid.store.tables.base import ID, metadata
from chatgrid.store.types import UTCDateTime


def _sealed_secret_columns() -> list[Column[object]]:
    """The envelope-encrypted key and what is safe to show of it."""
    return [
        Column("fingerprint", String(32), nullable=False),
        Column("last4", String(4), nullable=False),
        Column("wrapped_key", LargeBinary, nullable=False),
        Column("master_key_version", Integer, nullable=False),
        Column("nonce", LargeBinary, nullable=False),
        Column("ciphertext", LargeBinary, nullable=False),
    ]


def _upstream_columns() -> list[Column[object]]:
    """Where and how to reach an upstream (never secret)."""
    return [
        Column("provider", String(24), nullable=False),
        Column("base_url", String(500), nullable=False),
        Column("organization", String(200), nullable=True),
        Column("project", String(200), nullable=True),
        Column("api_version", String(40), nullable=True),
        Column("deployments", JSON, nullable=False),
        Column("models", JSON, nullable=False),
    ]


credentials = Table(
    "credentials",
    metadata,
    Column("id", ID, primary_key=True),
    Column("org_id", ID, ForeignKey("orgs.id"), nullable=False),
    # Tells apart an org's keys of one provider: "" for the one-per-provider kinds,
    # the admin's name for each OpenAI-compatible server.
    Column("name", String(100), nullable=False, server_default=""),
    *_upstream_columns(),
    *_sealed_secret_columns(),
    # active: in use; broken: the upstream rejected it; replaced: rotated out; revoked.
    Column("status", String(16), nullable=False),
    Column("status_reason", String(300), nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("created_by", String(320), nullable=True),
    Column("ended_at", UTCDateTime, nullable=True),
    Index(
        "uq_credentials_current_per_provider",
        "org_id",
        "provider",
        "name",
        unique=True,
        sqlite_where=text("status IN ('active', 'broken')"),
        postgresql_where=text("status IN ('active', 'broken')"),
    ),
)


#: When two of an org's keys serve one model: the key (provider and name, so the
#: choice outlives a rotation) the admin chose for it.
credential_model_choices = Table(
    "credential_model_choices",
    metadata,
    Column("org_id", ID, ForeignKey("orgs.id"), primary_key=True),
    Column("model", String(200), primary_key=True),
    Column("provider", String(24), nullable=False),
    Column("name", String(100), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("created_by", String(320), nullable=True),
)


pool_keys = Table(
    "pool_keys",
    metadata,
    Column("id", ID, primary_key=True),
    Column("name", String(100), nullable=False, unique=True),
    *_upstream_columns(),
    *_sealed_secret_columns(),
    Column("weight", Integer, nullable=False, server_default="1"),
    # The key's own budget at the upstream (null: no limit known).
    Column("rpm_limit", Integer, nullable=True),
    Column("tpm_limit", Integer, nullable=True),
    Column("status", String(16), nullable=False),
    Column("status_reason", String(300), nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
)
