"""The change state across Redis restarts, and a replica that reaches Redis again.

In process, against a Redis server the test owns: the numbers a replica
compares must never repeat after Redis lost them, and a replica that could
not read them for a while must start from nothing.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from chatgrid.settings import Settings
from chatgrid.sync import ReplicaSync, SharedStateUnavailable
from chatgrid.sync.keys import SyncKeys
from chatgrid.sync.state import CONFIRM_SCRIPT, ChangeState, Confirmed, new_generation
from tests.support.redis_server import OwnRedis

pytestmark = pytest.mark.child_processes


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[OwnRedis]:
    server = OwnRedis(tmp_path / "redis")
    server.start()
    try:
        yield server
    finally:
        server.kill()


KEYS = SyncKeys("cgtest-state")


def change(server: OwnRedis, *, move: bool = True) -> ChangeState:
    """What a publisher does (``move``), or what a replica reads."""
    client = redis.Redis.from_url(server.url)
    try:
        script = client.register_script(CONFIRM_SCRIPT)
        reply = script(keys=[KEYS.state], args=[new_generation(), "1" if move else "0", "", 0])
        return Confirmed.parse(reply).state
    finally:
        client.close()


def test_within_one_generation_the_epoch_only_grows(own_redis: OwnRedis) -> None:
    first, second, read = change(own_redis), change(own_redis), change(own_redis, move=False)
    assert first.generation == second.generation == read.generation
    assert (first.epoch, second.epoch, read.epoch) == (1, 2, 2)
    assert read.covers(second) and not first.covers(second)


def test_a_redis_restarted_empty_begins_a_new_generation(own_redis: OwnRedis) -> None:
    change(own_redis)
    before = change(own_redis)
    own_redis.restart()
    after = change(own_redis)
    assert after.generation != before.generation
    assert not after.covers(before) and not before.covers(after)


def test_a_redis_back_from_an_older_snapshot_begins_a_new_generation(own_redis: OwnRedis) -> None:
    change(own_redis)
    own_redis.snapshot()
    before = change(own_redis)  # epoch 2, which the snapshot does not have
    own_redis.restart(from_snapshot=True)
    after = change(own_redis)  # would be epoch 2 again, of a different change
    assert after.generation != before.generation
    assert not before.covers(after)


def test_a_flushed_redis_begins_a_new_generation(own_redis: OwnRedis) -> None:
    before = change(own_redis)
    client = redis.Redis.from_url(own_redis.url)
    try:
        client.flushall()
    finally:
        client.close()
    assert change(own_redis).generation != before.generation


def test_a_replica_that_reaches_redis_again_drops_every_cache_before_serving(
    tmp_path: Path, own_redis: OwnRedis
) -> None:
    """Same server, same state, nothing published: the caches still go."""
    settings = Settings(
        data_dir=tmp_path / "data",
        redis_url=own_redis.url,
        redis_prefix=f"cgtest-{secrets.token_hex(4)}",
        sync_lease_seconds=0.4,
    )
    drops: list[float] = []

    def serving(sync: ReplicaSync) -> bool:
        try:
            sync.check()
        except SharedStateUnavailable:
            return False
        return True

    async def scenario() -> tuple[int, int]:
        sync = ReplicaSync(settings, on_change=lambda: drops.append(time.monotonic()))
        await sync.start()
        try:
            await asyncio.sleep(0.5)
            assert serving(sync)
            before = len(drops)
            pauser = redis.Redis.from_url(own_redis.url)
            try:  # Redis stops answering for 1.5 s (every client's commands wait)
                pauser.execute_command("CLIENT", "PAUSE", 1500, "ALL")
            finally:
                pauser.close()
            for _ in range(100):
                if not serving(sync):
                    break
                await asyncio.sleep(0.05)
            assert not serving(sync)
            refused_with = len(drops)
            for _ in range(200):
                if serving(sync):
                    break
                await asyncio.sleep(0.05)
            assert serving(sync)
            return refused_with - before, len(drops) - refused_with
        finally:
            await sync.stop()

    dropped_while_away, dropped_on_return = asyncio.run(scenario())
    assert dropped_while_away == 0
    assert dropped_on_return >= 1
