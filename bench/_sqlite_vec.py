"""sqlite-vec as a comparison point for ``bench/retrieval.py`` (bench only, not the app).

The standard library's ``sqlite3`` here cannot load extensions, so this opens a
scratch database with ``pysqlite3`` (``pysqlite3-binary``) and loads
``sqlite_vec`` into it. Vectors go into a ``vec0`` virtual table with cosine
distance and the collection as a partition key; a search is the exact KNN query
``embedding MATCH ? AND k = ? AND collection_id = ?``.

``available()`` says why it cannot run (a missing package, or a driver that
cannot load extensions) instead of raising, so the bench runs without it.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any


def available() -> str | None:
    """None when sqlite-vec can be used here, else the reason it cannot."""
    try:
        connection = _connect(":memory:")
    except ImportError as exc:
        return f"not installed ({exc.name}); pip install pysqlite3-binary sqlite-vec"
    except Exception as exc:
        return f"cannot load: {type(exc).__name__}: {exc}"
    connection.close()
    return None


def versions() -> str:
    connection = _connect(":memory:")
    try:
        (sqlite_version, vec_version) = connection.execute(
            "SELECT sqlite_version(), vec_version()"
        ).fetchone()
    finally:
        connection.close()
    return f"sqlite-vec {vec_version} on SQLite {sqlite_version} (pysqlite3)"


def _connect(path: str) -> Any:
    import sqlite_vec
    from pysqlite3 import dbapi2

    connection = dbapi2.connect(path, isolation_level=None)
    connection.enable_load_extension(True)
    sqlite_vec.load(connection)
    connection.enable_load_extension(False)
    return connection


class SqliteVecIndex:
    """One ``vec0`` table in a scratch database file; exact cosine KNN."""

    def __init__(self, path: Path, dims: int) -> None:
        self.connection = _connect(str(path))
        self.connection.execute("PRAGMA journal_mode = WAL")
        self.connection.execute("PRAGMA synchronous = NORMAL")
        self.connection.execute(
            "CREATE VIRTUAL TABLE vec_chunks USING vec0("
            " chunk_id text primary key,"
            " collection_id text partition key,"
            f" embedding float[{dims}] distance_metric=cosine)"
        )
        self.count = 0

    def insert(self, collection_id: str, ids: Sequence[str], vectors: Sequence[bytes]) -> float:
        """Insert in one transaction; returns the seconds it took."""
        start = time.perf_counter()
        self.connection.execute("BEGIN")
        self.connection.executemany(
            "INSERT INTO vec_chunks(chunk_id, collection_id, embedding) VALUES (?, ?, ?)",
            [(chunk_id, collection_id, v) for chunk_id, v in zip(ids, vectors, strict=True)],
        )
        self.connection.execute("COMMIT")
        self.count += len(ids)
        return time.perf_counter() - start

    def search(self, collection_id: str, query_vector: bytes, limit: int) -> list[str]:
        rows = self.connection.execute(
            "SELECT chunk_id FROM vec_chunks"
            " WHERE embedding MATCH ? AND k = ? AND collection_id = ?"
            " ORDER BY distance",
            (query_vector, limit, collection_id),
        ).fetchall()
        return [row[0] for row in rows]

    def close(self) -> None:
        self.connection.close()
