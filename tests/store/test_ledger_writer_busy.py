"""On SQLite the ledger's commit never makes ``/v1``'s event loop wait for another writer.

Another connection holds the database's one write lock (as a retention
sweep's batch, an ingestion write or a command line does). A call's ledger
entry waits for it off the loop: the loop goes on serving (here: the test's
own coroutine releases the lock, which it could not do if the loop were
stuck in SQLite's busy handler), and the entry is committed once the lock is
free, exactly once.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from chatgrid.context import AppContext
from chatgrid.identity.models import BillingMode, Role
from chatgrid.store.ledger_writer import LedgerWriter
from chatgrid.store.tables import ledger_entries
from tests.support.ledger_rows import entry

pytestmark = pytest.mark.sqlite_only


def rows(ctx: AppContext, org_id: str) -> int:
    with ctx.engine.connect() as conn:
        query = select(func.count()).where(ledger_entries.c.org_id == org_id)
        return int(conn.execute(query).scalar_one())


def test_a_held_write_lock_sends_the_commit_off_the_loop(context: AppContext) -> None:
    ctx = context
    org = ctx.orgs.create("Busy", BillingMode.SHARED)
    member = ctx.accounts.add_member_without_password(org.id, "a@busy.example", Role.OWNER)
    writer = LedgerWriter(ctx.engine)
    first, second = (entry(org.id, member.id, datetime.now(UTC), charged=5) for _ in range(2))

    async def scenario() -> tuple[bool, bool]:
        await writer.record(first)  # inline: the lock is free
        holder = ctx.engine.raw_connection()
        holder.execute("BEGIN IMMEDIATE")  # another writer takes the lock
        try:
            pending = asyncio.create_task(writer.record(second))
            for _ in range(20):  # the loop keeps turning while the entry waits
                await asyncio.sleep(0.01)
            waited = not pending.done()
        finally:
            holder.rollback()
            holder.close()
        await asyncio.wait_for(pending, timeout=30)
        return waited, pending.exception() is None

    try:
        waited, committed = asyncio.run(scenario())
    finally:
        writer.close()
    assert waited, "the entry should wait for the lock, not fail or pass it"
    assert committed and rows(ctx, org.id) == 2
