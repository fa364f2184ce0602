"""Prices carry cache-write rates: Anthropic's 5-minute and 1-hour prompt-cache writes

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0022"
down_revision: str | None = "0021"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Null: a write is charged as plain input (OpenAI), or for a Claude model derived
    # from its input price (ledger.pricing.with_anthropic_cache_rates).
    with op.batch_alter_table("prices") as batch:
        batch.add_column(sa.Column("cache_write_per_mtok", sa.BigInteger(), nullable=True))
        batch.add_column(sa.Column("cache_write_1h_per_mtok", sa.BigInteger(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("prices") as batch:
        batch.drop_column("cache_write_1h_per_mtok")
        batch.drop_column("cache_write_per_mtok")
