"""single sign-on: SAML connections and the assertion replay store

SAML connections live in ``sso_connections`` (protocol ``saml``, the IdP's
entity id as ``issuer``, its metadata in ``settings``); only the replay store
is new.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_WHEN = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "saml_assertions_seen",
        sa.Column("assertion_hash", sa.String(length=64), nullable=False),
        sa.Column("org_id", sa.String(length=40), nullable=False),
        sa.Column("seen_at", _WHEN, nullable=False),
        sa.Column("expires_at", _WHEN, nullable=False),
        sa.ForeignKeyConstraint(
            ["org_id"], ["orgs.id"], name=op.f("fk_saml_assertions_seen_org_id_orgs")
        ),
        sa.PrimaryKeyConstraint("assertion_hash", name=op.f("pk_saml_assertions_seen")),
    )
    op.create_index(
        op.f("ix_saml_assertions_seen_expires_at"),
        "saml_assertions_seen",
        ["expires_at"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_saml_assertions_seen_expires_at"), table_name="saml_assertions_seen")
    op.drop_table("saml_assertions_seen")
