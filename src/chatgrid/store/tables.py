"""The schema, as SQLAlchemy Core tables (migrations live in ``migrations/``).

Identifiers are short prefixed strings (``org_…``, ``mem_…``) so a value in a
log or a support ticket says what it is. Money columns are integer
micro-dollars. Secrets are stored only as envelope-encrypted blobs.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    UniqueConstraint,
    text,
)

from chatgrid.store.types import BigIntPK, UTCDateTime

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

ID = String(40)

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

# A cap an org admin sets on one member's shared-credit spend per month.
member_caps = Table(
    "member_caps",
    metadata,
    Column("org_id", ID, ForeignKey("orgs.id"), primary_key=True),
    Column("member_id", ID, ForeignKey("members.id"), primary_key=True),
    Column("cap_micros", BigInteger, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
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

users = Table(
    "users",
    metadata,
    Column("id", ID, primary_key=True),
    Column("email", String(320), nullable=False, unique=True),
    Column("password_hash", String(200), nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("is_operator", Boolean, nullable=False, server_default=text("false")),
    Column("password_changed_at", UTCDateTime, nullable=True),
)

# Server-side sessions: the cookie holds a random id, the table its SHA-256.
sessions = Table(
    "sessions",
    metadata,
    Column("id_hash", String(64), primary_key=True),
    Column("user_id", ID, ForeignKey("users.id"), nullable=False),
    Column("org_id", ID, ForeignKey("orgs.id"), nullable=True),
    Column("csrf_token", String(64), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("last_seen_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
    Column("client_addr", String(64), nullable=True),
    Column("user_agent", String(300), nullable=True),
    Index(None, "user_id"),
)

invitations = Table(
    "invitations",
    metadata,
    Column("id", ID, primary_key=True),
    Column("org_id", ID, ForeignKey("orgs.id"), nullable=False),
    Column("email", String(320), nullable=False),
    Column("role", String(16), nullable=False),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("invited_by", ID, nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
    Column("accepted_at", UTCDateTime, nullable=True),
    Column("revoked_at", UTCDateTime, nullable=True),
    Index(None, "org_id"),
)

# Append-only: every admin action and sign-in. Keys appear by fingerprint only.
audit_log = Table(
    "audit_log",
    metadata,
    Column("id", BigIntPK, primary_key=True, autoincrement=True),
    Column("org_id", ID, nullable=True),  # null: instance-wide (operator) actions
    Column("actor_user_id", ID, nullable=True),
    Column("actor_email", String(320), nullable=True),
    Column("action", String(64), nullable=False),
    Column("target", String(200), nullable=True),
    Column("details", JSON, nullable=False),
    Column("client_addr", String(64), nullable=True),
    Column("user_agent", String(300), nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Index(None, "org_id", "created_at"),
)

members = Table(
    "members",
    metadata,
    Column("id", ID, primary_key=True),
    Column("org_id", ID, ForeignKey("orgs.id"), nullable=False),
    Column("user_id", ID, ForeignKey("users.id"), nullable=False),
    Column("role", String(16), nullable=False),
    Column("status", String(16), nullable=False, server_default="active"),
    Column("created_at", UTCDateTime, nullable=False),
    Column("removed_at", UTCDateTime, nullable=True),
    UniqueConstraint("org_id", "user_id"),
)

api_tokens = Table(
    "api_tokens",
    metadata,
    Column("id", ID, primary_key=True),
    Column("org_id", ID, ForeignKey("orgs.id"), nullable=False),
    Column("member_id", ID, ForeignKey("members.id"), nullable=False),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("prefix", String(16), nullable=False),
    Column("name", String(100), nullable=False, server_default=""),
    Column("created_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=True),
    Column("revoked_at", UTCDateTime, nullable=True),
    Index(None, "org_id", "member_id"),
)


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
    *_upstream_columns(),
    *_sealed_secret_columns(),
    # active: in use; broken: the upstream rejected it; replaced: rotated out; revoked.
    Column("status", String(16), nullable=False),
    Column("status_reason", String(300), nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("created_by", String(320), nullable=True),
    Column("ended_at", UTCDateTime, nullable=True),
    Index(
        "uq_credentials_current_per_org",
        "org_id",
        unique=True,
        sqlite_where=text("status IN ('active', 'broken')"),
        postgresql_where=text("status IN ('active', 'broken')"),
    ),
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

prices = Table(
    "prices",
    metadata,
    Column("id", BigIntPK, primary_key=True, autoincrement=True),
    Column("model", String(100), nullable=False),
    Column("effective_from", Date, nullable=False),
    # Micro-dollars per one million tokens: $2.50 / 1M tokens is 2_500_000.
    Column("input_per_mtok", BigInteger, nullable=False),
    Column("cached_input_per_mtok", BigInteger, nullable=False),
    Column("output_per_mtok", BigInteger, nullable=False),
    UniqueConstraint("model", "effective_from"),
)

ledger_entries = Table(
    "ledger_entries",
    metadata,
    Column("id", BigIntPK, primary_key=True, autoincrement=True),
    # One id per upstream call: the unique key that makes writing idempotent.
    Column("call_id", String(40), nullable=False, unique=True),
    Column("org_id", ID, nullable=False),
    Column("member_id", ID, nullable=False),
    Column("token_id", ID, nullable=False),
    Column("mode", String(16), nullable=False),
    Column("provider", String(24), nullable=False),
    Column("credential_fingerprint", String(32), nullable=False),
    Column("endpoint", String(32), nullable=False),
    Column("model", String(100), nullable=False),
    Column("stream", Boolean, nullable=False),
    Column("prompt_tokens", Integer, nullable=False),
    Column("cached_tokens", Integer, nullable=False),
    Column("completion_tokens", Integer, nullable=False),
    Column("usage_estimated", Boolean, nullable=False),
    Column("list_cost_micros", BigInteger, nullable=True),
    Column("charged_micros", BigInteger, nullable=False),
    Column("markup_bps", Integer, nullable=False),
    Column("upstream_request_id", String(200), nullable=True),
    Column("client_addr", String(64), nullable=True),
    Column("status_code", Integer, nullable=False),
    Column("outcome", String(32), nullable=False),
    Column("started_at", UTCDateTime, nullable=False),
    Column("first_byte_ms", Integer, nullable=True),
    Column("duration_ms", Integer, nullable=False),
    Index(None, "org_id", "started_at"),
)

# --- Documents (RAG), migration 0005 ---------------------------------------
# Keyword indexes live outside these definitions because they differ per
# backend (see migration 0005): SQLite has the FTS5 table ``chunks_fts``
# (external content over ``chunks``, keyed by ``chunks.seq``, kept in sync by
# triggers); PostgreSQL has the generated column ``chunks.tsv`` with a GIN index.

collections = Table(
    "collections",
    metadata,
    Column("id", ID, primary_key=True),
    Column("org_id", ID, ForeignKey("orgs.id"), nullable=False),
    # Null: shared with the whole org; otherwise private to this member.
    Column("owner_member_id", ID, ForeignKey("members.id"), nullable=True),
    Column("name", String(200), nullable=False),
    # Bumped whenever the collection's embeddings change, so every replica's
    # in-memory vector cache knows when to reload.
    Column("vectors_version", BigInteger, nullable=False, server_default="0"),
    Column("created_at", UTCDateTime, nullable=False),
    Index(None, "org_id", "owner_member_id"),
)

documents = Table(
    "documents",
    metadata,
    Column("id", ID, primary_key=True),
    Column("org_id", ID, ForeignKey("orgs.id"), nullable=False),
    Column("collection_id", ID, ForeignKey("collections.id"), nullable=False),
    Column("uploaded_by", ID, nullable=False),
    Column("filename", String(300), nullable=False),
    Column("content_type", String(200), nullable=False),
    Column("size_bytes", BigInteger, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("status", String(16), nullable=False),
    Column("error", String(500), nullable=True),
    Column("pages", Integer, nullable=True),
    Column("chunks_total", Integer, nullable=False, server_default="0"),
    Column("chunks_done", Integer, nullable=False, server_default="0"),
    # How many times a worker claimed it: a file that kills workers stops being retried.
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("claimed_at", UTCDateTime, nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Index(None, "org_id", "collection_id"),
    Index(None, "status", "created_at"),
)

# The uploaded bytes, in the database so any replica can ingest them.
document_files = Table(
    "document_files",
    metadata,
    Column("document_id", ID, ForeignKey("documents.id"), primary_key=True),
    Column("data", LargeBinary, nullable=False),
)

chunks = Table(
    "chunks",
    metadata,
    # An integer key for SQLite's FTS5 rowid; ``id`` is what everything else uses.
    Column("seq", BigIntPK, primary_key=True, autoincrement=True),
    Column("id", ID, nullable=False),
    Column("org_id", ID, nullable=False),
    Column("collection_id", ID, nullable=False),
    Column("document_id", ID, ForeignKey("documents.id"), nullable=False),
    Column("ordinal", Integer, nullable=False),
    Column("heading", String(500), nullable=True),
    Column("page", Integer, nullable=True),
    Column("text", String, nullable=False),
    # float32 little-endian; null until the embedding call for it returned.
    Column("embedding", LargeBinary, nullable=True),
    # Named, so SQLite can be told to use it (see store/document_search.py).
    Index("ix_chunks_id", "id", unique=True),
    Index(None, "org_id", "collection_id"),
    Index(None, "document_id", "ordinal"),
)

# --- Chat workspace, migration 0006 -----------------------------------------

conversations = Table(
    "conversations",
    metadata,
    Column("id", ID, primary_key=True),
    Column("org_id", ID, ForeignKey("orgs.id"), nullable=False),
    Column("member_id", ID, ForeignKey("members.id"), nullable=False),
    Column("title", String(200), nullable=False),
    Column("model", String(100), nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Index(None, "org_id", "member_id", "updated_at"),
)

chat_messages = Table(
    "chat_messages",
    metadata,
    Column("id", ID, primary_key=True),
    Column("conversation_id", ID, ForeignKey("conversations.id"), nullable=False),
    Column("org_id", ID, nullable=False),
    Column("position", Integer, nullable=False),
    Column("role", String(16), nullable=False),
    Column("content", String, nullable=False),
    Column("model", String(100), nullable=True),
    # streaming, complete, stopped, failed
    Column("status", String(16), nullable=False),
    Column("error", String(500), nullable=True),
    Column("error_code", String(64), nullable=True),
    # The ledger rows behind this answer: the completion and the question's
    # embedding. Tokens and cost shown in the page are read from them.
    Column("call_id", String(40), nullable=True),
    Column("retrieval_call_id", String(40), nullable=True),
    # JSON list of the passages given to the model: [{n, chunk_id, document_id, ...}]
    Column("citations", String, nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    UniqueConstraint("conversation_id", "position"),
)
