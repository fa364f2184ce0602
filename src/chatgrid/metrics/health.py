"""What ``/metrics`` measures when it is scraped: the database, Redis and the pooled keys.

These are facts about shared services, not about one worker, so the worker
that answers the scrape asks them itself, each with a short deadline: a
database or Redis that hangs shows as down within a couple of seconds
instead of hanging the scrape.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from collections.abc import Iterable, Iterator
from typing import Final

from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import text

from chatgrid.context import AppContext
from chatgrid.redis_client import async_redis

log = logging.getLogger(__name__)

PROBE_TIMEOUT_SECONDS: Final = 2.0
POOL_KEY_STATUSES: Final = ("active", "broken")


class Snapshot(Collector):
    """Metric families measured once, for one scrape."""

    def __init__(self, families: Iterable[Metric]) -> None:
        self.families = list(families)

    def collect(self) -> Iterator[Metric]:
        yield from self.families


def _gauge(name: str, documentation: str, value: float) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, documentation, value=value)


async def _timed(probe: asyncio.Future[object] | object) -> float | None:
    """Seconds the probe took, or None if it failed or passed the deadline."""
    started = time.perf_counter()
    try:
        async with asyncio.timeout(PROBE_TIMEOUT_SECONDS):
            await probe  # type: ignore[misc]
    except Exception as exc:
        log.warning("health probe failed: %s", type(exc).__name__)
        return None
    return time.perf_counter() - started


async def measure(context: AppContext) -> Snapshot:
    """Database and Redis up (with their round trip) and the pooled keys by status."""
    engine = context.engine

    def ping_database() -> None:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))

    families: list[Metric] = []
    seconds = await _timed(asyncio.to_thread(ping_database))
    families.append(
        _gauge("chatgrid_database_up", "1 if the database answered.", seconds is not None)
    )
    families.append(
        _gauge(
            "chatgrid_database_ping_seconds",
            "Round trip of SELECT 1 (-1 when it failed).",
            -1.0 if seconds is None else seconds,
        )
    )
    redis_url = context.settings.redis_url
    if redis_url:
        client = async_redis(redis_url, timeout=PROBE_TIMEOUT_SECONDS)
        try:
            seconds = await _timed(client.ping())
        finally:
            await client.aclose(close_connection_pool=True)  # its own pool: no leak per scrape
        families.append(
            _gauge("chatgrid_redis_up", "1 if Redis answered PING.", seconds is not None)
        )
        families.append(
            _gauge(
                "chatgrid_redis_ping_seconds",
                "Round trip of PING (-1 when it failed).",
                -1.0 if seconds is None else seconds,
            )
        )
    families.append(await _pool_keys(context))
    return Snapshot(families)


async def _pool_keys(context: AppContext) -> GaugeMetricFamily:
    family = GaugeMetricFamily(
        "chatgrid_pool_keys",
        "The operator's pooled keys by status (broken: the upstream refused the key).",
        labels=["status"],
    )
    try:
        keys = await asyncio.to_thread(context.pool.list)
    except Exception as exc:
        log.warning("pooled keys could not be read: %s", type(exc).__name__)
        return family
    counts = Counter(key.status for key in keys)
    for status in sorted(set(POOL_KEY_STATUSES) | set(counts)):
        family.add_metric([status], counts.get(status, 0))
    return family
