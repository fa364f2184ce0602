"""Vector search over the embeddings of the collections in scope.

Chosen by measurement (``bench/retrieval.py``): exact cosine with numpy over
each collection's vectors, loaded once from the database and cached in
memory, beats an index inside the database at the sizes one org's
collections reach (100k chunks: one matrix-vector product of a few
milliseconds), is exact, and works the same on SQLite and PostgreSQL.

The cache is per collection and checked against ``collections.vectors_version``
on every search (one indexed query), which every write to that collection's
chunks bumps: a replica never serves vectors another replica has deleted.

pgvector would move the search into PostgreSQL; ``pgvector_available`` detects
it. The servers here do not have it, so no code path depends on it yet.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import numpy.typing as npt
from sqlalchemy import Engine, text
from threadpoolctl import ThreadpoolController

Matrix = npt.NDArray[np.float32]


class VectorSource(Protocol):
    """Where vectors come from (``DocumentRepository``), org-scoped like everything else."""

    def collection_versions(self, org_id: str, collection_ids: Sequence[str]) -> dict[str, int]: ...

    def collection_vectors(
        self, org_id: str, collection_id: str
    ) -> tuple[list[str], list[bytes]]: ...


class VectorIndex(Protocol):
    def search(
        self, org_id: str, collection_ids: Sequence[str], query_vector: bytes, limit: int
    ) -> list[str]:
        """Chunk ids, most similar first."""
        ...


def decode_vector(data: bytes) -> Matrix:
    """float32 little-endian bytes (what the embeddings API gives, packed) to an array."""
    return np.frombuffer(data, dtype="<f4").astype(np.float32, copy=False)


def encode_vector(values: Sequence[float] | Matrix) -> bytes:
    """The storage form of an embedding: float32 little-endian."""
    return np.asarray(values, dtype="<f4").tobytes()


def _normalized(matrix: Matrix) -> Matrix:
    norms = np.linalg.norm(matrix, axis=-1, keepdims=True)
    norms[norms == 0] = 1.0
    normalized: Matrix = (matrix / norms).astype(np.float32, copy=False)
    return normalized


@dataclass(frozen=True)
class _Entry:
    org_id: str
    version: int
    ids: list[str]
    matrix: Matrix  # rows L2-normalised, so a dot product is the cosine

    @property
    def nbytes(self) -> int:
        return int(self.matrix.nbytes) + 64 * len(self.ids)


def _load(org_id: str, version: int, ids: list[str], raw: list[bytes]) -> _Entry:
    if not raw:
        return _Entry(org_id, version, [], np.zeros((0, 0), dtype=np.float32))
    # A changed embedding size leaves old vectors behind until re-ingested;
    # they cannot be compared with new queries, so only the commonest size counts.
    sizes: dict[int, int] = {}
    for vector in raw:
        sizes[len(vector)] = sizes.get(len(vector), 0) + 1
    size = max(sizes, key=lambda s: sizes[s])
    keep = [i for i, vector in enumerate(raw) if len(vector) == size]
    if len(keep) != len(raw):
        ids = [ids[i] for i in keep]
        raw = [raw[i] for i in keep]
    matrix = np.frombuffer(b"".join(raw), dtype="<f4").reshape(len(raw), size // 4)
    return _Entry(org_id, version, ids, _normalized(matrix.astype(np.float32)))


class NumpyVectorIndex:
    """Exact cosine search with an in-memory, version-checked cache per collection."""

    def __init__(self, source: VectorSource, max_cached_bytes: int = 512 * 1024 * 1024) -> None:
        self.source = source
        self.max_cached_bytes = max_cached_bytes
        self._cache: OrderedDict[str, _Entry] = OrderedDict()
        self._lock = threading.Lock()
        self.loads = 0  # how many times vectors were read from the database
        # One BLAS thread per search: the product is memory-bound, and OpenBLAS
        # threads spinning beside the server's other work made it slower and
        # jumpier (100k x 256 measured here: p50 6.8 -> 3.9 ms, p95 26 -> 5.7 ms).
        self._blas = ThreadpoolController()

    def search(
        self, org_id: str, collection_ids: Sequence[str], query_vector: bytes, limit: int
    ) -> list[str]:
        query = decode_vector(query_vector)
        if query.size == 0 or limit <= 0:
            return []
        query = _normalized(query)
        versions = self.source.collection_versions(org_id, collection_ids)
        scored: list[tuple[float, int, str]] = []
        for collection_id, version in versions.items():
            entry = self._entry(org_id, collection_id, version)
            if not entry.ids or entry.matrix.shape[1] != query.shape[0]:
                continue
            with self._blas.limit(limits=1, user_api="blas"):
                scores = entry.matrix @ query
            take = min(limit, len(entry.ids))
            best = np.argpartition(-scores, take - 1)[:take]
            scored.extend((float(scores[i]), int(i), entry.ids[i]) for i in best)
        scored.sort(key=lambda item: (-item[0], item[2]))
        return [chunk_id for _, _, chunk_id in scored[:limit]]

    def forget(self, collection_id: str) -> None:
        with self._lock:
            self._cache.pop(collection_id, None)

    def _entry(self, org_id: str, collection_id: str, version: int) -> _Entry:
        with self._lock:
            entry = self._cache.get(collection_id)
            if entry is not None and entry.version == version and entry.org_id == org_id:
                self._cache.move_to_end(collection_id)
                return entry
        ids, raw = self.source.collection_vectors(org_id, collection_id)
        entry = _load(org_id, version, ids, raw)
        with self._lock:
            self.loads += 1
            self._cache[collection_id] = entry
            self._cache.move_to_end(collection_id)
            total = sum(e.nbytes for e in self._cache.values())
            while total > self.max_cached_bytes and len(self._cache) > 1:
                _, evicted = self._cache.popitem(last=False)
                total -= evicted.nbytes
        return entry


def pgvector_available(engine: Engine) -> bool:
    """Whether this PostgreSQL server could ``CREATE EXTENSION vector`` (always False on SQLite)."""
    if engine.dialect.name != "postgresql":
        return False
    with engine.connect() as conn:
        found = conn.execute(
            text("SELECT 1 FROM pg_available_extensions WHERE name = 'vector'")
        ).first()
    return found is not None
