"""Retention on both databases: what is past its period is gone from every table that held
it, a receipt says what went, and nothing else moves.

Three orgs keep 30 days of conversations, documents and audit entries (the
third has no periods of its own: the instance's ceiling applies). The old
org's data is from 90 days ago; the recent org's from today; the org that
keeps everything forever has old data too. After one sweep, every row of
the old org's conversations, messages, share links, images, attached
collections, documents, files, chunks (with their vectors) and keyword rows
is gone; the others are untouched; invoices and the ledger's sums are the
same; one receipt per kind is in the audit log, with no content in it.
"""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from sqlalchemy import Table, func, select, text, update

from chatgrid.admin import billing, retention
from chatgrid.admin.retention_worker import RetentionWorker
from chatgrid.audit import Actor
from chatgrid.billing.seats import Month
from chatgrid.context import AppContext
from chatgrid.documents.chunking import ChunkDraft
from chatgrid.documents.vectors import encode_vector
from chatgrid.errors import InvalidRequest
from chatgrid.governance.retention import DataKind
from chatgrid.identity.models import BillingMode, Role
from chatgrid.store.tables import (
    audit_log,
    chat_messages,
    chunks,
    collections,
    conversation_collections,
    conversation_images,
    conversation_shares,
    conversations,
    document_files,
    documents,
    invoices,
    ledger_entries,
)
from tests.support.usage_rows import entry, write

SECRET_WORDS = "the merger closes on friday"
OLD = timedelta(days=90)

#: Every table that holds an org's conversations or documents, and how its rows name the org.
ORG_TABLES: list[Table] = [
    conversations,
    chat_messages,
    conversation_shares,
    conversation_images,
    conversation_collections,
    documents,
    chunks,
]


def seed(ctx: AppContext, name: str, age: timedelta) -> tuple[str, str]:
    """An org with a shared conversation (image, attached document), a shared collection's
    document with chunks, vectors and keyword rows, audit entries and ledger rows, all
    ``age`` old."""
    org = ctx.orgs.create(name, BillingMode.BYOK)
    member = ctx.accounts.add_member_without_password(
        org.id, f"alice@{name}.example.com", Role.OWNER
    )
    conversation = ctx.conversations.create(org.id, member.id, "Plans", "gpt-4o-mini")
    ctx.conversations.append(conversation, "user", SECRET_WORDS, model=None, status="complete")
    ctx.conversations.append(conversation, "assistant", "Noted.", model="m", status="complete")
    ctx.shares.share(conversation)
    ctx.attachments.add_image(org.id, conversation.id, member.id, "a.png", "image/png", b"\x89P")
    attached = ctx.documents.create_collection(org.id, "Attached", member.id)
    ctx.attachments.link_collection(org.id, conversation.id, attached.id, None)
    shared = ctx.documents.create_collection(org.id, "Handbook", None)
    for collection in (attached, shared):
        doc = ctx.documents.add_document(
            org.id, collection.id, member.id, "a.md", "text/markdown", SECRET_WORDS.encode()
        )
        ids = ctx.documents.start_chunks(
            org.id, doc.id, [ChunkDraft(0, SECRET_WORDS, None, None)], pages=1
        )
        vector = encode_vector(np.ones(16, dtype=np.float32))
        ctx.documents.set_embeddings(org.id, doc.id, [(ids[0], vector)])
        ctx.documents.mark_ready(org.id, doc.id)
    ctx.audit.record(org.id, Actor.cli(), "member.added", member.email, {})
    moment = datetime.now(UTC) - age
    write(ctx, [entry(org.id, member.id, moment, list_cost=1_234) for _ in range(3)])
    with ctx.engine.begin() as conn:
        for table in (conversations, chat_messages, documents, audit_log):
            stamp = {"created_at": moment}
            if table is conversations:
                stamp["updated_at"] = moment
            conn.execute(update(table).where(table.c.org_id == org.id).values(**stamp))
    return org.id, member.id


def held(ctx: AppContext, org_id: str) -> dict[str, int]:
    """The org's rows in every table that held its conversations and documents."""
    counts: dict[str, int] = {}
    with ctx.engine.connect() as conn:
        for table in ORG_TABLES:
            query = select(func.count()).select_from(table).where(table.c.org_id == org_id)
            counts[table.name] = conn.execute(query).scalar_one()
        files = (
            select(func.count())
            .select_from(document_files)
            .join(documents, documents.c.id == document_files.c.document_id)
        )
        counts["document_files"] = conn.execute(
            files.where(documents.c.org_id == org_id)
        ).scalar_one()
        counts["vectors"] = conn.execute(
            select(func.count())
            .select_from(chunks)
            .where(chunks.c.org_id == org_id, chunks.c.embedding.is_not(None))
        ).scalar_one()
        month_ago = datetime.now(UTC) - timedelta(days=30)
        counts["audit_log (older than 30 days)"] = conn.execute(
            select(func.count())
            .select_from(audit_log)
            .where(audit_log.c.org_id == org_id, audit_log.c.created_at < month_ago)
        ).scalar_one()
        counts["collections attached to a conversation"] = conn.execute(
            select(func.count())
            .select_from(collections)
            .where(collections.c.org_id == org_id, collections.c.name == "Attached")
        ).scalar_one()
    return counts


def keyword_rows(ctx: AppContext) -> int:
    with ctx.engine.connect() as conn:
        if ctx.engine.dialect.name == "sqlite":
            return int(conn.execute(text("SELECT count(*) FROM chunks_fts_docsize")).scalar_one())
        return int(
            conn.execute(text("SELECT count(*) FROM chunks WHERE tsv IS NOT NULL")).scalar_one()
        )


def orphan_files(ctx: AppContext) -> int:
    with ctx.engine.connect() as conn:
        known = select(documents.c.id)
        return int(
            conn.execute(
                select(func.count())
                .select_from(document_files)
                .where(document_files.c.document_id.not_in(known))
            ).scalar_one()
        )


def money(ctx: AppContext) -> tuple[int, int, list[str]]:
    with ctx.engine.connect() as conn:
        rows, cost = conn.execute(
            select(func.count(), func.coalesce(func.sum(ledger_entries.c.list_cost_micros), 0))
        ).one()
        issued = [
            json.dumps(row._asdict(), default=str, sort_keys=True)
            for row in conn.execute(select(invoices).order_by(invoices.c.id))
        ]
    return int(rows), int(cost), issued


def test_a_sweep_deletes_every_row_past_its_period_and_writes_receipts(
    context: AppContext,
) -> None:
    ctx = context
    old_org, _ = seed(ctx, "old", OLD)
    recent_org, _ = seed(ctx, "recent", timedelta(0))
    forever_org, _ = seed(ctx, "forever", OLD)
    last_month = Month.of(Month.of(datetime.now(UTC)).start - timedelta(days=1))
    for org_id in (old_org, recent_org, forever_org):
        billing.issue_invoice(ctx, org_id, str(last_month), actor=Actor.cli())
    for org_id in (old_org, recent_org):
        retention.set_org_retention(
            ctx,
            org_id,
            Actor.cli(),
            {DataKind.CONVERSATIONS: 30, DataKind.DOCUMENTS: "30", DataKind.AUDIT: 30},
        )
    before = {org_id: held(ctx, org_id) for org_id in (old_org, recent_org, forever_org)}
    assert all(count > 0 for count in before[old_org].values()), before[old_org]
    keywords, money_before = keyword_rows(ctx), money(ctx)

    receipts = retention.sweep(ctx, batch=2)  # small batches: each kind takes several
    assert receipts is not None

    left = held(ctx, old_org)
    assert all(count == 0 for count in left.values()), str(left)
    with ctx.engine.connect() as conn:  # the shared collection stays, empty, for new uploads
        kept = conn.execute(select(collections.c.name).where(collections.c.org_id == old_org))
        assert kept.scalars().all() == ["Handbook"]
    assert held(ctx, recent_org) == before[recent_org]
    assert held(ctx, forever_org) == before[forever_org]
    # Two documents' keyword rows went with their chunks; no file outlived its document.
    assert keyword_rows(ctx) == keywords - before[old_org]["chunks"]
    assert orphan_files(ctx) == 0
    # The ledger and the invoices are money: untouched (the ledger's period is forever).
    assert money(ctx) == money_before

    found = {(r.org_id, r.kind): r for r in receipts}
    assert set(found) == {
        (old_org, DataKind.CONVERSATIONS),
        (old_org, DataKind.DOCUMENTS),
        (old_org, DataKind.AUDIT),
    }
    assert found[(old_org, DataKind.CONVERSATIONS)].rows == 1
    # The shared collection's document, and the one attached to the conversation: the
    # conversation took its attachment with it, so the documents' sweep found one.
    assert found[(old_org, DataKind.DOCUMENTS)].rows == 1
    assert (
        found[(old_org, DataKind.AUDIT)].rows == before[old_org]["audit_log (older than 30 days)"]
    )
    with ctx.engine.connect() as conn:
        written = conn.execute(
            select(audit_log.c.target, audit_log.c.details, audit_log.c.actor_email).where(
                audit_log.c.action == "retention.deleted"
            )
        ).all()
    assert len(written) == 3
    for target, details, actor in written:
        assert target == old_org and actor == "retention"
        assert set(details) == {"kind", "rows", "oldest", "newest", "digest"}
        assert len(details["digest"]) == 64
        assert SECRET_WORDS not in json.dumps(details)
        assert datetime.fromisoformat(details["newest"]) < datetime.now(UTC) - timedelta(days=30)

    # A second sweep finds nothing more, and writes no receipt.
    assert retention.sweep(ctx) == []


def test_the_instance_ceiling_binds_every_org_and_the_ledger_goes_only_past_its_period(
    context: AppContext,
) -> None:
    ctx = context
    org_id, member_id = seed(ctx, "ceiling", OLD)
    write(ctx, [entry(org_id, member_id, datetime.now(UTC) - timedelta(days=500))])
    retention.set_org_retention(ctx, org_id, Actor.cli(), {DataKind.CONVERSATIONS: "forever"})
    shown = retention.set_instance_retention(
        ctx, Actor.cli(), {DataKind.CONVERSATIONS: 60, DataKind.LEDGER: 400}
    )
    assert shown["instance"]["conversations"] == 60 and shown["instance"]["ledger"] == 400
    assert retention.show_retention(ctx, org_id)["effective"] == {
        "conversations": 60,  # forever, under a 60-day ceiling
        "documents": "forever",
        "audit": "forever",
        "ledger": 400,
    }
    rows_before, _, issued_before = money(ctx)

    receipts = retention.sweep(ctx)

    assert receipts is not None
    kinds = {(r.kind, r.rows) for r in receipts}
    assert kinds == {(DataKind.CONVERSATIONS, 1), (DataKind.LEDGER, 1)}
    assert held(ctx, org_id)["conversations"] == 0
    # Documents are kept forever here: only the one attached to the conversation went with it.
    assert held(ctx, org_id)["documents"] == 1
    rows_after, _, issued_after = money(ctx)
    assert rows_after == rows_before - 1 and issued_after == issued_before


def test_one_process_sweeps_at_a_time(context: AppContext) -> None:
    store = retention.retention(context)
    now = datetime.now(UTC)
    assert store.claim(retention.SWEEP_JOB, "replica-a", now, retention.LEASE)
    assert retention.sweep(context, holder="replica-b") is None  # a's lease runs
    later = now + retention.LEASE + timedelta(seconds=1)
    assert retention.sweep(context, later, holder="replica-b") == []  # a died: b takes over
    assert store.claim(retention.SWEEP_JOB, "replica-a", datetime.now(UTC), retention.LEASE)


@pytest.mark.parametrize(
    ("kind", "value"),
    [
        (DataKind.CONVERSATIONS, "0"),
        (DataKind.DOCUMENTS, "-3"),
        (DataKind.AUDIT, "36501"),
        (DataKind.AUDIT, "3.5"),
        (DataKind.AUDIT, "٣"),
        (DataKind.LEDGER, "365"),
    ],
)
def test_periods_are_whole_days_in_range_or_forever(
    context: AppContext, kind: DataKind, value: str
) -> None:
    with pytest.raises(InvalidRequest) as refused:
        retention.set_instance_retention(context, Actor.cli(), {kind: value})
    assert refused.value.param == kind.value


def test_an_org_cannot_set_the_ledger_period(context: AppContext) -> None:
    org = context.orgs.create("acme", BillingMode.BYOK)
    with pytest.raises(InvalidRequest) as refused:
        retention.set_org_retention(context, org.id, Actor.cli(), {DataKind.LEDGER: 400})
    assert refused.value.param == "ledger"


def test_a_sweep_told_to_stop_keeps_receipts_for_what_it_did(context: AppContext) -> None:
    ctx = context
    org_id, _ = seed(ctx, "stopped", OLD)
    for _ in range(3):
        ctx.audit.record(org_id, Actor.cli(), "member.added", "someone", {})
    with ctx.engine.begin() as conn:
        moment = datetime.now(UTC) - OLD
        conn.execute(
            update(audit_log).where(audit_log.c.org_id == org_id).values(created_at=moment)
        )
    retention.set_org_retention(ctx, org_id, Actor.cli(), {DataKind.AUDIT: 30})
    stops = iter([False])  # the first batch goes; then the server is stopping

    receipts = retention.sweep(ctx, batch=1, stopping=lambda: next(stops, True))

    assert receipts is not None and [(r.kind, r.rows) for r in receipts] == [(DataKind.AUDIT, 1)]
    rest = retention.sweep(ctx)  # the next sweep goes on where it stopped
    assert rest is not None and [(r.kind, r.rows) for r in rest] == [(DataKind.AUDIT, 3)]


def test_the_servers_worker_sweeps_and_stops_cleanly(context: AppContext) -> None:
    org_id, _ = seed(context, "worker", OLD)
    retention.set_org_retention(context, org_id, Actor.cli(), {DataKind.CONVERSATIONS: 30})

    async def run() -> None:
        worker = RetentionWorker(context, every=0.05)
        worker.start()
        for _ in range(600):  # up to 30 s on a loaded machine; milliseconds here
            if held(context, org_id)["conversations"] == 0:
                break
            await asyncio.sleep(0.05)
        await worker.close()

    asyncio.run(run())
    assert held(context, org_id)["conversations"] == 0
    with context.engine.connect() as conn:
        kinds = conn.execute(
            select(audit_log.c.details).where(audit_log.c.action == "retention.deleted")
        ).scalars()
        assert [d["kind"] for d in kinds] == ["conversations"]
