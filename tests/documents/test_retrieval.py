"""Hybrid retrieval: fusion, keyword and vector sides, isolation, hostile queries."""

from __future__ import annotations

import zlib
from dataclasses import dataclass

import numpy as np
import pytest
from sqlalchemy import text

from chatgrid.context import AppContext
from chatgrid.documents.retrieval import Retriever, rrf_fuse
from chatgrid.documents.vectors import NumpyVectorIndex, encode_vector, pgvector_available
from chatgrid.identity.models import BillingMode, Role
from chatgrid.store.document_search import fts5_match_expression, keyword_terms

DIMS = 32


@dataclass(frozen=True)
class Draft:
    ordinal: int
    text: str
    heading: str | None = None
    page: int | None = None


def _seed(text: str) -> int:
    return zlib.crc32(text.encode())


def _unit(seed: int) -> np.ndarray:  # type: ignore[type-arg]
    vector = np.random.default_rng(seed).standard_normal(DIMS)
    return vector / np.linalg.norm(vector)


def _ingest(
    context: AppContext, org_id: str, member_id: str, collection_id: str, texts: list[str]
) -> list[str]:
    """A ready document whose chunk i has the embedding ``_unit(seed_base + i)``."""
    doc = context.documents.add_document(
        org_id, collection_id, member_id, "doc.txt", "text/plain", "\n".join(texts).encode()
    )
    ids = context.documents.start_chunks(
        org_id, doc.id, [Draft(i, t, "Section", 1) for i, t in enumerate(texts)], pages=1
    )
    context.documents.set_embeddings(
        org_id,
        doc.id,
        [(cid, encode_vector(_unit(_seed(t)))) for cid, t in zip(ids, texts, strict=True)],
    )
    context.documents.mark_ready(org_id, doc.id)
    return ids


@dataclass
class Org:
    id: str
    member: str
    collection: str


def _org(context: AppContext, name: str) -> Org:
    org = context.orgs.create(name, BillingMode.BYOK)
    member = context.accounts.add_member_without_password(
        org.id, f"owner@{name}.example.com", Role.OWNER
    )
    collection = context.documents.create_collection(org.id, "Handbook", None)
    return Org(org.id, member.id, collection.id)


FILLER = [
    "The office opens at nine and closes at six on weekdays.",
    "Expense reports are filed through the finance portal each month.",
    "Parking permits are issued by the facilities team on request.",
    "Security badges must be worn visibly inside the building.",
    "The cafeteria serves vegetarian options every day of the week.",
]


def test_rrf_scores_are_reciprocal_ranks_summed_over_lists() -> None:
    fused = rrf_fuse([["a", "b", "c"], ["c", "a", "d"]], k=60)
    scores = dict(fused)
    assert scores["a"] == pytest.approx(1 / 61 + 1 / 62)
    assert scores["c"] == pytest.approx(1 / 63 + 1 / 61)
    assert scores["b"] == pytest.approx(1 / 62)
    assert scores["d"] == pytest.approx(1 / 63)
    assert [item for item, _ in fused] == ["a", "c", "b", "d"]


def test_rrf_breaks_ties_by_first_appearance_and_ignores_repeats() -> None:
    assert [i for i, _ in rrf_fuse([["x", "y"], ["y", "x"]])] == ["x", "y"]
    assert rrf_fuse([["a", "a", "b"]], k=0) == [("a", 1.0), ("b", pytest.approx(1 / 3))]
    assert rrf_fuse([]) == []
    assert rrf_fuse([[], []]) == []


def test_query_terms_are_words_only_and_quoted_for_fts5() -> None:
    assert keyword_terms('What is the "refund" policy?') == ["refund", "policy"]
    assert keyword_terms("the of and") == ["the", "of", "and"]
    assert keyword_terms('NEAR(x b) * ") OR') == ["near", "x", "b"]
    assert keyword_terms("") == []
    assert len(keyword_terms(" ".join(f"w{i}" for i in range(100)))) == 32
    assert fts5_match_expression(["near", 'we"ird']) == '"near" OR "we""ird"'


def test_hybrid_search_finds_a_passage_by_keyword_and_by_meaning(context: AppContext) -> None:
    acme = _org(context, "acme")
    texts = [*FILLER, "Refunds for enterprise customers are approved by the platypus desk."]
    ids = _ingest(context, acme.id, acme.member, acme.collection, texts)
    retriever = Retriever(context.documents)

    by_keyword = retriever.search(acme.id, [acme.collection], "platypus desk", None, limit=3)
    assert by_keyword[0].chunk_id == ids[-1]
    assert by_keyword[0].keyword_rank == 1 and by_keyword[0].vector_rank is None
    assert by_keyword[0].filename == "doc.txt" and by_keyword[0].heading == "Section"
    assert by_keyword[0].page == 1 and "platypus" in by_keyword[0].text

    # No shared word, but the query's vector is the parking chunk's own.
    near_parking = encode_vector(_unit(_seed(FILLER[2])) + 0.05 * _unit(999))
    by_vector = retriever.search(acme.id, [acme.collection], "zzz", near_parking, limit=3)
    assert by_vector[0].chunk_id == ids[2]
    assert by_vector[0].vector_rank == 1 and by_vector[0].keyword_rank is None

    both = retriever.search(acme.id, [acme.collection], "parking permits", near_parking, limit=8)
    assert both[0].chunk_id == ids[2]
    assert both[0].keyword_rank == 1 and both[0].vector_rank == 1
    assert both[0].score == pytest.approx(2 / 61)
    assert [p.score for p in both] == sorted((p.score for p in both), reverse=True)
    assert len(both) == len(texts)  # every chunk has a vector, so every chunk is ranked


def test_only_embedded_chunks_count_on_the_vector_side(context: AppContext) -> None:
    acme = _org(context, "acme")
    doc = context.documents.add_document(
        acme.id, acme.collection, acme.member, "half.txt", "text/plain", b"x"
    )
    ids = context.documents.start_chunks(
        acme.id, doc.id, [Draft(0, "alpha"), Draft(1, "beta")], None
    )
    context.documents.set_embeddings(acme.id, doc.id, [(ids[0], encode_vector(_unit(1)))])
    found = Retriever(context.documents).search(
        acme.id, [acme.collection], "", encode_vector(_unit(2)), limit=5
    )
    assert [p.chunk_id for p in found] == [ids[0]]


def test_another_orgs_collection_ids_find_nothing(context: AppContext) -> None:
    acme = _org(context, "acme")
    rival = _org(context, "rival")
    canary = "The canary sentence is aurora-quokka-7731."
    acme_ids = _ingest(context, acme.id, acme.member, acme.collection, [*FILLER, canary])
    _ingest(context, rival.id, rival.member, rival.collection, FILLER)
    retriever = Retriever(context.documents)
    canary_vector = encode_vector(_unit(_seed(canary)))

    found = retriever.search(acme.id, [acme.collection], "aurora quokka", canary_vector)
    assert found[0].chunk_id == acme_ids[-1]

    for scope in ([acme.collection], [acme.collection, rival.collection]):
        stolen = retriever.search(rival.id, scope, "aurora quokka 7731", canary_vector, limit=50)
        assert all(p.chunk_id not in acme_ids for p in stolen)
        assert all("quokka" not in p.text for p in stolen)
    assert retriever.search(rival.id, [acme.collection], "canary", canary_vector) == []
    assert context.documents.keyword_ranking(rival.id, [acme.collection], "quokka", 10) == []
    assert context.documents.passages(rival.id, [acme.collection], acme_ids) == {}
    assert context.documents.chunk(rival.id, acme_ids[-1]) is None
    # The rival's own collection still works for the rival.
    own = retriever.search(rival.id, [rival.collection], "parking permits", None)
    assert own and own[0].collection_id == rival.collection


def test_a_vector_cache_follows_deletions_and_new_embeddings(context: AppContext) -> None:
    acme = _org(context, "acme")
    index = NumpyVectorIndex(context.documents)
    retriever = Retriever(context.documents, index)
    ids = _ingest(context, acme.id, acme.member, acme.collection, FILLER)
    query = encode_vector(_unit(_seed(FILLER[0])))
    assert retriever.search(acme.id, [acme.collection], "", query)[0].chunk_id == ids[0]
    retriever.search(acme.id, [acme.collection], "", query)
    assert index.loads == 1  # the second search used the cache

    doc_id = context.documents.chunk(acme.id, ids[0]).document_id  # type: ignore[union-attr]
    context.documents.delete_document(acme.id, doc_id)
    assert retriever.search(acme.id, [acme.collection], "", query) == []
    assert index.loads == 2

    new_ids = _ingest(context, acme.id, acme.member, acme.collection, FILLER[:1])
    assert retriever.search(acme.id, [acme.collection], "", query)[0].chunk_id == new_ids[0]


HOSTILE = [
    '"',
    '""',
    "'",
    "NEAR(a b, 2)",
    "a NEAR b",
    "*",
    "pre*",
    "^start",
    "(((",
    ")))",
    "a AND OR NOT b",
    "col:value",
    "text:hello",
    "-minus +plus",
    "a & b | !c",
    "<-> <2> :*",
    "'; DROP TABLE chunks; --",
    "\x00nul",
    "emoji 🦜 ünïcödé 日本語 עברית",
    "\u202eright-to-left",
    "a" * 5000,
    " ".join(["word"] * 500),
    "{braces} [brackets] $dollar @at #hash %percent",
    "",
    "   ",
]


@pytest.mark.parametrize("query", HOSTILE)
def test_no_query_text_breaks_keyword_search(context: AppContext, query: str) -> None:
    acme = _org(context, "acme")
    _ingest(context, acme.id, acme.member, acme.collection, [*FILLER, "NEAR the café 🦜 日本語"])
    found = Retriever(context.documents).search(acme.id, [acme.collection], query, None)
    assert all(p.collection_id == acme.collection for p in found)


def test_unicode_words_are_found(context: AppContext) -> None:
    acme = _org(context, "acme")
    ids = _ingest(context, acme.id, acme.member, acme.collection, [*FILLER, "Überweisung 日本語"])
    found = Retriever(context.documents).search(acme.id, [acme.collection], "überweisung", None)
    assert [p.chunk_id for p in found] == [ids[-1]]


def test_an_empty_scope_searches_nothing(context: AppContext) -> None:
    acme = _org(context, "acme")
    _ingest(context, acme.id, acme.member, acme.collection, FILLER)
    assert Retriever(context.documents).search(acme.id, [], "office", None) == []


def test_pgvector_is_detected_only_where_the_server_offers_it(context: AppContext) -> None:
    expected = False
    if context.engine.dialect.name == "postgresql":
        with context.engine.connect() as conn:
            offered = conn.execute(
                text("SELECT count(*) FROM pg_available_extensions WHERE name = 'vector'")
            ).scalar_one()
        expected = offered > 0
    assert pgvector_available(context.engine) is expected
