"""The prompt library (personal and org-shared prompts)

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-03
"""

from collections.abc import Sequence

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Reserved: filled in by the change that adds these tables."""


def downgrade() -> None:
    """Reserved: filled in by the change that adds these tables."""
