"""Prices carry cache-write rates and ledger rows their cache writes (Anthropic's prompt cache)

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
    with op.batch_alter_table("ledger_entries") as batch:
        for name in ("cache_write_tokens", "cache_write_1h_tokens"):
            batch.add_column(sa.Column(name, sa.Integer(), nullable=False, server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("ledger_entries") as batch:
        batch.drop_column("cache_write_1h_tokens")
        batch.drop_column("cache_write_tokens")
    with op.batch_alter_table("prices") as batch:
        batch.drop_column("cache_write_1h_per_mtok")
        batch.drop_column("cache_write_per_mtok")
