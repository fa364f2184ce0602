"""Retention periods per org and for the instance; leases for background jobs

Revision ID: 0029
Revises: 0028
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0029"
down_revision: str | None = "0028"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "retention_policies",
        sa.Column("scope", sa.String(length=40), nullable=False),
        sa.Column("conversations_days", sa.Integer(), nullable=True),
        sa.Column("documents_days", sa.Integer(), nullable=True),
        sa.Column("audit_days", sa.Integer(), nullable=True),
        sa.Column("ledger_days", sa.Integer(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.String(length=320), nullable=True),
        sa.PrimaryKeyConstraint("scope", name=op.f("pk_retention_policies")),
    )
    op.create_table(
        "job_leases",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("holder", sa.String(length=64), nullable=False),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_job_leases")),
    )
    # Sweeping looks conversations and documents up by org and age.
    with op.batch_alter_table("conversations") as batch_op:
        batch_op.create_index("ix_conversations_org_id_updated_at", ["org_id", "updated_at"])
    with op.batch_alter_table("documents") as batch_op:
        batch_op.create_index("ix_documents_org_id_created_at", ["org_id", "created_at"])


def downgrade() -> None:
    with op.batch_alter_table("documents") as batch_op:
        batch_op.drop_index("ix_documents_org_id_created_at")
    with op.batch_alter_table("conversations") as batch_op:
        batch_op.drop_index("ix_conversations_org_id_updated_at")
    op.drop_table("job_leases")
    op.drop_table("retention_policies")
