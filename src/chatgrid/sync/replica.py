"""A serving process's side of change propagation (see the package docstring)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from collections.abc import Callable

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from chatgrid.errors import ChatGridError
from chatgrid.redis_client import async_redis
from chatgrid.settings import Settings
from chatgrid.sync.keys import SyncKeys
from chatgrid.sync.marker import ChangeMarker

log = logging.getLogger(__name__)


class SharedStateUnavailable(ChatGridError):
    """This replica cannot confirm it has every change; it refuses rather than guess."""

    status = 503
    error_type = "server_error"
    default_code = "shared_state_unavailable"


_HEARTBEAT_TTL_SECONDS = 3


class ReplicaSync:
    """Calls ``on_change`` whenever admin state moved; guards serving with a Redis lease."""

    def __init__(self, settings: Settings, on_change: Callable[[], None]) -> None:
        self.marker = ChangeMarker(settings.data_dir)
        self.on_change = on_change
        self.lease = settings.sync_lease_seconds
        self.keys = SyncKeys(settings.redis_prefix)
        self.replica_id = secrets.token_hex(8)
        self._redis_url = settings.redis_url
        self._redis: aioredis.Redis | None = None
        self._epoch = 0
        self._confirmed_at = float("-inf")
        self._tasks: list[asyncio.Task[None]] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self._failing = False

    @property
    def uses_redis(self) -> bool:
        return self._redis_url is not None

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self.marker.changed()  # take the current marker as seen
        if self._redis_url is not None:
            self._redis = async_redis(self._redis_url, timeout=self.lease)
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
            with contextlib.suppress(RedisError):
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

    def _apply(self, epoch: int) -> None:
        if epoch > self._epoch:
            self._epoch = epoch
            self.on_change()

    async def _confirm(self) -> None:
        """Read the epoch; the lease runs from when the read was *sent*."""
        assert self._redis is not None and self._loop is not None
        sent_at = self._loop.time()
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.get(self.keys.epoch)
            pipe.set(self.keys.replica(self.replica_id), "1", ex=_HEARTBEAT_TTL_SECONDS)
            epoch_raw, _ = await pipe.execute()
        epoch = int(epoch_raw or 0)
        if self._confirmed_at == float("-inf"):
            self._epoch = epoch  # start-up: caches are empty anyway
        self._apply(epoch)
        self._confirmed_at = sent_at

    async def _poll(self) -> None:
        interval = self.lease / 4 if self._redis is not None else 0.25
        while True:
            await asyncio.sleep(interval)
            if self.marker.changed():
                self.on_change()
            if self._redis is None:
                continue
            try:
                await self._confirm()
                if self._failing:
                    log.warning("shared state reachable again")
                    self._failing = False
            except (RedisError, OSError) as exc:
                if not self._failing:
                    log.error("shared state unreachable (%s): refusing calls", type(exc).__name__)
                    self._failing = True

    async def _listen(self) -> None:
        assert self._redis is not None
        while True:
            try:
                async with self._redis.pubsub() as pubsub:
                    await pubsub.subscribe(self.keys.channel)
                    async for message in pubsub.listen():
                        if message.get("type") != "message":
                            continue
                        epoch = int(message["data"])
                        self._apply(epoch)
                        await self._acknowledge(epoch)
            except (RedisError, OSError, ValueError):
                await asyncio.sleep(self.lease / 4)

    async def _acknowledge(self, epoch: int) -> None:
        assert self._redis is not None
        key = self.keys.acks(epoch)
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.sadd(key, self.replica_id)
            pipe.expire(key, 60)
            await pipe.execute()
