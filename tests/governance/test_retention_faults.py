"""A retention sweep cut off by the database in the middle of a batch: what it deleted has its
receipt, to the row and the digest, and the next sweep finishes the job with its own.

PostgreSQL ends the sweep's connection while its second batch waits on a
row lock (``pg_terminate_backend``, what a restart or a failover does to a
session): that batch rolls back with its receipt, the first one stays
deleted and receipted.
"""

from __future__ import annotations

import hashlib
import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select, text, update

from chatgrid.admin import retention
from chatgrid.audit import Actor
from chatgrid.context import AppContext
from chatgrid.governance.retention import DataKind
from chatgrid.identity.models import BillingMode, Role
from chatgrid.store.tables import audit_log, conversations

pytestmark = pytest.mark.postgresql_only

CONVERSATIONS = 450
BATCH = 200


def receipts(ctx: AppContext, org_id: str) -> list[dict[str, object]]:
    with ctx.engine.connect() as conn:
        rows = conn.execute(
            select(audit_log.c.details)
            .where(audit_log.c.org_id == org_id, audit_log.c.action == "retention.deleted")
            .order_by(audit_log.c.id)
        ).scalars()
        return [dict(row) for row in rows]


def left(ctx: AppContext, org_id: str) -> int:
    with ctx.engine.connect() as conn:
        query = select(func.count()).where(conversations.c.org_id == org_id)
        return int(conn.execute(query).scalar_one())


def digest(ids: list[str]) -> str:
    return hashlib.sha256("\n".join(ids).encode()).hexdigest()


def test_a_sweep_cut_off_mid_batch_leaves_an_exact_receipt(context: AppContext) -> None:
    ctx = context
    org = ctx.orgs.create("Cut off", BillingMode.BYOK)
    member = ctx.accounts.add_member_without_password(org.id, "a@cut.example", Role.OWNER)
    retention.set_org_retention(ctx, org.id, Actor.cli(), {DataKind.CONVERSATIONS: 30})
    ids = sorted(
        ctx.conversations.create(org.id, member.id, "old", None).id for _ in range(CONVERSATIONS)
    )
    aged = datetime.now(UTC) - timedelta(days=90)
    with ctx.engine.begin() as conn:
        conn.execute(
            update(conversations)
            .where(conversations.c.org_id == org.id)
            .values(created_at=aged, updated_at=aged)
        )

    # Another session holds a row of the second batch, so that batch waits on its lock.
    blocker = ctx.engine.connect()
    blocker.execute(
        select(conversations.c.id).where(conversations.c.id == ids[BATCH + 5]).with_for_update()
    )
    failed: list[BaseException] = []

    def run() -> None:
        try:
            retention.sweep(ctx, batch=BATCH)
        except BaseException as exc:  # the database ended the session: what the worker logs
            failed.append(exc)

    sweeper = threading.Thread(target=run)
    sweeper.start()
    try:
        waiting = wait_for_lock_waiter(ctx)
        with ctx.engine.connect() as admin:
            admin.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": waiting})
        sweeper.join(timeout=60)
    finally:
        blocker.rollback()
        blocker.close()
    assert not sweeper.is_alive() and failed, "the sweep should have lost its session"

    # The first batch went, with its receipt; the second rolled back, receipt and all.
    assert left(ctx, org.id) == CONVERSATIONS - BATCH
    [first] = receipts(ctx, org.id)
    assert first["rows"] == BATCH and first["digest"] == digest(ids[:BATCH])

    again = retention.sweep(ctx, batch=BATCH)

    assert again is not None and left(ctx, org.id) == 0
    done = receipts(ctx, org.id)
    assert [r["rows"] for r in done] == [BATCH, CONVERSATIONS - BATCH]
    assert done[1]["digest"] == digest(ids[BATCH:])


def wait_for_lock_waiter(ctx: AppContext) -> int:
    """The pid of the session waiting on a row lock in this database (the sweep's)."""
    query = text(
        "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
        "AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()"
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with ctx.engine.connect() as conn:
            found = conn.execute(query).scalars().first()
        if found is not None:
            return int(found)
        time.sleep(0.05)
    raise AssertionError("the sweep never waited on the locked row")
