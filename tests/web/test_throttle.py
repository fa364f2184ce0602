"""Login throttling: per email and per address, in process or shared through Redis."""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Iterator

import pytest
import redis

from chatgrid.identity.throttle import (
    LoginThrottle,
    MemoryCounter,
    RedisCounter,
    ThrottlePolicy,
    counter_for,
)
from tests.support.processes import free_port

POLICY = ThrottlePolicy(max_per_email=5, max_per_address=20, window_seconds=900)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def throttle(clock: Clock) -> LoginThrottle:
    return LoginThrottle(MemoryCounter(POLICY.window_seconds, clock), POLICY)


def test_five_failures_for_one_email_refuse_it_for_the_window(
    throttle: LoginThrottle, clock: Clock
) -> None:
    for attempt in range(5):
        assert throttle.retry_after("alice@example.com", f"10.0.0.{attempt}") is None
        throttle.failed("alice@example.com", f"10.0.0.{attempt}")
    assert throttle.retry_after("alice@example.com", "10.9.9.9") == 900
    assert (
        throttle.retry_after("ALICE@example.com ", None) is not None
    )  # same address, spelled otherwise
    assert throttle.retry_after("bob@example.com", "10.9.9.9") is None
    clock.now += 600
    assert throttle.retry_after("alice@example.com", None) == 300
    clock.now += 300
    assert throttle.retry_after("alice@example.com", None) is None


def test_one_address_spraying_many_accounts_is_refused(throttle: LoginThrottle) -> None:
    for n in range(20):
        throttle.failed(f"user{n}@example.com", "198.51.100.9")
    assert throttle.retry_after("someone-new@example.com", "198.51.100.9") is not None
    assert throttle.retry_after("someone-new@example.com", "198.51.100.10") is None


def test_a_right_password_clears_the_email_count_but_not_the_address(
    throttle: LoginThrottle,
) -> None:
    for _ in range(4):
        throttle.failed("alice@example.com", "198.51.100.9")
    throttle.succeeded("alice@example.com")
    for _ in range(4):
        throttle.failed("alice@example.com", "198.51.100.9")
    assert throttle.retry_after("alice@example.com", None) is None
    for n in range(12):
        throttle.failed(f"x{n}@example.com", "198.51.100.9")
    assert throttle.retry_after("alice@example.com", "198.51.100.9") is not None


def test_the_memory_counter_stays_bounded(clock: Clock) -> None:
    from chatgrid.identity import throttle as module

    counter = MemoryCounter(60, clock)
    limit = module._MAX_TRACKED_KEYS
    module._MAX_TRACKED_KEYS = 50
    try:
        for n in range(200):
            counter.add(f"k{n}")
        assert len(counter._failures) <= 50
    finally:
        module._MAX_TRACKED_KEYS = limit


@pytest.fixture(scope="module")
def redis_url() -> Iterator[str]:
    server = shutil.which("redis-server")
    assert server, "redis-server is needed for the shared-throttle tests"
    port = free_port()
    process = subprocess.Popen(
        [server, "--port", str(port), "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"redis://127.0.0.1:{port}/0"
    client = redis.Redis.from_url(url)
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                client.ping()
                break
            except redis.ConnectionError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        yield url
    finally:
        client.close()
        process.terminate()
        process.wait(timeout=10)


def test_replicas_share_one_count_through_redis(redis_url: str) -> None:
    one = LoginThrottle(RedisCounter(redis.Redis.from_url(redis_url), "t1", 900), POLICY)
    two = LoginThrottle(RedisCounter(redis.Redis.from_url(redis_url), "t1", 900), POLICY)
    for n in range(5):
        (one if n % 2 else two).failed("carol@example.com", None)
    assert one.retry_after("carol@example.com", None) is not None
    assert two.retry_after("carol@example.com", None) is not None
    wait = two.retry_after("carol@example.com", None)
    assert wait is not None and 890 <= wait <= 900
    two.succeeded("carol@example.com")
    assert one.retry_after("carol@example.com", None) is None
    # Emails are hashed before they become keys.
    keys = [k.decode() for k in redis.Redis.from_url(redis_url).keys("t1:*")]
    assert not any("carol" in k for k in keys)


def test_without_redis_counting_goes_on_in_the_process(caplog: pytest.LogCaptureFixture) -> None:
    dead = redis.Redis.from_url(
        f"redis://127.0.0.1:{free_port()}/0", socket_timeout=0.2, socket_connect_timeout=0.2
    )
    throttle = LoginThrottle(RedisCounter(dead, "t2", 900), POLICY)
    for _ in range(5):
        throttle.failed("dan@example.com", "192.0.2.1")
    assert throttle.retry_after("dan@example.com", "192.0.2.1") is not None
    assert "cannot reach Redis" in caplog.text


def test_the_counter_follows_the_redis_setting(redis_url: str) -> None:
    assert isinstance(counter_for(None, "p", 900), MemoryCounter)
    shared = counter_for(redis_url, "p", 900)
    assert isinstance(shared, RedisCounter)
    shared.client.close()
