"""Move SQLite's WAL checkpoints off the request path.

SQLite checkpoints the WAL inline, inside whichever commit crosses 1,000
pages: that request pays several milliseconds. The ledger writer's
connection turns automatic checkpoints off, and this task checkpoints from a
worker thread once a second instead (PASSIVE: it never blocks the writer).
Without some checkpointing the WAL grows without bound, so the two go
together.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from sqlalchemy import Engine, text

log = logging.getLogger(__name__)


class WalCheckpointer:
    def __init__(self, engine: Engine, interval: float = 1.0) -> None:
        self._engine = engine
        self._interval = interval
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self._engine.dialect.name == "sqlite" and self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if self._engine.dialect.name == "sqlite":
            await asyncio.to_thread(self._checkpoint)

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self._interval)
            try:
                await asyncio.to_thread(self._checkpoint)
            except Exception:
                log.exception("WAL checkpoint failed; retrying in %.0fs", self._interval)

    def _checkpoint(self) -> None:
        with self._engine.connect() as conn:
            conn.execute(text("PRAGMA wal_checkpoint(PASSIVE)"))
