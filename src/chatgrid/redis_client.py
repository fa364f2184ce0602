"""One way to make Redis clients, sized for a busy gateway.

redis-py's asyncio pool raises "Too many connections" when every connection
is busy; under a burst of calls that must not fail a request. A blocking pool
waits for a free connection (up to the timeout) instead.
"""

from __future__ import annotations

import redis.asyncio as aioredis

MAX_CONNECTIONS = 256


def async_redis(url: str, *, timeout: float = 2.0) -> aioredis.Redis:
    pool = aioredis.BlockingConnectionPool.from_url(
        url,
        max_connections=MAX_CONNECTIONS,
        timeout=timeout,
        socket_timeout=timeout,
        socket_connect_timeout=timeout,
    )
    return aioredis.Redis(connection_pool=pool)
