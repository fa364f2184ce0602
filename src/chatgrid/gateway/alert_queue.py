"""Queue alerts from the hot path: once per process per occurrence, never on a call's time.

The gateway meets alert-worthy moments on every call (a budget's threshold,
a pooled key out of its minute's budget). Queueing is a database write, so it
runs in a thread and the call never waits on it; and a dedupe key this
process has queued already is not written again, so a moment met by a
thousand calls costs one write per process. The delivery queue's unique
(channel, dedupe key) index makes it one delivery overall, with any number of
replicas.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable

from chatgrid.alerts import AlertEvent
from chatgrid.context import AppContext
from chatgrid.gateway.key_alerts import queue_alert

#: Dedupe keys remembered before the memory is cleared (the database still dedupes).
MAX_REMEMBERED = 10_000


class AlertQueue:
    def __init__(self, context: AppContext) -> None:
        self._context = context
        self._queued: set[str] = set()
        self._tasks: set[asyncio.Task[int]] = set()

    def queue_once(self, dedupe_key: str, make_event: Callable[[], AlertEvent]) -> bool:
        """Queue the event unless this process queued ``dedupe_key``; whether it did now.

        The event is made only when it is queued: a key met again costs a set look-up.
        """
        if dedupe_key in self._queued:
            return False
        if len(self._queued) >= MAX_REMEMBERED:
            self._queued.clear()
        self._queued.add(dedupe_key)
        event = make_event()
        task = asyncio.create_task(asyncio.to_thread(queue_alert, self._context, event))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return True

    async def close(self) -> None:
        """Let alerts already being queued finish (a shutdown must not drop them)."""
        if self._tasks:
            with contextlib.suppress(Exception):
                await asyncio.gather(*self._tasks)
