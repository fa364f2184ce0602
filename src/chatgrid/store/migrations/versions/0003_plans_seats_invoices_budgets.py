"""plans seats invoices budgets

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26
"""

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "plans",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("seat_price_micros", sa.BigInteger(), nullable=False),
        sa.Column("markup_bps", sa.Integer(), nullable=False),
        sa.Column("allowance_micros_per_seat", sa.BigInteger(), nullable=False),
        sa.Column("overage", sa.Boolean(), server_default=sa.text("(false)"), nullable=False),
        sa.Column("is_default", sa.Boolean(), server_default=sa.text("(false)"), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_plans")),
        sa.UniqueConstraint("name", name=op.f("uq_plans_name")),
    )
    op.create_table(
        "invoices",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("org_id", sa.String(length=40), nullable=False),
        sa.Column("period", sa.String(length=7), nullable=False),
        sa.Column("currency", sa.String(length=3), server_default="USD", nullable=False),
        sa.Column("lines", sa.JSON(), nullable=False),
        sa.Column("total_micros", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("paid_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("payment_provider", sa.String(length=32), nullable=True),
        sa.Column("payment_reference", sa.String(length=200), nullable=True),
        sa.ForeignKeyConstraint(["org_id"], ["orgs.id"], name=op.f("fk_invoices_org_id_orgs")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_invoices")),
        sa.UniqueConstraint("org_id", "period", name=op.f("uq_invoices_org_id_period")),
    )
    op.create_table(
        "member_caps",
        sa.Column("org_id", sa.String(length=40), nullable=False),
        sa.Column("member_id", sa.String(length=40), nullable=False),
        sa.Column("cap_micros", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["member_id"], ["members.id"], name=op.f("fk_member_caps_member_id_members")
        ),
        sa.ForeignKeyConstraint(["org_id"], ["orgs.id"], name=op.f("fk_member_caps_org_id_orgs")),
        sa.PrimaryKeyConstraint("org_id", "member_id", name=op.f("pk_member_caps")),
    )
    op.create_table(
        "seat_periods",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("org_id", sa.String(length=40), nullable=False),
        sa.Column("member_id", sa.String(length=40), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["member_id"], ["members.id"], name=op.f("fk_seat_periods_member_id_members")
        ),
        sa.ForeignKeyConstraint(["org_id"], ["orgs.id"], name=op.f("fk_seat_periods_org_id_orgs")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_seat_periods")),
    )
    with op.batch_alter_table("seat_periods", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_seat_periods_org_id_started_at"), ["org_id", "started_at"], unique=False
        )

    # The default plan: $5 per seat per month, +20% on shared-credit tokens,
    # $2 of shared-credit spend included per seat, hard stop when it runs out.
    plans = sa.table(
        "plans",
        sa.column("id", sa.String),
        sa.column("name", sa.String),
        sa.column("seat_price_micros", sa.BigInteger),
        sa.column("markup_bps", sa.Integer),
        sa.column("allowance_micros_per_seat", sa.BigInteger),
        sa.column("overage", sa.Boolean),
        sa.column("is_default", sa.Boolean),
        sa.column("created_at", sa.DateTime(timezone=True)),
    )
    op.bulk_insert(
        plans,
        [
            {
                "id": "plan_standard",
                "name": "Standard",
                "seat_price_micros": 5_000_000,
                "markup_bps": 2_000,
                "allowance_micros_per_seat": 2_000_000,
                "overage": False,
                "is_default": True,
                "created_at": datetime(2026, 11, 26, tzinfo=UTC),
            }
        ],
    )
    # Seats held today started when their membership did.
    op.execute(
        "INSERT INTO seat_periods (org_id, member_id, started_at) "
        "SELECT org_id, id, created_at FROM members WHERE status = 'active'"
    )

    with op.batch_alter_table("orgs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("plan_id", sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column("suspended_reason", sa.String(length=300), nullable=True))

    with op.batch_alter_table("pool_keys", schema=None) as batch_op:
        batch_op.add_column(sa.Column("rpm_limit", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("tpm_limit", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("pool_keys", schema=None) as batch_op:
        batch_op.drop_column("tpm_limit")
        batch_op.drop_column("rpm_limit")

    with op.batch_alter_table("orgs", schema=None) as batch_op:
        batch_op.drop_column("suspended_reason")
        batch_op.drop_column("plan_id")

    with op.batch_alter_table("seat_periods", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_seat_periods_org_id_started_at"))

    op.drop_table("seat_periods")
    op.drop_table("member_caps")
    op.drop_table("invoices")
    op.drop_table("plans")
