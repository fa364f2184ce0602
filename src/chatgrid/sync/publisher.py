"""Publish an admin change to every process (see the package docstring)."""

from __future__ import annotations

import logging
import time

import redis

from chatgrid.errors import ChatGridError
from chatgrid.settings import Settings
from chatgrid.sync.keys import SyncKeys
from chatgrid.sync.marker import ChangeMarker

log = logging.getLogger(__name__)

_ACK_POLL_SECONDS = 0.005
_LEASE_MARGIN_SECONDS = 0.5


class ChangeNotPropagated(ChatGridError):
    """The change is saved, but replicas could not be told through Redis."""

    status = 503
    error_type = "server_error"
    default_code = "shared_state_unavailable"


class ChangePublisher:
    """``bump()`` after every committed admin change; it returns once all processes know."""

    def __init__(self, settings: Settings) -> None:
        self.marker = ChangeMarker(settings.data_dir)
        self.lease = settings.sync_lease_seconds
        self.keys = SyncKeys(settings.redis_prefix)
        self._redis: redis.Redis | None = None
        if settings.redis_url:
            self._redis = redis.Redis.from_url(
                settings.redis_url, socket_timeout=2, socket_connect_timeout=2
            )

    def changed(self) -> bool:
        """For in-process callers that also watch the marker (tests, one-off tools)."""
        return self.marker.changed()

    def bump(self) -> None:
        self.marker.bump()
        if self._redis is None:
            return
        try:
            epoch = int(self._redis.incr(self.keys.epoch))
            self._redis.publish(self.keys.channel, epoch)
            self._wait_for_replicas(self._redis, epoch)
        except redis.RedisError as exc:
            log.error("could not publish a change through Redis: %s", type(exc).__name__)
            raise ChangeNotPropagated(
                "The change is saved, but other ChatGrid replicas could not be told (Redis is "
                f"unreachable). Replicas that cannot reach Redis stop serving within "
                f"{self.lease:g}s; check Redis."
            ) from None

    def _wait_for_replicas(self, client: redis.Redis, epoch: int) -> None:
        deadline = time.monotonic() + self.lease + _LEASE_MARGIN_SECONDS
        prefix = self.keys.replica(" ")[:-1]
        while time.monotonic() < deadline:
            live = {
                key.decode().removeprefix(prefix)
                for key in client.scan_iter(match=self.keys.replica_pattern, count=1000)
            }
            acked = {member.decode() for member in client.smembers(self.keys.acks(epoch))}  # type: ignore[union-attr]
            if live <= acked:
                return
            time.sleep(_ACK_POLL_SECONDS)
        # Past one lease, a replica that has not seen the change is refusing calls.
        log.warning("some replicas did not acknowledge change %d; their leases have run out", epoch)

    def close(self) -> None:
        if self._redis is not None:
            self._redis.close()
