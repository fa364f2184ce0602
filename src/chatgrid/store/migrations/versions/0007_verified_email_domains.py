"""verified email domains

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "email_domains",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("org_id", sa.String(length=40), nullable=False),
        sa.Column("domain", sa.String(length=253), nullable=False),
        sa.Column("token", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=320), nullable=True),
        sa.Column("verified_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("verified_domain", sa.String(length=253), nullable=True),
        sa.CheckConstraint(
            "verified_domain IS NULL OR verified_domain = domain",
            name="ck_email_domains_verified_is_domain",
        ),
        sa.ForeignKeyConstraint(["org_id"], ["orgs.id"], name=op.f("fk_email_domains_org_id_orgs")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_email_domains")),
        sa.UniqueConstraint("org_id", "domain", name=op.f("uq_email_domains_org_id_domain")),
        sa.UniqueConstraint("verified_domain", name=op.f("uq_email_domains_verified_domain")),
    )
    op.create_index(op.f("ix_email_domains_domain"), "email_domains", ["domain"])


def downgrade() -> None:
    op.drop_index(op.f("ix_email_domains_domain"), table_name="email_domains")
    op.drop_table("email_domains")
