"""Prices and the ledger: one row per upstream call, money in micro-dollars."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    Index,
    Integer,
    String,
    Table,
    UniqueConstraint,
)

from chatgrid.store.tables.base import ID, metadata
from chatgrid.store.types import BigIntPK, UTCDateTime

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
    # Prompt-cache writes (Anthropic), kept 5 minutes and an hour; null: see ledger.pricing.
    Column("cache_write_per_mtok", BigInteger, nullable=True),
    Column("cache_write_1h_per_mtok", BigInteger, nullable=True),
    UniqueConstraint("model", "effective_from"),
)

#: Prices of calls priced by other units than tokens (``ledger.units``), dated like ``prices``.
unit_prices = Table(
    "unit_prices",
    metadata,
    Column("id", BigIntPK, primary_key=True, autoincrement=True),
    Column("model", String(100), nullable=False),
    Column("kind", String(16), nullable=False),  # images, audio_ms, characters, inputs
    Column("variant", String(32), nullable=False),  # an image's size/quality, else ""
    Column("effective_from", Date, nullable=False),
    # Micro-dollars per unit of price: an image, a minute of audio, 1M characters, an input.
    Column("micros", BigInteger, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    UniqueConstraint("model", "variant", "effective_from"),
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
    # Of the prompt, the tokens written to the prompt cache (Anthropic), and of those
    # the ones kept an hour: priced apart (ledger.pricing), 0 for OpenAI.
    Column("cache_write_tokens", Integer, nullable=False, server_default="0"),
    Column("cache_write_1h_tokens", Integer, nullable=False, server_default="0"),
    Column("usage_estimated", Boolean, nullable=False),
    Column("list_cost_micros", BigInteger, nullable=True),
    Column("charged_micros", BigInteger, nullable=False),
    Column("markup_bps", Integer, nullable=False),
    Column("upstream_request_id", String(200), nullable=True),
    Column("client_addr", String(64), nullable=True),
    Column("request_id", String(128), nullable=True),  # X-Request-Id of the request
    Column("status_code", Integer, nullable=False),
    Column("outcome", String(32), nullable=False),
    Column("started_at", UTCDateTime, nullable=False),
    Column("first_byte_ms", Integer, nullable=True),
    Column("duration_ms", Integer, nullable=False),
    # A call priced by other units than tokens (ledger.units): which, how many, and
    # the variant priced (an image's size and quality); null for token calls.
    Column("units_kind", String(16), nullable=True),
    Column("units", BigInteger, nullable=True),
    Column("units_variant", String(32), nullable=True),
    Index(None, "org_id", "started_at"),
)
