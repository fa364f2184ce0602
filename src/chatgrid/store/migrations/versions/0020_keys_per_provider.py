"""Several keys per org: one per provider (several named OpenAI-compatible servers),
and the admin's choice of key for a model two of them serve

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CURRENT = "status IN ('active', 'broken')"


def upgrade() -> None:
    with op.batch_alter_table("credentials") as batch:
        batch.add_column(sa.Column("name", sa.String(100), nullable=False, server_default=""))
        batch.drop_index(
            "uq_credentials_current_per_org",
            sqlite_where=sa.text(CURRENT),
            postgresql_where=sa.text(CURRENT),
        )
        batch.create_index(
            "uq_credentials_current_per_provider",
            ["org_id", "provider", "name"],
            unique=True,
            sqlite_where=sa.text(CURRENT),
            postgresql_where=sa.text(CURRENT),
        )
    op.create_table(
        "credential_model_choices",
        sa.Column("org_id", sa.String(40), sa.ForeignKey("orgs.id"), nullable=False),
        sa.Column("model", sa.String(200), nullable=False),
        sa.Column("provider", sa.String(24), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(320), nullable=True),
        sa.PrimaryKeyConstraint("org_id", "model"),
    )


def downgrade() -> None:
    op.drop_table("credential_model_choices")
    # Going back to one key per org: every current key but the newest is retired.
    op.execute(
        "UPDATE credentials SET status = 'replaced' WHERE status IN ('active', 'broken') "
        "AND EXISTS (SELECT 1 FROM credentials AS newer WHERE newer.org_id = credentials.org_id "
        "AND newer.status IN ('active', 'broken') AND newer.created_at > credentials.created_at)"
    )
    with op.batch_alter_table("credentials") as batch:
        batch.drop_index(
            "uq_credentials_current_per_provider",
            sqlite_where=sa.text(CURRENT),
            postgresql_where=sa.text(CURRENT),
        )
        batch.create_index(
            "uq_credentials_current_per_org",
            ["org_id"],
            unique=True,
            sqlite_where=sa.text(CURRENT),
            postgresql_where=sa.text(CURRENT),
        )
        batch.drop_column("name")
