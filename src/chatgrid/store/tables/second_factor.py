"""Two-step sign-in: each account's sealed TOTP seed, its recovery codes, pending second
steps of sign-ins, and the orgs that require a second factor of their password users."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    PrimaryKeyConstraint,
    String,
    Table,
)

from chatgrid.store.tables.base import ID, metadata
from chatgrid.store.types import UTCDateTime

# One row per account that set up (or is setting up) an authenticator app.
# The seed is envelope-encrypted like a key (bound to the user id); nothing
# of it is kept in plain, not even a last four.
second_factors = Table(
    "second_factors",
    metadata,
    Column("user_id", ID, ForeignKey("users.id"), primary_key=True),
    Column("wrapped_key", LargeBinary, nullable=False),
    Column("master_key_version", Integer, nullable=False),
    Column("nonce", LargeBinary, nullable=False),
    Column("ciphertext", LargeBinary, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    # Null until a first code proved the app has the seed: until then it is not on.
    Column("confirmed_at", UTCDateTime, nullable=True),
    # The last RFC 6238 time step accepted: a code is accepted once.
    Column("last_step", BigInteger, nullable=True),
)


# Single-use codes, stored as hashes bound to the account.
recovery_codes = Table(
    "recovery_codes",
    metadata,
    Column("user_id", ID, ForeignKey("users.id"), nullable=False),
    Column("code_hash", String(64), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("used_at", UTCDateTime, nullable=True),
    PrimaryKeyConstraint("user_id", "code_hash"),
)


# A sign-in between the password and the code: not a session (identity.second_step).
signin_challenges = Table(
    "signin_challenges",
    metadata,
    Column("id_hash", String(64), primary_key=True),
    Column("user_id", ID, ForeignKey("users.id"), nullable=False),
    Column("org_id", ID, ForeignKey("orgs.id"), nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
    Column("failures", Integer, nullable=False, server_default="0"),
    Index(None, "user_id"),
)


# An org listed here requires two-step sign-in of every member with a password.
org_second_factor_rules = Table(
    "org_second_factor_rules",
    metadata,
    Column("org_id", ID, ForeignKey("orgs.id"), primary_key=True),
    Column("required_since", UTCDateTime, nullable=False),
    Column("required_by", String(320), nullable=True),
)
