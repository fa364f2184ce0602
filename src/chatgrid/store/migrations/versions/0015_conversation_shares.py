"""Shared conversation links and conversation titles

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-03
"""

from collections.abc import Sequence

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Reserved: filled in by the change that adds these tables."""


def downgrade() -> None:
    """Reserved: filled in by the change that adds these tables."""
