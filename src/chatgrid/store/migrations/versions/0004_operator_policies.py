"""operator policies

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "operator_policies",
        sa.Column("org_id", sa.String(length=40), nullable=False),
        sa.Column("org_rpm", sa.Integer(), nullable=True),
        sa.Column("org_tpm", sa.Integer(), nullable=True),
        sa.Column("member_rpm", sa.Integer(), nullable=True),
        sa.Column("member_tpm", sa.Integer(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["org_id"], ["orgs.id"], name=op.f("fk_operator_policies_org_id_orgs")
        ),
        sa.PrimaryKeyConstraint("org_id", name=op.f("pk_operator_policies")),
    )


def downgrade() -> None:
    op.drop_table("operator_policies")
