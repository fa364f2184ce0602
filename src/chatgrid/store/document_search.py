"""The SQL behind retrieval: full-text ranking per backend, vectors, passages.

User queries are untrusted. They never reach a query parser as syntax: they
are split into word terms in Python and each term is bound as a parameter —
quoted as an FTS5 string on SQLite, wrapped in ``plainto_tsquery`` on
PostgreSQL — and terms are ORed, because a question's words rarely all appear
in the passage that answers it (BM25 / ``ts_rank_cd`` rewards the ones that do).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import Connection, bindparam, select, text

from chatgrid.documents.models import PassageRow
from chatgrid.store.document_sealing import words
from chatgrid.store.tables import chunks, collections

MAX_TERMS = 32

# Function words that match nearly every passage: ranking them costs time on
# large collections and adds nothing to relevance. Only the query is filtered;
# the index keeps every word, so a query made only of these still works.
_STOPWORD_TEXT = (
    "a an and are as at be but by can do does for from had has have how i if in into is it "
    "its me my no not of on or our so than that the their them then there these they this "
    "to us was we were what when where which who why will with you your"
)
_STOPWORDS = frozenset(_STOPWORD_TEXT.split())


def keyword_terms(query: str) -> list[str]:
    """Distinct word terms of a query (as the index saw its words), stopwords dropped when
    others remain."""
    terms = list(dict.fromkeys(words(query)))
    content = [t for t in terms if t not in _STOPWORDS]
    return (content or terms)[:MAX_TERMS]


def fts5_match_expression(terms: Sequence[str]) -> str:
    """An FTS5 query that can only mean "any of these strings": each term a quoted string."""
    return " OR ".join('"' + term.replace('"', '""') + '"' for term in terms)


def keyword_ranking(
    conn: Connection, org_id: str, collection_ids: Sequence[str], terms: Sequence[str], limit: int
) -> list[str]:
    """Chunk ids best first for any of ``terms`` (what the index holds: see
    ``document_sealing.DocumentSealing.match_terms``)."""
    if not terms or not collection_ids or limit <= 0:
        return []
    params: dict[str, object] = {
        "org_id": org_id,
        "collection_ids": list(collection_ids),
        "limit": limit,
    }
    if conn.dialect.name == "sqlite":
        statement = text(
            "SELECT c.id FROM chunks_fts JOIN chunks c ON c.seq = chunks_fts.rowid "
            "WHERE chunks_fts MATCH :match AND c.org_id = :org_id "
            "AND c.collection_id IN :collection_ids "
            "ORDER BY bm25(chunks_fts), c.seq LIMIT :limit"
        )
        params["match"] = fts5_match_expression(terms)
    else:
        tsquery = " || ".join(f"plainto_tsquery('simple', :t{i})" for i in range(len(terms)))
        statement = text(
            f"SELECT c.id FROM chunks c, (SELECT {tsquery} AS q) AS query "  # noqa: S608
            "WHERE c.tsv @@ query.q AND c.org_id = :org_id "
            "AND c.collection_id IN :collection_ids "
            "ORDER BY ts_rank_cd(c.tsv, query.q) DESC, c.seq LIMIT :limit"
        )
        params.update({f"t{i}": term for i, term in enumerate(terms)})
    statement = statement.bindparams(bindparam("collection_ids", expanding=True))
    return [str(row[0]) for row in conn.execute(statement, params)]


def collection_versions(
    conn: Connection, org_id: str, collection_ids: Sequence[str]
) -> dict[str, int]:
    """The vectors version of each of these collections that belongs to the org."""
    if not collection_ids:
        return {}
    query = select(collections.c.id, collections.c.vectors_version).where(
        collections.c.org_id == org_id, collections.c.id.in_(list(collection_ids))
    )
    return {str(cid): int(version) for cid, version in conn.execute(query)}


def collection_vectors(
    conn: Connection, org_id: str, collection_id: str
) -> tuple[list[str], list[bytes]]:
    """Every embedded chunk of one collection: ids and raw float32 vectors."""
    query = (
        select(chunks.c.id, chunks.c.embedding)
        .where(
            chunks.c.org_id == org_id,
            chunks.c.collection_id == collection_id,
            chunks.c.embedding.is_not(None),
        )
        .order_by(chunks.c.seq)
    )
    ids: list[str] = []
    vectors: list[bytes] = []
    for chunk_id, vector in conn.execute(query):
        ids.append(str(chunk_id))
        vectors.append(bytes(vector))
    return ids, vectors


def passage_rows(
    conn: Connection,
    org_id: str,
    collection_ids: Sequence[str],
    chunk_ids: Sequence[str],
    opened: Callable[[str, Any], tuple[str | None, str]],
) -> dict[str, PassageRow]:
    """The text and source of these chunks, only where they belong to the org and scope;
    ``opened`` reads a stored row's heading and text (``DocumentSealing.open_chunk``)."""
    if not chunk_ids or not collection_ids:
        return {}
    # Without statistics SQLite prefers the (org_id, collection_id) index and
    # walks the whole collection; a handful of ids is always the better start.
    hint = "INDEXED BY ix_chunks_id" if conn.dialect.name == "sqlite" else ""
    query = text(
        "SELECT c.id, c.document_id, d.filename, c.collection_id, c.heading, c.page, "  # noqa: S608
        "c.text, c.sealed "
        f"FROM chunks AS c {hint} JOIN documents AS d ON d.id = c.document_id "
        "WHERE c.org_id = :org_id AND d.org_id = :org_id "
        "AND c.collection_id IN :collection_ids AND c.id IN :chunk_ids"
    ).bindparams(
        bindparam("collection_ids", expanding=True), bindparam("chunk_ids", expanding=True)
    )
    params = {
        "org_id": org_id,
        "collection_ids": list(collection_ids),
        "chunk_ids": list(chunk_ids),
    }
    found: dict[str, PassageRow] = {}
    for row in conn.execute(query, params).mappings():
        heading, body = opened(str(row["id"]), row)
        found[str(row["id"])] = PassageRow(
            chunk_id=str(row["id"]),
            document_id=str(row["document_id"]),
            filename=str(row["filename"]),
            collection_id=str(row["collection_id"]),
            heading=heading,
            page=row["page"],
            text=body,
        )
    return found
