"""One way to make Redis clients, sized for a busy gateway and honest after Redis restarts.

redis-py's asyncio pool raises "Too many connections" when every connection
is busy; under a burst of calls that must not fail a request. A blocking pool
waits for a free connection (up to the timeout) instead.

When Redis restarts, every pooled connection is dead, and a pool hands them
out one by one (the most recently used first, so the idle ones deep in the
pool surface only under bursts): left alone, each would fail one call, and a
busy replica answered ``503 limits_unavailable`` for many seconds after
Redis was back. So a command that fails with a connection error is retried
once on a fresh connection, and a connection idle for a while is pinged
before use. Timeouts are not retried: the command may have run, and the
caller's deadline is already spent.
"""

from __future__ import annotations

import redis
import redis.asyncio as aioredis
from redis.asyncio.retry import Retry as AsyncRetry
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.retry import Retry

MAX_CONNECTIONS = 256
# A connection idle this long is pinged before its next command (and reopened if dead).
HEALTH_CHECK_SECONDS = 5


def async_redis(url: str, *, timeout: float = 2.0) -> aioredis.Redis:
    pool = aioredis.BlockingConnectionPool.from_url(
        url,
        max_connections=MAX_CONNECTIONS,
        timeout=timeout,
        socket_timeout=timeout,
        socket_connect_timeout=timeout,
        retry=AsyncRetry(NoBackoff(), 1, supported_errors=(RedisConnectionError,)),
        health_check_interval=HEALTH_CHECK_SECONDS,
    )
    return aioredis.Redis(connection_pool=pool)


def sync_redis(url: str, *, timeout: float = 2.0) -> redis.Redis:
    """For admin commands (which run in a thread or a CLI), with the same reconnection rule."""
    pool = redis.ConnectionPool.from_url(
        url,
        socket_timeout=timeout,
        socket_connect_timeout=timeout,
        retry=Retry(NoBackoff(), 1, supported_errors=(RedisConnectionError,)),
        health_check_interval=HEALTH_CHECK_SECONDS,
    )
    return redis.Redis(connection_pool=pool)
