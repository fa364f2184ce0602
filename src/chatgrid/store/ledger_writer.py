"""Group commit of ledger entries: durable before the response completes.

Every entry a request hands in during one event-loop iteration goes into one
transaction, and each request waits for that commit before its last byte
goes out. A commit per row would cost each request a disk sync; a batch
shares one. The insert ignores a repeated ``call_id``, so recording the same
upstream call twice writes it once.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import time
from collections.abc import Callable, Sequence

from sqlalchemy import Connection, Engine, Insert, delete, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import OperationalError

from chatgrid.governance.erasure import Erasure
from chatgrid.ledger.entries import LedgerEntry
from chatgrid.store.tables import ledger_entries

log = logging.getLogger(__name__)

BatchHook = Callable[[int, float, bool, int], None]
"""Told of each batch: its entries, the commit's seconds, whether it committed, and the
entries waiting after it (``/metrics``' ledger queue and commit time)."""


class LedgerUnavailable(Exception):
    """The ledger could not be written; the call's result must not be delivered as settled."""


def idempotent_insert(dialect_name: str) -> Insert:
    if dialect_name == "postgresql":
        return postgresql.insert(ledger_entries).on_conflict_do_nothing(index_elements=["call_id"])
    if dialect_name == "sqlite":
        return sqlite.insert(ledger_entries).on_conflict_do_nothing(index_elements=["call_id"])
    raise ValueError(f"unsupported database dialect {dialect_name}")


def delete_entries(connection: Connection, ids: Sequence[int]) -> None:
    """Entries past the operator's legal period (``store.retention``), in the caller's
    transaction: the ledger's only deletion."""
    connection.execute(delete(ledger_entries).where(ledger_entries.c.id.in_(ids)))


def write_entries(connection: Connection, entries: list[LedgerEntry]) -> None:
    """Insert entries in one transaction (also used directly by tests and tools)."""
    statement = idempotent_insert(connection.dialect.name)
    with connection.begin():
        connection.execute(statement, [entry.as_row() for entry in entries])


class LedgerWriter:
    """Collects entries per loop iteration and commits them together.

    On SQLite the commit runs inline (it takes tens of microseconds with WAL
    and ``synchronous=NORMAL``) when the database's one write lock is free,
    and never waits for it there: a busy lock (a retention sweep's batch, an
    ingestion write, a command line) sends that batch, and the ones after it
    until it is written, to a worker thread that waits instead, so the loop
    serving ``/v1`` never stalls behind another writer. On PostgreSQL the
    commit always runs in a worker thread so the network round trip does not
    stall the loop, with one batch in flight at a time and the next one
    filling meanwhile.
    """

    def __init__(self, engine: Engine, on_batch: BatchHook | None = None) -> None:
        self._engine = engine
        self._on_batch = on_batch
        self._inline = engine.dialect.name == "sqlite"
        self._connection: Connection | None = None
        #: SQLite's connection for the worker thread, which may wait for the write lock.
        self._waiting_connection: Connection | None = None
        self._pending: list[tuple[LedgerEntry, asyncio.Future[None]]] = []
        self._scheduled = False
        self._in_flight: asyncio.Task[None] | None = None

    async def record(self, entry: LedgerEntry) -> None:
        """Return once the entry is committed; raise ``LedgerUnavailable`` if it cannot be."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[None] = loop.create_future()
        self._pending.append((entry, future))
        if not self._scheduled:
            self._scheduled = True
            loop.call_soon(self._flush_soon)
        await future

    def _flush_soon(self) -> None:
        self._scheduled = False
        if self._inline and self._in_flight is None:
            batch = self._take_batch()
            outcome = self._commit([entry for entry, _ in batch], self._conn, busy_is_ok=True)
            if not isinstance(outcome, _Busy):
                _resolve(batch, outcome)
                return
            self._pending[:0] = batch  # first in line for the thread that may wait
        if self._in_flight is None:
            self._in_flight = asyncio.get_running_loop().create_task(self._drain_in_thread())

    def _take_batch(self) -> list[tuple[LedgerEntry, asyncio.Future[None]]]:
        batch, self._pending = self._pending, []
        return batch

    async def _drain_in_thread(self) -> None:
        try:
            while self._pending:
                batch = self._take_batch()
                entries = [entry for entry, _ in batch]
                connect = self._waiting_conn if self._inline else self._conn
                error = await asyncio.to_thread(self._commit, entries, connect)
                assert not isinstance(error, _Busy), "the thread waits for the lock"
                _resolve(batch, error)
        finally:
            self._in_flight = None

    def _commit(
        self,
        entries: list[LedgerEntry],
        connect: Callable[[], Connection],
        *,
        busy_is_ok: bool = False,
    ) -> LedgerUnavailable | _Busy | None:
        """Write one batch; hand back the error for every waiter instead of raising (or
        ``_BUSY``, with ``busy_is_ok``, when SQLite's write lock is another's right now)."""
        started = time.perf_counter()
        try:
            write_entries(connect(), entries)
        except OperationalError as exc:
            if busy_is_ok and _is_busy(exc):
                return _BUSY  # nothing was written: the transaction rolled back
            return self._failed(entries, started, exc)
        except Exception as exc:
            return self._failed(entries, started, exc)
        self._told(entries, started, committed=True)
        return None

    def _failed(
        self, entries: list[LedgerEntry], started: float, exc: Exception
    ) -> LedgerUnavailable:
        log.error("ledger batch of %d entries failed", len(entries), exc_info=exc)
        self._reset_connection()
        error = LedgerUnavailable("usage could not be recorded")
        error.__cause__ = exc
        self._told(entries, started, committed=False)
        return error

    def _told(self, entries: list[LedgerEntry], started: float, *, committed: bool) -> None:
        if self._on_batch is not None:
            seconds = time.perf_counter() - started
            self._on_batch(len(entries), seconds, committed, len(self._pending))

    def _conn(self) -> Connection:
        if self._connection is None:
            connection = self._engine.connect()
            if self._inline:
                # Checkpoints run in a background thread (store/checkpoint.py),
                # not inside a commit a request is waiting for; and the loop's
                # commit never waits for another writer's lock (see the class).
                connection.exec_driver_sql("PRAGMA wal_autocheckpoint=0")
                connection.exec_driver_sql("PRAGMA busy_timeout=0")
                connection.commit()
            self._connection = connection
        return self._connection

    def _waiting_conn(self) -> Connection:
        if self._waiting_connection is None:
            connection = self._engine.connect()
            connection.exec_driver_sql("PRAGMA wal_autocheckpoint=0")
            connection.commit()
            self._waiting_connection = connection
        return self._waiting_connection

    def _reset_connection(self) -> None:
        for connection in (self._connection, self._waiting_connection):
            if connection is not None:
                try:
                    connection.close()
                except Exception:  # already broken: it goes either way
                    log.debug("closing a broken ledger connection failed", exc_info=True)
        self._connection = self._waiting_connection = None

    def close(self) -> None:
        self._reset_connection()


class _Busy:
    """SQLite's write lock was another writer's: the batch goes to the thread that waits."""


_BUSY = _Busy()


def _is_busy(exc: OperationalError) -> bool:
    code = getattr(exc.orig, "sqlite_errorcode", None)
    return code is not None and code & 0xFF == sqlite3.SQLITE_BUSY


def _resolve(
    batch: list[tuple[LedgerEntry, asyncio.Future[None]]], error: Exception | None
) -> None:
    for _, future in batch:
        if future.done():
            continue
        if error is None:
            future.set_result(None)
        else:
            future.set_exception(error)


def erase_member_calls(conn: Connection, erasure: Erasure) -> int:
    """An erased member's calls keep every money field under the alias; the address they
    called from goes (caller's transaction)."""
    moved = conn.execute(
        update(ledger_entries)
        .where(
            ledger_entries.c.org_id == erasure.org_id,
            ledger_entries.c.member_id == erasure.member_id,
        )
        .values(member_id=erasure.alias, client_addr=None)
    )
    return int(moved.rowcount)
