"""A serving process's side of change propagation (see the package docstring)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from collections.abc import Callable

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from chatgrid.errors import ServiceUnavailable
from chatgrid.redis_client import async_redis
from chatgrid.settings import Settings
from chatgrid.sync.keys import SyncKeys
from chatgrid.sync.marker import ChangeMarker
from chatgrid.sync.state import (
    CONFIRM_SCRIPT,
    LEASE_MARGIN_SECONDS,
    ChangeState,
    Confirmed,
    new_generation,
)

log = logging.getLogger(__name__)


class SharedStateUnavailable(ServiceUnavailable):
    """This replica cannot confirm it has every change; it refuses rather than guess."""

    default_code = "shared_state_unavailable"


class ReplicaSync:
    """Calls ``on_change`` whenever admin state moved; guards serving with a Redis lease.

    Caches are dropped whenever the state read from Redis differs in any way
    from the one last applied (a new generation, or another epoch, even a
    lower one), and whenever Redis is reached again after a failure: what
    happened while it was away cannot be known.
    """

    def __init__(self, settings: Settings, on_change: Callable[[], None]) -> None:
        self.marker = ChangeMarker(settings.data_dir)
        self.on_change = on_change
        self.lease = settings.sync_lease_seconds
        self.keys = SyncKeys(settings.redis_prefix)
        self.replica_id = secrets.token_hex(8)
        self._redis_url = settings.redis_url
        self._redis: aioredis.Redis | None = None
        self._applied: ChangeState | None = None
        self._confirmed_at = float("-inf")
        self._tasks: list[asyncio.Task[None]] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self._lock = asyncio.Lock()
        # Set when Redis failed or a connection to it was made again: whatever happened
        # meanwhile cannot be known, so the next successful read drops every cache.
        self._suspect = False
        self._subscribed = False
        # Live while its lease may be: a publisher must count this replica as long as it serves.
        self._heartbeat_ms = int((self.lease + LEASE_MARGIN_SECONDS + 1) * 1000)

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self.marker.changed()  # take the current marker as seen
        if self._redis_url is not None:
            self._redis = async_redis(self._redis_url, timeout=self.lease)
            self._script = self._redis.register_script(CONFIRM_SCRIPT)
            await self._confirm()  # fail start-up loudly if Redis is not there
            self._tasks.append(self._loop.create_task(self._listen()))
        self._tasks.append(self._loop.create_task(self._poll()))

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks.clear()
        if self._redis is not None:
            with contextlib.suppress(RedisError, OSError):
                await self._redis.delete(self.keys.replica(self.replica_id))
            await self._redis.aclose()

    def check(self) -> None:
        """Per request: apply a local change; refuse if the Redis lease ran out."""
        if self.marker.changed():
            self.on_change()
        if self._redis is not None:
            assert self._loop is not None
            if self._loop.time() - self._confirmed_at > self.lease:
                raise SharedStateUnavailable(
                    "ChatGrid cannot reach its shared state right now; try again shortly."
                )

    async def _confirm(self) -> None:
        """Read the change state, apply it if it moved, then say so; renews the lease.

        The lease runs from when the read was *sent*. Confirmations are one at
        a time, so a state read earlier can never be applied after a later one.
        The heartbeat written with the read carries what was applied before
        it; an acknowledgement of a new state is written only after the
        caches were dropped.
        """
        assert self._redis is not None and self._loop is not None
        async with self._lock:
            sent_at = self._loop.time()
            applied = "" if self._applied is None else self._applied.encode()
            heartbeat = self.keys.replica(self.replica_id)
            reply = await self._script(
                keys=[self.keys.state, heartbeat],
                args=[new_generation(), "0", applied, self._heartbeat_ms],
            )
            state = Confirmed.parse(reply).state
            moved = state != self._applied or self._suspect
            if moved:
                self.on_change()
                self._applied = state
                self._suspect = False
            self._confirmed_at = max(self._confirmed_at, sent_at)
            if moved:
                await self._redis.set(heartbeat, state.encode(), px=self._heartbeat_ms)

    def _failed(self, exc: BaseException) -> None:
        if not self._suspect:
            log.error(
                "shared state unreachable (%s): calls are refused once the lease runs out",
                type(exc).__name__,
            )
        self._suspect = True

    async def _poll(self) -> None:
        interval = self.lease / 4 if self._redis is not None else 0.25
        while True:
            _stop_if_asked()
            await asyncio.sleep(interval)
            if self.marker.changed():
                self.on_change()
            if self._redis is None:
                continue
            was_suspect = self._suspect
            try:
                await self._confirm()
            except (RedisError, OSError) as exc:
                self._failed(exc)
            else:
                if was_suspect:
                    log.warning("shared state reachable again; every cache was dropped")

    async def _listen(self) -> None:
        """Confirm at once on every published change (the poll is the safety net)."""
        assert self._redis is not None
        while True:
            _stop_if_asked()
            try:
                async with self._redis.pubsub() as pubsub:
                    await pubsub.subscribe(self.keys.channel)
                    async for message in pubsub.listen():
                        kind = message.get("type")
                        if kind == "subscribe":
                            # Also after redis-py reconnected on its own: messages
                            # may have been missed, Redis may be another one.
                            if self._subscribed:
                                self._suspect = True
                            self._subscribed = True
                        if kind in ("message", "subscribe"):
                            await self._confirm()
                        _stop_if_asked()
            except (RedisError, OSError) as exc:
                self._failed(exc)
                await asyncio.sleep(self.lease / 4)


def _stop_if_asked() -> None:
    """Stop a loop whose task was cancelled, even if the cancellation was swallowed.

    A cancel that lands as a Redis read's own timeout expires comes out of
    ``asyncio.timeout`` as a ``TimeoutError`` (an ``OSError``), which the loops
    catch as an unreachable Redis: the task would go on, and ``stop()`` would
    wait for it forever (seen in CI: a test hung 10 minutes). The task's count
    of cancel requests says the truth.
    """
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise asyncio.CancelledError
