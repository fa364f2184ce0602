"""Single sign-on: each org's connection to its identity provider, the identities it
vouched for, and sign-ins that left for the provider and have not come back yet.

Protocol-neutral on purpose: ``protocol`` says how to talk to the provider
(``oidc`` today), ``issuer`` names it (an OIDC issuer or a SAML entity id),
and ``settings`` holds what only one protocol needs.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    UniqueConstraint,
    text,
)

from chatgrid.store.tables.base import ID, metadata
from chatgrid.store.types import UTCDateTime

# One connection per org. The client secret (OIDC) is envelope-encrypted,
# bound to the connection's org and id; SAML has none, so it may be empty.
sso_connections = Table(
    "sso_connections",
    metadata,
    Column("id", ID, primary_key=True),
    Column("org_id", ID, ForeignKey("orgs.id"), nullable=False, unique=True),
    Column("protocol", String(16), nullable=False),
    Column("issuer", String(500), nullable=False),
    Column("client_id", String(300), nullable=True),
    Column("settings", JSON, nullable=False),
    Column("groups_claim", String(100), nullable=True),
    Column("role_map", JSON, nullable=False),
    Column("default_role", String(16), nullable=False),
    # On: password sign-in is refused for addresses on the org's verified domains.
    Column("enforced", Boolean, nullable=False, server_default=text("false")),
    Column("fingerprint", String(32), nullable=True),
    Column("last4", String(4), nullable=True),
    Column("wrapped_key", LargeBinary, nullable=True),
    Column("master_key_version", Integer, nullable=True),
    Column("nonce", LargeBinary, nullable=True),
    Column("ciphertext", LargeBinary, nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("updated_by", String(320), nullable=True),
)


# Who the provider said a person is (its stable subject), linked to our account
# the first time they sign in. A recycled address with a new subject is refused.
sso_identities = Table(
    "sso_identities",
    metadata,
    Column("id", ID, primary_key=True),
    Column("org_id", ID, ForeignKey("orgs.id"), nullable=False),
    Column("issuer", String(500), nullable=False),
    Column("subject", String(255), nullable=False),
    Column("user_id", ID, ForeignKey("users.id"), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("last_signin_at", UTCDateTime, nullable=False),
    UniqueConstraint("org_id", "issuer", "subject"),
    UniqueConstraint("org_id", "issuer", "user_id"),
)


# A sign-in sent to the provider: kept by the SHA-256 of its ``state``, bound to
# the browser that started it by the SHA-256 of a secret only that browser's
# cookie holds, and used once. Shared by every replica through the database.
sso_logins = Table(
    "sso_logins",
    metadata,
    Column("state_hash", String(64), primary_key=True),
    Column("browser_hash", String(64), nullable=False),
    Column("org_id", ID, ForeignKey("orgs.id"), nullable=False),
    Column("connection_id", ID, nullable=False),
    Column("nonce", String(100), nullable=False),
    Column("redirect_uri", String(600), nullable=False),
    Column("next_path", String(600), nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
    Index(None, "expires_at"),
)
