"""Unit prices (per image, audio minute, 1M characters) are dated rows like token prices

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0023"
down_revision: str | None = "0022"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Seeded from ledger.units.DEFAULT_UNIT_PRICES when token prices are (store.prices).
    op.create_table(
        "unit_prices",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("model", sa.String(length=100), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("variant", sa.String(length=32), nullable=False),
        sa.Column("effective_from", sa.Date(), nullable=False),
        sa.Column("micros", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_unit_prices")),
        sa.UniqueConstraint(
            "model",
            "variant",
            "effective_from",
            name=op.f("uq_unit_prices_model_variant_effective_from"),
        ),
    )


def downgrade() -> None:
    op.drop_table("unit_prices")
