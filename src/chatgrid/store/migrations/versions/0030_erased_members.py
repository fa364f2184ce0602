"""An erased member keeps a row with no account behind it (members.user_id nullable)

Revision ID: 0030
Revises: 0029
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0030"
down_revision: str | None = "0029"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("members") as batch_op:
        batch_op.alter_column("user_id", existing_type=sa.String(length=40), nullable=True)


def downgrade() -> None:
    # Refused while erased members exist: their seats and ledger rows still point at them.
    with op.batch_alter_table("members") as batch_op:
        batch_op.alter_column("user_id", existing_type=sa.String(length=40), nullable=False)
