"""Storing a large document's chunks never holds the database's write lock for long.

On SQLite the ledger commits on the ``/v1`` event loop; one transaction
inserting a 20 MiB file's 37,000 chunks (and their full-text rows) made the
slowest ``/v1`` call take seconds. What is asserted is the shape, not a time:
no transaction inserts more than ``CHUNK_ROWS_PER_TRANSACTION`` chunks.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import event

from chatgrid.context import AppContext
from chatgrid.identity.models import BillingMode, Role
from chatgrid.store.document_ingest import CHUNK_ROWS_PER_TRANSACTION


@dataclass(frozen=True)
class Draft:
    ordinal: int
    text: str
    heading: str | None = None
    page: int | None = None


def test_a_large_documents_chunks_are_stored_in_short_transactions(context: AppContext) -> None:
    org = context.orgs.create("acme", BillingMode.BYOK)
    member = context.accounts.add_member_without_password(
        org.id, "alice@acme.example.com", Role.OWNER
    )
    collection = context.documents.create_collection(org.id, "Docs", None)
    document = context.documents.add_document(
        org.id, collection.id, member.id, "big.txt", "text/plain", b"x"
    )
    drafts = [Draft(n, f"passage {n} about the quarterly budget") for n in range(1_000)]
    context.documents.start_chunks(org.id, document.id, drafts[:300], None)  # an earlier try
    inserted_per_transaction: list[int] = []
    pending = [0]

    def count_rows(conn: Any, cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if statement.lstrip().upper().startswith("INSERT INTO CHUNKS "):
            many = (
                isinstance(parameters, list)
                and parameters
                and isinstance(parameters[0], (tuple, dict))
            )
            pending[0] += len(parameters) if many else 1

    def committed(conn: Any) -> None:
        inserted_per_transaction.append(pending[0])
        pending[0] = 0

    event.listen(context.engine, "after_cursor_execute", count_rows)
    event.listen(context.engine, "commit", committed)
    try:
        ids = context.documents.start_chunks(org.id, document.id, drafts, None)
    finally:
        event.remove(context.engine, "after_cursor_execute", count_rows)
        event.remove(context.engine, "commit", committed)

    assert len(ids) == 1_000
    assert sum(inserted_per_transaction) == 1_000
    assert max(inserted_per_transaction) <= CHUNK_ROWS_PER_TRANSACTION
    stored = context.documents.document(org.id, document.id)
    assert stored is not None and stored.chunks_total == 1_000
