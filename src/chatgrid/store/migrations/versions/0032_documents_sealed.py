"""Documents encrypted at rest: each org's data key, sealed files, images and chunks, and a
keyword index over the words' keyed names

Revision ID: 0032
Revises: 0031
Create Date: 2026-12-04

Rows stored before this stay readable as they are (``document_files.sealed``
and ``conversation_images.sealed`` false, ``chunks.sealed`` null) until
``chatgrid vault seal-documents`` seals them. The keyword index now reads
``chunks.keywords``: the words' keyed names for a sealed chunk, the plain text
(copied here) for one not sealed yet.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0032"
down_revision: str | None = "0031"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_SQLITE_OLD_INDEX = [
    "DROP TRIGGER IF EXISTS chunks_fts_insert",
    "DROP TRIGGER IF EXISTS chunks_fts_delete",
    "DROP TRIGGER IF EXISTS chunks_fts_update",
    "DROP TABLE IF EXISTS chunks_fts",
]


def _sqlite_index(column: str) -> list[str]:
    """The FTS5 index over one column of ``chunks``, and the triggers that keep it in step
    (``column`` is one of this module's constants, never input)."""
    return [
        "CREATE VIRTUAL TABLE chunks_fts USING fts5("
        f"{column}, content='chunks', content_rowid='seq', "
        "tokenize='unicode61 remove_diacritics 2')",
        "CREATE TRIGGER chunks_fts_insert AFTER INSERT ON chunks BEGIN "  # noqa: S608
        f"INSERT INTO chunks_fts(rowid, {column}) VALUES (new.seq, new.{column}); END",
        "CREATE TRIGGER chunks_fts_delete AFTER DELETE ON chunks BEGIN "  # noqa: S608
        f"INSERT INTO chunks_fts(chunks_fts, rowid, {column}) "
        f"VALUES ('delete', old.seq, old.{column}); END",
        f"CREATE TRIGGER chunks_fts_update AFTER UPDATE OF {column} ON chunks BEGIN "  # noqa: S608
        f"INSERT INTO chunks_fts(chunks_fts, rowid, {column}) "
        f"VALUES ('delete', old.seq, old.{column}); "
        f"INSERT INTO chunks_fts(rowid, {column}) VALUES (new.seq, new.{column}); END",
        "INSERT INTO chunks_fts(chunks_fts) VALUES ('rebuild')",
    ]


def _postgres_index(column: str) -> list[str]:
    return [
        "DROP INDEX IF EXISTS ix_chunks_tsv",
        "ALTER TABLE chunks DROP COLUMN IF EXISTS tsv",
        "ALTER TABLE chunks ADD COLUMN tsv tsvector "
        f"GENERATED ALWAYS AS (to_tsvector('simple', {column})) STORED",
        "CREATE INDEX ix_chunks_tsv ON chunks USING gin (tsv)",
    ]


def upgrade() -> None:
    op.create_table(
        "org_data_keys",
        sa.Column("org_id", sa.String(length=40), nullable=False),
        sa.Column("wrapped_key", sa.LargeBinary(), nullable=False),
        sa.Column("master_key_version", sa.Integer(), nullable=False),
        sa.Column("nonce", sa.LargeBinary(), nullable=False),
        sa.Column("ciphertext", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["org_id"], ["orgs.id"], name=op.f("fk_org_data_keys_org_id_orgs")),
        sa.PrimaryKeyConstraint("org_id", name=op.f("pk_org_data_keys")),
    )
    for table in ("document_files", "conversation_images"):
        with op.batch_alter_table(table) as batch_op:
            batch_op.add_column(
                sa.Column("sealed", sa.Boolean(), server_default=sa.text("false"), nullable=False)
            )
    sqlite = op.get_bind().dialect.name == "sqlite"
    if sqlite:
        for statement in _SQLITE_OLD_INDEX:
            op.execute(statement)
    op.add_column("chunks", sa.Column("sealed", sa.LargeBinary(), nullable=True))
    op.add_column("chunks", sa.Column("keywords", sa.String(), server_default="", nullable=False))
    op.execute("UPDATE chunks SET keywords = text")
    for statement in _sqlite_index("keywords") if sqlite else _postgres_index("keywords"):
        op.execute(statement)


def downgrade() -> None:
    bind = op.get_bind()
    sealed = bind.execute(sa.text("SELECT count(*) FROM chunks WHERE sealed IS NOT NULL"))
    if sealed.scalar_one():
        raise RuntimeError("sealed chunks exist: their text is not in chunks.text any more")
    sqlite = bind.dialect.name == "sqlite"
    index = _sqlite_index("text") if sqlite else _postgres_index("text")
    for statement in _SQLITE_OLD_INDEX if sqlite else index[:2]:
        op.execute(statement)
    with op.batch_alter_table("chunks") as batch_op:
        batch_op.drop_column("keywords")
        batch_op.drop_column("sealed")
    for statement in index if sqlite else index[2:]:
        op.execute(statement)
    for table in ("document_files", "conversation_images"):
        with op.batch_alter_table(table) as batch_op:
            batch_op.drop_column("sealed")
    op.drop_table("org_data_keys")
