"""Each server sweeps expired data every few minutes, off every request's path.

The sweep runs in a thread (``asyncio.to_thread``), so the event loop that
serves ``/v1`` never waits on it, and deletes in short batches, so a call's
own write never waits long on it either. Every replica runs this loop; the
sweep's lease lets one of them work at a time (``admin.retention``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading

from chatgrid.admin.retention import sweep
from chatgrid.context import AppContext
from chatgrid.governance.retention import Receipt

log = logging.getLogger(__name__)

#: How often a server looks for expired data.
SWEEP_EVERY_SECONDS = 300.0
#: The first look waits until the server has settled in (its start-up writes done).
FIRST_SWEEP_AFTER_SECONDS = 30.0


class RetentionWorker:
    def __init__(self, context: AppContext, every: float = SWEEP_EVERY_SECONDS) -> None:
        self.context = context
        self.every = every
        self._task: asyncio.Task[None] | None = None
        self._sweeping: asyncio.Future[list[Receipt] | None] | None = None
        self._stopping = threading.Event()

    def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def close(self) -> None:
        """Stop: a sweep in progress finishes its batch and writes its receipts first."""
        self._stopping.set()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._sweeping is not None:
            with contextlib.suppress(Exception):
                await self._sweeping

    async def _run(self) -> None:
        await asyncio.sleep(min(FIRST_SWEEP_AFTER_SECONDS, self.every))
        while True:
            self._sweeping = asyncio.ensure_future(
                asyncio.to_thread(sweep, self.context, stopping=self._stopping.is_set)
            )
            try:
                receipts = await asyncio.shield(self._sweeping)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("the retention sweep failed; trying again later")
            else:
                if receipts:
                    rows = sum(r.rows for r in receipts)
                    log.info("retention sweep deleted %d rows (%d receipts)", rows, len(receipts))
            await asyncio.sleep(self.every)
