"""Retention periods, the sweep's lease, and deleting what is past its time in batches.

Each ``expired_…`` answers at most ``limit`` (id, moment) pairs, oldest
first; each ``delete_…`` removes one such batch in one short transaction
(taking everything derived with it), so a sweep never holds the database
long, and a batch is deleted whole or not at all.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Engine,
    RowMapping,
    and_,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError

from chatgrid.audit import Actor
from chatgrid.governance.erasure import Erasure
from chatgrid.governance.retention import RetentionPolicy
from chatgrid.store.audit import delete_entries as delete_audit_entries
from chatgrid.store.audit import write_receipt
from chatgrid.store.conversations import delete_conversations
from chatgrid.store.document_ingest import bump_vectors
from chatgrid.store.documents import delete_collections, delete_documents, delete_some_chunks
from chatgrid.store.ledger_writer import delete_entries as delete_ledger_entries
from chatgrid.store.tables import (
    audit_log,
    conversations,
    documents,
    job_leases,
    ledger_entries,
    retention_policies,
)
from chatgrid.store.types import utcnow

INSTANCE_SCOPE = "instance"

Expired = list[tuple[str, datetime]]


@dataclass
class ReceiptEntry:
    """One deletion receipt's audit entry, written (then brought up to date) in the
    transaction of each batch it covers: a batch deleted is a batch receipted, whatever
    happens to the sweep after it. ``entry_id`` is set once a batch has committed it."""

    org_id: str | None
    actor: Actor
    action: str
    target: str
    details: dict[str, Any] = field(default_factory=dict)
    entry_id: int | None = None


def _write_receipts(conn: Connection, receipts: Sequence[ReceiptEntry]) -> list[int]:
    return [
        write_receipt(conn, r.entry_id, r.org_id, r.actor, r.action, r.target, r.details)
        for r in receipts
    ]


def _committed(receipts: Sequence[ReceiptEntry], ids: list[int]) -> None:
    for receipt, entry_id in zip(receipts, ids, strict=True):
        receipt.entry_id = entry_id


class RetentionRepository:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    # --- periods -------------------------------------------------------------

    def policies(self) -> dict[str, RetentionPolicy]:
        """Every scope's periods: orgs by id, and ``instance``."""
        with self.engine.connect() as conn:
            rows = conn.execute(select(retention_policies)).mappings().all()
        return {row["scope"]: _policy(row) for row in rows}

    def policy(self, scope: str) -> RetentionPolicy | None:
        query = select(retention_policies).where(retention_policies.c.scope == scope)
        with self.engine.connect() as conn:
            row = conn.execute(query).mappings().first()
        return None if row is None else _policy(row)

    def put(self, scope: str, policy: RetentionPolicy, updated_by: str | None) -> None:
        values = {
            "conversations_days": policy.conversations_days,
            "documents_days": policy.documents_days,
            "audit_days": policy.audit_days,
            "ledger_days": policy.ledger_days,
            "updated_at": utcnow(),
            "updated_by": updated_by,
        }
        with self.engine.begin() as conn:
            changed = conn.execute(
                update(retention_policies)
                .where(retention_policies.c.scope == scope)
                .values(**values)
            ).rowcount
            if not changed:
                conn.execute(insert(retention_policies).values(scope=scope, **values))

    # --- the lease: one replica sweeps at a time ------------------------------

    def claim(self, name: str, holder: str, now: datetime, lease: timedelta) -> bool:
        """Hold the job until ``now + lease`` unless another holder's lease still runs."""
        until = now + lease
        try:
            with self.engine.begin() as conn:
                conn.execute(insert(job_leases).values(name=name, holder=holder, lease_until=until))
            return True
        except IntegrityError:
            pass  # the job has a row: take it over if its lease ran out (or is ours)
        j = job_leases.c
        with self.engine.begin() as conn:
            taken = conn.execute(
                update(job_leases)
                .where(j.name == name, or_(j.lease_until < now, j.holder == holder))
                .values(holder=holder, lease_until=until)
            ).rowcount
        return bool(taken)

    def release(self, name: str, holder: str, now: datetime) -> None:
        j = job_leases.c
        with self.engine.begin() as conn:
            conn.execute(
                update(job_leases)
                .where(j.name == name, j.holder == holder)
                .values(lease_until=now, finished_at=now)
            )

    # --- what is past its time, a batch at a time ------------------------------

    def expired_conversations(self, org_id: str, before: datetime, limit: int) -> Expired:
        """Conversations untouched since ``before`` (their last message, or rename)."""
        c = conversations.c
        return self._oldest(c.id, c.updated_at, c.org_id == org_id, before, limit)

    def delete_conversations(
        self, org_id: str, ids: Sequence[str], receipts: Sequence[ReceiptEntry]
    ) -> None:
        """With their messages, links, images and the documents attached to them."""
        with self.engine.begin() as conn:
            attached = delete_conversations(conn, org_id, ids)
            delete_collections(conn, org_id, attached)
            written = _write_receipts(conn, receipts)
        _committed(receipts, written)

    def expired_documents(self, org_id: str, before: datetime, limit: int) -> Expired:
        d = documents.c
        return self._oldest(d.id, d.created_at, d.org_id == org_id, before, limit)

    def delete_some_chunks(self, org_id: str, ids: Sequence[str], limit: int) -> int:
        """Up to ``limit`` chunks of these documents, in a transaction of their own (the
        documents follow with ``delete_documents``); how many went."""
        with self.engine.begin() as conn:
            return delete_some_chunks(conn, org_id, ids, limit)

    def delete_documents(
        self, org_id: str, ids: Sequence[str], receipts: Sequence[ReceiptEntry]
    ) -> None:
        """With their files, chunks, vectors and keyword rows; every replica's vector cache
        of their collections is told."""
        with self.engine.begin() as conn:
            touched = set(
                conn.execute(
                    select(documents.c.collection_id).where(
                        documents.c.org_id == org_id, documents.c.id.in_(ids)
                    )
                ).scalars()
            )
            delete_documents(conn, org_id, ids)
            for collection_id in sorted(touched):
                bump_vectors(conn, org_id, collection_id)
            written = _write_receipts(conn, receipts)
        _committed(receipts, written)

    def expired_audit(self, org_id: str | None, before: datetime, limit: int) -> Expired:
        """An org's entries, or the instance's own (``org_id`` None)."""
        a = audit_log.c
        owner = a.org_id.is_(None) if org_id is None else a.org_id == org_id
        return self._oldest(a.id, a.created_at, owner, before, limit)

    def delete_audit(self, ids: Sequence[str], receipts: Sequence[ReceiptEntry]) -> None:
        with self.engine.begin() as conn:
            delete_audit_entries(conn, [int(i) for i in ids])
            written = _write_receipts(conn, receipts)
        _committed(receipts, written)

    def expired_ledger(self, before: datetime, limit: int) -> list[tuple[str, str, datetime]]:
        """(org, id, start) of calls that started before ``before``, every org's."""
        e = ledger_entries.c
        query = (
            select(e.org_id, e.id, e.started_at)
            .where(e.started_at < before)
            .order_by(e.started_at, e.id)
            .limit(limit)
        )
        with self.engine.connect() as conn:
            return [(row[0], str(row[1]), row[2]) for row in conn.execute(query)]

    def delete_ledger(self, ids: Sequence[str], receipts: Sequence[ReceiptEntry]) -> None:
        with self.engine.begin() as conn:
            delete_ledger_entries(conn, [int(i) for i in ids])
            written = _write_receipts(conn, receipts)
        _committed(receipts, written)

    def _oldest(
        self,
        ident: ColumnElement[Any],
        moment: ColumnElement[datetime],
        owner: ColumnElement[bool],
        before: datetime,
        limit: int,
    ) -> Expired:
        """(id, moment) of the owner's rows older than ``before``, oldest first."""
        query = (
            select(ident, moment)
            .where(and_(owner, moment < before))
            .order_by(moment, ident)
            .limit(limit)
        )
        with self.engine.connect() as conn:
            return [(str(row[0]), row[1]) for row in conn.execute(query)]


def _policy(row: RowMapping) -> RetentionPolicy:
    return RetentionPolicy(
        conversations_days=row["conversations_days"],
        documents_days=row["documents_days"],
        audit_days=row["audit_days"],
        ledger_days=row["ledger_days"],
    )


def erase_retention_author(conn: Connection, erasure: Erasure) -> None:
    """The org's retention periods an erased member set name the alias as their setter."""
    r = retention_policies.c
    conn.execute(
        update(retention_policies)
        .where(r.scope == erasure.org_id, r.updated_by == erasure.email)
        .values(updated_by=erasure.alias_email)
    )
