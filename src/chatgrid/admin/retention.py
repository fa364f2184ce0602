"""Setting retention periods, and the sweep that deletes what is past them.

The sweep runs in every server (``RetentionWorker``, every few minutes) and
from ``chatgrid retention sweep``; a lease in the database makes one process
sweep at a time, so two replicas never do the work twice. It deletes in
batches of ``BATCH`` rows, one short transaction each (a conversation with
its messages, links, images and attached documents; a document with its
file, chunks, vectors and keyword rows), and writes one deletion receipt per
org and kind to the audit log (``retention.deleted``). Invoices are
snapshots and are never touched; the ledger goes only past the operator's
legal period.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any, TypeVar

from chatgrid.audit import Actor
from chatgrid.context import AppContext
from chatgrid.errors import InvalidRequest
from chatgrid.governance.retention import (
    FOREVER_POLICY,
    ORG_KINDS,
    DataKind,
    Receipt,
    RetentionPolicy,
    Tally,
    cutoff,
    effective,
    parse_days,
)
from chatgrid.store.retention import (
    INSTANCE_SCOPE,
    Expired,
    ReceiptEntry,
    RetentionRepository,
)
from chatgrid.store.types import utcnow

T = TypeVar("T")

SWEEP_JOB = "retention"
#: How long one sweep may hold the job before another process may take it over.
LEASE = timedelta(minutes=10)
#: Rows per transaction: small enough that a call's own write waits on one for milliseconds.
BATCH = 50
#: Documents per transaction are fewer: each takes its file with it.
DOCUMENTS_PER_BATCH_SHARE = 20
#: Chunks deleted per transaction ahead of their documents (a 20 MiB file has ~37,000).
CHUNK_SLICE = 1_000
#: After each transaction the sweep rests this many times as long as it took, so it holds
#: the database's write lock (SQLite has one, and the ledger's commit on ``/v1``'s path
#: waits for it) at most a fifth of the time (``bench/retention.py`` measures it).
REST_RATIO = 4
MAX_REST_SECONDS = 1.0
#: The lease is renewed once this old (renewing is a write too); it runs for ``LEASE``.
RENEW_AFTER_SECONDS = 60.0
SWEEPER = Actor(user_id=None, email="retention", client_addr=None, user_agent="chatgrid-sweep")


def retention(ctx: AppContext) -> RetentionRepository:
    return RetentionRepository(ctx.engine)


def set_org_retention(
    ctx: AppContext, org_ref: str, actor: Actor, periods: dict[DataKind, str | int | None]
) -> dict[str, Any]:
    """Change an org's periods (the kinds named; the others stay); "forever" is allowed."""
    org = ctx.orgs.get(org_ref)
    if DataKind.LEDGER in periods:
        raise InvalidRequest(
            "the ledger's period is the operator's (chatgrid retention set-instance)",
            param="ledger",
        )
    store = retention(ctx)
    policy = _changed(store.policy(org.id) or FOREVER_POLICY, periods)
    store.put(org.id, policy, actor.email)
    ctx.audit.record(org.id, actor, "retention.set", org.id, policy.public())
    return show_retention(ctx, org.id)


def set_instance_retention(
    ctx: AppContext, actor: Actor, periods: dict[DataKind, str | int | None]
) -> dict[str, Any]:
    """The operator's ceiling on every org's periods, and the ledger's legal period."""
    store = retention(ctx)
    policy = _changed(store.policy(INSTANCE_SCOPE) or FOREVER_POLICY, periods)
    store.put(INSTANCE_SCOPE, policy, actor.email)
    ctx.audit.record(None, actor, "retention.set", INSTANCE_SCOPE, policy.public())
    return show_retention(ctx, None)


def _changed(policy: RetentionPolicy, periods: dict[DataKind, str | int | None]) -> RetentionPolicy:
    for kind, value in periods.items():
        policy = policy.with_days(kind, parse_days(value, kind))
    return policy


def show_retention(ctx: AppContext, org_ref: str | None) -> dict[str, Any]:
    """The instance's periods, and an org's own and what it keeps under the ceiling."""
    store = retention(ctx)
    instance = store.policy(INSTANCE_SCOPE) or FOREVER_POLICY
    shown: dict[str, Any] = {"instance": instance.public()}
    if org_ref is not None:
        org = ctx.orgs.get(org_ref)
        own = store.policy(org.id) or FOREVER_POLICY
        shown |= {
            "org_id": org.id,
            "org": {k: v for k, v in own.public().items() if k != DataKind.LEDGER},
            "effective": effective(own, instance).public(),
        }
    return shown


def sweep(
    ctx: AppContext,
    now: datetime | None = None,
    *,
    holder: str | None = None,
    batch: int = BATCH,
    stopping: Callable[[], bool] = lambda: False,
) -> list[Receipt] | None:
    """Delete everything past its time; the receipts written (None: another process sweeps).

    Each kind's receipt is one audit entry, written in the transaction of the
    kind's first batch and brought up to date in each batch after it: a sweep
    cut short (``stopping``, a lost lease, a crash, the database gone) leaves a
    receipt for exactly what it deleted, and the next sweep goes on where it
    stopped with receipts of its own.
    """
    moment = now or utcnow()
    store = retention(ctx)
    me = holder or f"swp_{secrets.token_hex(8)}"
    if not store.claim(SWEEP_JOB, me, moment, LEASE):
        return None
    receipts: list[Receipt] = []

    renewed = time.monotonic()

    def still_mine() -> bool:
        nonlocal renewed
        if stopping():
            return False
        if time.monotonic() - renewed < RENEW_AFTER_SECONDS:
            return True
        renewed = time.monotonic()
        return store.claim(SWEEP_JOB, me, utcnow(), LEASE)

    try:
        policies = store.policies()
        instance = policies.get(INSTANCE_SCOPE, FOREVER_POLICY)
        for org in ctx.orgs.list():
            kept = effective(policies.get(org.id, FOREVER_POLICY), instance)
            for kind in ORG_KINDS:
                before = cutoff(moment, kept.days(kind))
                if before is not None:
                    receipts += _sweep_kind(store, org.id, kind, before, batch, still_mine)
        before = cutoff(moment, instance.audit_days)
        if before is not None:  # the instance's own entries (the operator's actions)
            receipts += _sweep_kind(store, None, DataKind.AUDIT, before, batch, still_mine)
        before = cutoff(moment, instance.ledger_days)
        if before is not None:
            receipts += _sweep_ledger(store, before, batch, still_mine)
    finally:
        store.release(SWEEP_JOB, me, utcnow())
    return receipts


def _paced(work: Callable[..., T], *args: Any) -> T:
    """``work(*args)`` (one transaction), then a rest in proportion to it (``REST_RATIO``)."""
    started = time.monotonic()
    done = work(*args)
    time.sleep(min((time.monotonic() - started) * REST_RATIO, MAX_REST_SECONDS))
    return done


def _entry(tally: Tally) -> ReceiptEntry:
    """The audit entry a tally's receipt is written to, batch by batch."""
    target = tally.org_id or INSTANCE_SCOPE
    return ReceiptEntry(tally.org_id, SWEEPER, "retention.deleted", target)


def _up_to_date(entry: ReceiptEntry, tally: Tally) -> ReceiptEntry:
    found = tally.receipt()
    entry.details = {} if found is None else found.details()
    return entry


def _sweep_kind(
    store: RetentionRepository,
    org_id: str | None,
    kind: DataKind,
    before: datetime,
    batch: int,
    still_mine: Callable[[], bool],
) -> list[Receipt]:
    finders: dict[DataKind, Callable[[], Expired]] = {
        DataKind.CONVERSATIONS: lambda: store.expired_conversations(str(org_id), before, batch),
        DataKind.DOCUMENTS: lambda: store.expired_documents(
            str(org_id), before, max(1, batch // DOCUMENTS_PER_BATCH_SHARE)
        ),
        DataKind.AUDIT: lambda: store.expired_audit(org_id, before, batch),
    }
    deleters: dict[DataKind, Callable[[Sequence[str], Sequence[ReceiptEntry]], None]] = {
        DataKind.CONVERSATIONS: lambda ids, r: store.delete_conversations(str(org_id), ids, r),
        DataKind.DOCUMENTS: lambda ids, r: store.delete_documents(str(org_id), ids, r),
        DataKind.AUDIT: store.delete_audit,
    }
    tally = Tally(org_id, kind)
    entry = _entry(tally)
    while still_mine():
        expired = finders[kind]()
        if not expired:
            break
        ids = [ident for ident, _ in expired]
        if kind is DataKind.DOCUMENTS:
            while _paced(store.delete_some_chunks, str(org_id), ids, CHUNK_SLICE):
                pass
        after = tally.plus(expired)
        _paced(deleters[kind], ids, [_up_to_date(entry, after)])
        tally = after  # committed, with its receipt
    found = tally.receipt()
    return [] if found is None else [found]


def _sweep_ledger(
    store: RetentionRepository, before: datetime, batch: int, still_mine: Callable[[], bool]
) -> list[Receipt]:
    """The ledger past the legal period, every org's; one receipt per org."""
    tallies: dict[str, Tally] = {}
    entries: dict[str, ReceiptEntry] = {}
    while still_mine():
        expired = store.expired_ledger(before, batch)
        if not expired:
            break
        after = dict(tallies)
        for org_id in sorted({org for org, _, _ in expired}):
            found = [(ident, moment) for org, ident, moment in expired if org == org_id]
            after[org_id] = after.get(org_id, Tally(org_id, DataKind.LEDGER)).plus(found)
            entries.setdefault(org_id, _entry(after[org_id]))
        touched = {org for org, _, _ in expired}
        receipts = [_up_to_date(entries[org], after[org]) for org in sorted(touched)]
        _paced(store.delete_ledger, [ident for _, ident, _ in expired], receipts)
        tallies = after
    return [r for t in tallies.values() if (r := t.receipt()) is not None]
