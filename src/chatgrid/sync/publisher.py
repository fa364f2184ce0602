"""Publish an admin change to every process (see the package docstring)."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

import redis

from chatgrid.errors import ServiceUnavailable
from chatgrid.redis_client import sync_redis
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

_ACK_POLL_SECONDS = 0.005
_RETRY_SECONDS = 0.05


class ChangeNotPropagated(ServiceUnavailable):
    """The change is saved, but replicas could not be told through Redis."""

    default_code = "shared_state_unavailable"


@dataclass(frozen=True)
class _Published:
    change: ChangeState
    not_before: float  # monotonic: a young generation's lease must run out first
    deadline: float  # monotonic: every replica has seen the change or stopped serving


class ChangePublisher:
    """``bump()`` after every committed admin change; it returns once all processes know.

    With Redis, "know" means: every live replica has acknowledged *this*
    change (this epoch of this generation) after dropping its caches, or one
    lease has passed, after which a replica that did not acknowledge is
    refusing calls. A change in a generation younger than one lease also
    waits until the generation is one lease old (see ``sync.state``).
    """

    def __init__(self, settings: Settings) -> None:
        self.marker = ChangeMarker(settings.data_dir)
        self.lease = settings.sync_lease_seconds
        self.keys = SyncKeys(settings.redis_prefix)
        self._redis: redis.Redis | None = None
        if settings.redis_url:
            self._redis = sync_redis(settings.redis_url)
            self._confirm = self._redis.register_script(CONFIRM_SCRIPT)

    def bump(self) -> None:
        self.marker.bump()
        if self._redis is None:
            return
        try:
            published = self._publish()
            self._wait_for_replicas(self._redis, published)
        except redis.RedisError as exc:
            log.error("could not publish a change through Redis: %s", type(exc).__name__)
            raise ChangeNotPropagated(
                "The change is saved, but other ChatGrid replicas could not be told (Redis is "
                f"unreachable). Replicas that cannot reach Redis stop serving within "
                f"{self.lease:g}s, and drop every cache when they reach it again; check Redis."
            ) from None

    def _publish(self) -> _Published:
        """Move the epoch and announce it, retrying a Redis that is away for under a lease.

        A short blip must not leave the change unannounced: a replica that
        never noticed the blip would keep its caches.
        """
        assert self._redis is not None
        give_up = time.monotonic() + self.lease + LEASE_MARGIN_SECONDS
        while True:
            try:
                reply = self._confirm(keys=[self.keys.state], args=[new_generation(), "1", "", 0])
                break
            except (redis.ConnectionError, redis.TimeoutError):
                if time.monotonic() >= give_up:
                    raise
                time.sleep(_RETRY_SECONDS)
        answered = time.monotonic()
        confirmed = Confirmed.parse(reply)
        self._redis.publish(self.keys.channel, confirmed.state.encode())
        lease_ms = (self.lease + LEASE_MARGIN_SECONDS) * 1000
        young_for = max(0.0, confirmed.born_ms + lease_ms - confirmed.now_ms) / 1000
        return _Published(
            confirmed.state,
            not_before=answered + young_for,
            deadline=answered + self.lease + LEASE_MARGIN_SECONDS,
        )

    def _wait_for_replicas(self, client: redis.Redis, published: _Published) -> None:
        change = published.change
        while True:
            keys = list(client.scan_iter(match=self.keys.replica_pattern, count=1000))
            values = client.mget(keys) if keys else []
            pending = sum(1 for value in values if value is not None and not _covers(value, change))
            now = time.monotonic()
            if pending == 0 and now >= published.not_before:
                return
            if now >= published.deadline:
                # Past one lease, a replica that has not seen the change is refusing calls.
                log.warning(
                    "%d replica(s) did not acknowledge change %s; their leases have run out",
                    pending,
                    change.encode(),
                )
                return
            time.sleep(_ACK_POLL_SECONDS)

    def close(self) -> None:
        if self._redis is not None:
            self._redis.close()


def _covers(value: bytes | str, change: ChangeState) -> bool:
    held = ChangeState.decode(value)
    return held is not None and held.covers(change)
