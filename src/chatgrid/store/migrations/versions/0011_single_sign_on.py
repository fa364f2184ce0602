"""single sign-on: OIDC connections per org

Revision ID: 0011
Revises: 0009
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.String(length=40)
_WHEN = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "sso_connections",
        sa.Column("id", _ID, nullable=False),
        sa.Column("org_id", _ID, nullable=False),
        sa.Column("protocol", sa.String(length=16), nullable=False),
        sa.Column("issuer", sa.String(length=500), nullable=False),
        sa.Column("client_id", sa.String(length=300), nullable=True),
        sa.Column("settings", sa.JSON(), nullable=False),
        sa.Column("groups_claim", sa.String(length=100), nullable=True),
        sa.Column("role_map", sa.JSON(), nullable=False),
        sa.Column("default_role", sa.String(length=16), nullable=False),
        sa.Column("enforced", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("fingerprint", sa.String(length=32), nullable=True),
        sa.Column("last4", sa.String(length=4), nullable=True),
        sa.Column("wrapped_key", sa.LargeBinary(), nullable=True),
        sa.Column("master_key_version", sa.Integer(), nullable=True),
        sa.Column("nonce", sa.LargeBinary(), nullable=True),
        sa.Column("ciphertext", sa.LargeBinary(), nullable=True),
        sa.Column("created_at", _WHEN, nullable=False),
        sa.Column("updated_at", _WHEN, nullable=False),
        sa.Column("updated_by", sa.String(length=320), nullable=True),
        sa.ForeignKeyConstraint(
            ["org_id"], ["orgs.id"], name=op.f("fk_sso_connections_org_id_orgs")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sso_connections")),
        sa.UniqueConstraint("org_id", name=op.f("uq_sso_connections_org_id")),
    )
    op.create_table(
        "sso_identities",
        sa.Column("id", _ID, nullable=False),
        sa.Column("org_id", _ID, nullable=False),
        sa.Column("issuer", sa.String(length=500), nullable=False),
        sa.Column("subject", sa.String(length=255), nullable=False),
        sa.Column("user_id", _ID, nullable=False),
        sa.Column("created_at", _WHEN, nullable=False),
        sa.Column("last_signin_at", _WHEN, nullable=False),
        sa.ForeignKeyConstraint(
            ["org_id"], ["orgs.id"], name=op.f("fk_sso_identities_org_id_orgs")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_sso_identities_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sso_identities")),
        sa.UniqueConstraint(
            "org_id", "issuer", "subject", name=op.f("uq_sso_identities_org_id_issuer_subject")
        ),
        sa.UniqueConstraint(
            "org_id", "issuer", "user_id", name=op.f("uq_sso_identities_org_id_issuer_user_id")
        ),
    )
    op.create_table(
        "sso_logins",
        sa.Column("state_hash", sa.String(length=64), nullable=False),
        sa.Column("browser_hash", sa.String(length=64), nullable=False),
        sa.Column("org_id", _ID, nullable=False),
        sa.Column("connection_id", _ID, nullable=False),
        sa.Column("nonce", sa.String(length=100), nullable=False),
        sa.Column("redirect_uri", sa.String(length=600), nullable=False),
        sa.Column("next_path", sa.String(length=600), nullable=True),
        sa.Column("created_at", _WHEN, nullable=False),
        sa.Column("expires_at", _WHEN, nullable=False),
        sa.ForeignKeyConstraint(["org_id"], ["orgs.id"], name=op.f("fk_sso_logins_org_id_orgs")),
        sa.PrimaryKeyConstraint("state_hash", name=op.f("pk_sso_logins")),
    )
    op.create_index(op.f("ix_sso_logins_expires_at"), "sso_logins", ["expires_at"])


def downgrade() -> None:
    op.drop_index(op.f("ix_sso_logins_expires_at"), table_name="sso_logins")
    op.drop_table("sso_logins")
    op.drop_table("sso_identities")
    op.drop_table("sso_connections")
