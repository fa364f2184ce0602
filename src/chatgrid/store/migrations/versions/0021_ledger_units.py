"""Ledger rows count non-token units: images, audio milliseconds, characters

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0021"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("ledger_entries") as batch:
        batch.add_column(sa.Column("units_kind", sa.String(length=16), nullable=True))
        batch.add_column(sa.Column("units", sa.BigInteger(), nullable=True))
        batch.add_column(sa.Column("units_variant", sa.String(length=32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("ledger_entries") as batch:
        batch.drop_column("units_variant")
        batch.drop_column("units")
        batch.drop_column("units_kind")
