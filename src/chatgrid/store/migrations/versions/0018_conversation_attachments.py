"""Attachments in the composer: a conversation's private collection and its images

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "conversation_collections",
        sa.Column("conversation_id", sa.String(length=40), nullable=False),
        sa.Column("org_id", sa.String(length=40), nullable=False),
        sa.Column("collection_id", sa.String(length=40), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversations.id"],
            name=op.f("fk_conversation_collections_conversation_id_conversations"),
        ),
        sa.ForeignKeyConstraint(
            ["org_id"], ["orgs.id"], name=op.f("fk_conversation_collections_org_id_orgs")
        ),
        sa.PrimaryKeyConstraint("conversation_id", name=op.f("pk_conversation_collections")),
        sa.UniqueConstraint(
            "collection_id", name=op.f("uq_conversation_collections_collection_id")
        ),
    )
    op.create_table(
        "conversation_images",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("org_id", sa.String(length=40), nullable=False),
        sa.Column("conversation_id", sa.String(length=40), nullable=False),
        sa.Column("member_id", sa.String(length=40), nullable=False),
        sa.Column("message_id", sa.String(length=40), nullable=True),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("media_type", sa.String(length=40), nullable=False),
        sa.Column("size_bytes", sa.Integer(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["org_id"], ["orgs.id"], name=op.f("fk_conversation_images_org_id_orgs")
        ),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversations.id"],
            name=op.f("fk_conversation_images_conversation_id_conversations"),
        ),
        sa.ForeignKeyConstraint(
            ["member_id"], ["members.id"], name=op.f("fk_conversation_images_member_id_members")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_conversation_images")),
    )
    op.create_index(
        op.f("ix_conversation_images_org_id_conversation_id"),
        "conversation_images",
        ["org_id", "conversation_id"],
    )


def downgrade() -> None:
    op.drop_index(
        op.f("ix_conversation_images_org_id_conversation_id"), table_name="conversation_images"
    )
    op.drop_table("conversation_images")
    op.drop_table("conversation_collections")
