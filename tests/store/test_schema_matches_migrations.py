"""The migrations build exactly the schema the code describes, on the backend of the run.

Every table, column and index in ``store/tables/`` must come from a migration,
and a migration may add nothing the code does not know, except the full-text
search structures each database keeps its own way (written in raw SQL by
migration 0005: SQLite's FTS5 tables, PostgreSQL's ``tsvector`` column).
"""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from chatgrid.context import AppContext
from chatgrid.store.tables import metadata


def _full_text_search(difference: Any) -> bool:
    text = repr(difference)
    return "chunks_fts" in text or "ix_chunks_tsv" in text or "'tsv'" in text


def test_the_migrations_and_the_tables_agree(context: AppContext) -> None:
    with context.engine.connect() as conn:
        differences = compare_metadata(MigrationContext.configure(conn), metadata)
    assert [d for d in differences if not _full_text_search(d)] == []
