"""Hybrid retrieval: keyword and vector rankings fused by reciprocal rank.

Reciprocal rank fusion (Cormack et al., 2009) needs no score calibration
between BM25 and cosine similarity, which live on unrelated scales: each
list contributes ``1 / (k + rank)`` per item, so agreement between the two
sides lifts a passage and a strong hit on either side still surfaces.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from chatgrid.documents.models import Passage, PassageRow
from chatgrid.documents.vectors import NumpyVectorIndex, VectorIndex, VectorSource

DEFAULT_RRF_K = 60
# How deep each side looks before fusion: deeper than the answer's limit so
# a passage ranked modestly by both sides can still win.
DEFAULT_CANDIDATES = 50


def rrf_fuse(rankings: list[list[str]], k: int = DEFAULT_RRF_K) -> list[tuple[str, float]]:
    """Ids with their fused score, best first; ties keep the order first seen.

    A ranking is a list of ids best first (rank 1 is index 0); an id repeated
    within one ranking counts at its best position only.
    """
    scores: dict[str, float] = {}
    for ranking in rankings:
        seen: set[str] = set()
        for position, item in enumerate(ranking, start=1):
            if item in seen:
                continue
            seen.add(item)
            scores[item] = scores.get(item, 0.0) + 1.0 / (k + position)
    order = {item: i for i, item in enumerate(scores)}
    return sorted(scores.items(), key=lambda pair: (-pair[1], order[pair[0]]))


class PassageSource(VectorSource, Protocol):
    """What retrieval needs from storage (``DocumentRepository`` provides it)."""

    def keyword_ranking(
        self, org_id: str, collection_ids: Sequence[str], query: str, limit: int
    ) -> list[str]: ...

    def passages(
        self, org_id: str, collection_ids: Sequence[str], chunk_ids: Sequence[str]
    ) -> dict[str, PassageRow]: ...


class Retriever:
    """Blocking search; call it from a thread in async code."""

    def __init__(
        self,
        repository: PassageSource,
        vectors: VectorIndex | None = None,
        candidates: int = DEFAULT_CANDIDATES,
        rrf_k: int = DEFAULT_RRF_K,
    ) -> None:
        self.repository = repository
        self.vectors: VectorIndex = vectors if vectors is not None else NumpyVectorIndex(repository)
        self.candidates = candidates
        self.rrf_k = rrf_k

    def search(
        self,
        org_id: str,
        collection_ids: list[str],
        query: str,
        query_vector: bytes | None,
        limit: int = 8,
    ) -> list[Passage]:
        """The best passages of these collections, only ever from ``org_id``'s own chunks.

        Callers pass the collections the member may see; every query below
        filters by org as well, so an id from another org finds nothing.
        """
        if not collection_ids or limit <= 0:
            return []
        depth = max(self.candidates, limit)
        keyword = self.repository.keyword_ranking(org_id, collection_ids, query, depth)
        vector = (
            self.vectors.search(org_id, collection_ids, query_vector, depth) if query_vector else []
        )
        fused = rrf_fuse([keyword, vector], k=self.rrf_k)
        keyword_rank = {cid: i for i, cid in enumerate(keyword, start=1)}
        vector_rank = {cid: i for i, cid in enumerate(vector, start=1)}
        wanted = [cid for cid, _ in fused[: limit * 2]]
        rows = self.repository.passages(org_id, collection_ids, wanted)
        passages: list[Passage] = []
        for chunk_id, score in fused:
            row = rows.get(chunk_id)
            if row is None:  # deleted since ranking, or not in scope
                continue
            passages.append(
                Passage(
                    chunk_id=row.chunk_id,
                    document_id=row.document_id,
                    filename=row.filename,
                    collection_id=row.collection_id,
                    heading=row.heading,
                    page=row.page,
                    text=row.text,
                    score=score,
                    keyword_rank=keyword_rank.get(chunk_id),
                    vector_rank=vector_rank.get(chunk_id),
                )
            )
            if len(passages) == limit:
                break
        return passages
