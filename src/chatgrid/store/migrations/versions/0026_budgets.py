"""Budgets per org, team and member (hard or soft); member caps become member budgets

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-04
"""

import secrets
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0026"
down_revision: str | None = "0025"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_CAPS = sa.table(
    "member_caps",
    sa.column("org_id", sa.String),
    sa.column("member_id", sa.String),
    sa.column("cap_micros", sa.BigInteger),
    sa.column("updated_at", sa.DateTime(timezone=True)),
)
_BUDGETS = sa.table(
    "budgets",
    sa.column("id", sa.String),
    sa.column("org_id", sa.String),
    sa.column("scope", sa.String),
    sa.column("subject_id", sa.String),
    sa.column("limit_micros", sa.BigInteger),
    sa.column("hard", sa.Boolean),
    sa.column("thresholds", sa.String),
    sa.column("updated_at", sa.DateTime(timezone=True)),
    sa.column("updated_by", sa.String),
)


def upgrade() -> None:
    op.create_table(
        "budgets",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("org_id", sa.String(length=40), nullable=False),
        sa.Column("scope", sa.String(length=8), nullable=False),
        sa.Column("subject_id", sa.String(length=40), nullable=False),
        sa.Column("limit_micros", sa.BigInteger(), nullable=False),
        sa.Column("hard", sa.Boolean(), nullable=False),
        sa.Column("thresholds", sa.String(length=64), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.String(length=320), nullable=True),
        sa.ForeignKeyConstraint(["org_id"], ["orgs.id"], name=op.f("fk_budgets_org_id_orgs")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_budgets")),
        sa.UniqueConstraint(
            "org_id", "scope", "subject_id", name=op.f("uq_budgets_org_id_scope_subject_id")
        ),
    )
    conn = op.get_bind()
    caps = conn.execute(sa.select(_CAPS)).mappings().all()
    if caps:
        conn.execute(
            _BUDGETS.insert(),
            [
                {
                    "id": f"budget_{secrets.token_hex(10)}",
                    "org_id": cap["org_id"],
                    "scope": "member",
                    "subject_id": cap["member_id"],
                    "limit_micros": cap["cap_micros"],
                    "hard": True,
                    "thresholds": "50,80,100",
                    "updated_at": cap["updated_at"],
                    "updated_by": None,
                }
                for cap in caps
            ],
        )
    op.drop_table("member_caps")


def downgrade() -> None:
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
    conn = op.get_bind()
    hard_members = sa.select(_BUDGETS).where(
        _BUDGETS.c.scope == "member", _BUDGETS.c.hard.is_(True)
    )
    rows = conn.execute(hard_members).mappings().all()
    if rows:
        conn.execute(
            _CAPS.insert(),
            [
                {
                    "org_id": r["org_id"],
                    "member_id": r["subject_id"],
                    "cap_micros": r["limit_micros"],
                    "updated_at": r["updated_at"],
                }
                for r in rows
            ],
        )
    op.drop_table("budgets")
