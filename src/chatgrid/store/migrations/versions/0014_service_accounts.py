"""Service accounts and their tokens

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "service_accounts",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("org_id", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("scope", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["org_id"], ["orgs.id"], name=op.f("fk_service_accounts_org_id_orgs")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_service_accounts")),
    )
    with op.batch_alter_table("service_accounts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_service_accounts_org_id"), ["org_id"], unique=False)
    op.create_table(
        "service_account_tokens",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("service_account_id", sa.String(length=40), nullable=False),
        sa.Column("org_id", sa.String(length=40), nullable=False),
        sa.Column("prefix", sa.String(length=16), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["org_id"], ["orgs.id"], name=op.f("fk_service_account_tokens_org_id_orgs")
        ),
        sa.ForeignKeyConstraint(
            ["service_account_id"],
            ["service_accounts.id"],
            name=op.f("fk_service_account_tokens_service_account_id_service_accounts"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_service_account_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_service_account_tokens_token_hash")),
    )
    with op.batch_alter_table("service_account_tokens", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_service_account_tokens_service_account_id"),
            ["service_account_id"],
            unique=False,
        )


def downgrade() -> None:
    op.drop_table("service_account_tokens")
    op.drop_table("service_accounts")
