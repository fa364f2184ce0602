"""Collections, documents, their stored files and searchable chunks."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
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
from chatgrid.store.types import BigIntPK, UTCDateTime

# Keyword indexes live outside these definitions because they differ per
# backend (see migrations 0005 and 0032): SQLite has the FTS5 table ``chunks_fts``
# (external content over ``chunks.keywords``, keyed by ``chunks.seq``, kept in sync by
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
    Index(None, "org_id", "created_at"),  # retention sweeps by age
)


# The uploaded bytes, in the database so any replica can ingest them; sealed with the org's
# data key (``vault.documents``) unless stored before documents were encrypted at rest.
document_files = Table(
    "document_files",
    metadata,
    Column("document_id", ID, ForeignKey("documents.id"), primary_key=True),
    Column("data", LargeBinary, nullable=False),
    Column("sealed", Boolean, nullable=False, server_default=text("false")),
)


# Each org's document data key, sealed by the vault (rewrapped when the master key rotates).
org_data_keys = Table(
    "org_data_keys",
    metadata,
    Column("org_id", ID, ForeignKey("orgs.id"), primary_key=True),
    Column("wrapped_key", LargeBinary, nullable=False),
    Column("master_key_version", Integer, nullable=False),
    Column("nonce", LargeBinary, nullable=False),
    Column("ciphertext", LargeBinary, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
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
    # Empty once sealed: heading and text are then in ``sealed`` (JSON, sealed with the org's
    # data key); plain only in chunks stored before documents were encrypted at rest.
    Column("text", String, nullable=False),
    Column("sealed", LargeBinary, nullable=True),
    # What the keyword index reads: each word's keyed name (``vault.documents``), or the
    # plain text of a chunk not sealed yet.
    Column("keywords", String, nullable=False, server_default=""),
    # float32 little-endian; null until the embedding call for it returned.
    Column("embedding", LargeBinary, nullable=True),
    # Named, so SQLite can be told to use it (see store/document_search.py).
    Index("ix_chunks_id", "id", unique=True),
    Index(None, "org_id", "collection_id"),
    Index(None, "document_id", "ordinal"),
)
