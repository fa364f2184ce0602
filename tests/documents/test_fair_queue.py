"""The ingestion queue takes turns between orgs, on every backend and across processes.

Issue 9: org A's member queued two slow files and org B's 32-byte document
waited 248 s behind both. The promise is that one org's uploads never delay
another org's document by more than one extraction per worker.
"""

from __future__ import annotations

import multiprocessing
import multiprocessing.synchronize
from pathlib import Path

import pytest

from chatgrid.context import AppContext
from chatgrid.documents.models import DocumentStatus
from chatgrid.identity.models import BillingMode, Role
from chatgrid.settings import Settings
from tests.support.deployment import make_settings

STALE = 3600


def _org_with_collection(context: AppContext, name: str) -> tuple[str, str, str]:
    org = context.orgs.create(name, BillingMode.BYOK)
    member = context.accounts.add_member_without_password(
        org.id, f"alice@{name}.example.com", Role.OWNER
    )
    collection = context.documents.create_collection(org.id, "Docs", member.id)
    return org.id, member.id, collection.id


def _upload(context: AppContext, org: tuple[str, str, str], name: str) -> str:
    org_id, member_id, collection_id = org
    document = context.documents.add_document(
        org_id, collection_id, member_id, name, "text/plain", b"words"
    )
    return document.id


def test_a_worker_that_finished_one_of_org_as_documents_takes_org_bs_next(
    context: AppContext,
) -> None:
    org_a = _org_with_collection(context, "alpha")
    org_b = _org_with_collection(context, "beta")
    a1 = _upload(context, org_a, "slow-1.txt")
    a2 = _upload(context, org_a, "slow-2.txt")
    b1 = _upload(context, org_b, "small.txt")  # queued last, behind both of A's

    first = context.documents.claim_next(STALE)
    assert first is not None and first.id == a1
    context.documents.mark_ready(org_a[0], a1)

    second = context.documents.claim_next(STALE)
    third = context.documents.claim_next(STALE)

    assert second is not None and second.id == b1  # B's turn: A was served last
    assert third is not None and third.id == a2
    assert context.documents.claim_next(STALE) is None


def test_an_org_with_a_document_being_read_yields_the_next_worker_to_another_org(
    context: AppContext,
) -> None:
    org_a = _org_with_collection(context, "alpha")
    org_b = _org_with_collection(context, "beta")
    a_docs = [_upload(context, org_a, f"a{n}.txt") for n in range(3)]
    b1 = _upload(context, org_b, "b.txt")

    first = context.documents.claim_next(STALE)
    second = context.documents.claim_next(STALE)  # the first is still being read

    assert first is not None and first.id == a_docs[0]
    assert second is not None and second.id == b1
    claimed = context.documents.document(org_b[0], b1)
    assert claimed is not None and claimed.status == DocumentStatus.PROCESSING


def test_a_new_org_is_served_before_an_org_that_was_served_and_still_has_a_backlog(
    context: AppContext,
) -> None:
    org_a = _org_with_collection(context, "alpha")
    org_b = _org_with_collection(context, "beta")
    org_c = _org_with_collection(context, "gamma")
    for n in range(4):
        _upload(context, org_a, f"a{n}.txt")
    for n in range(2):
        _upload(context, org_b, f"b{n}.txt")
    c1 = _upload(context, org_c, "c.txt")

    order: list[str] = []
    while (document := context.documents.claim_next(STALE)) is not None:
        order.append(document.org_id)
        context.documents.mark_ready(document.org_id, document.id)

    a, b, c = org_a[0], org_b[0], org_c[0]
    assert order == [a, b, c, a, b, a, a]
    assert context.documents.document(c, c1) is not None


def _claim_one(
    settings: Settings,
    ready: multiprocessing.synchronize.Barrier,
    claims: multiprocessing.Queue[str | None],
) -> None:
    context = AppContext.open(settings)
    try:
        ready.wait(timeout=60)
        document = context.documents.claim_next(STALE)
        claims.put(None if document is None else document.org_id)
    finally:
        context.close()


@pytest.mark.child_processes
def test_workers_in_several_processes_claiming_at_once_take_turns_between_orgs(
    context: AppContext, tmp_path: Path, postgres_database: str | None
) -> None:
    org_a = _org_with_collection(context, "alpha")
    org_b = _org_with_collection(context, "beta")
    for n in range(6):
        _upload(context, org_a, f"a{n}.txt")
    _upload(context, org_b, "b.txt")
    settings = make_settings(tmp_path / "data", postgres_database)
    spawn = multiprocessing.get_context("spawn")
    ready = spawn.Barrier(3)
    claims: multiprocessing.Queue[str | None] = spawn.Queue()
    workers = [spawn.Process(target=_claim_one, args=(settings, ready, claims)) for _ in range(3)]
    for worker in workers:
        worker.start()
    taken = [claims.get(timeout=120) for _ in workers]
    for worker in workers:
        worker.join(timeout=30)
        assert worker.exitcode == 0

    # Three workers at once: B's one document is among the first three claims,
    # not behind A's six. Without one lock around choosing and claiming, all
    # three could choose from the same view and take A's.
    assert sorted(c for c in taken if c) == sorted([org_a[0], org_a[0], org_b[0]])
