"""Login throttling: per account and address, per address, per device; in process or in Redis."""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Iterator

import pytest
import redis

from chatgrid.identity.throttle import (
    Attempt,
    LoginThrottle,
    MemoryCounter,
    RedisCounter,
    ThrottlePolicy,
    counter_for,
    login_throttle,
)
from tests.support.processes import free_port

POLICY = ThrottlePolicy(
    max_per_account_and_address=5,
    max_per_address=20,
    max_per_account_untrusted=20,
    window_seconds=900,
)
ALICE = "alice@example.com"


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
    return LoginThrottle(
        MemoryCounter(POLICY.window_seconds, clock),
        POLICY,
        MemoryCounter(POLICY.known_address_seconds, clock),
    )


def test_five_failures_for_one_account_hold_back_that_address_for_the_window(
    throttle: LoginThrottle, clock: Clock
) -> None:
    for _ in range(5):
        assert throttle.retry_after(Attempt(ALICE, "10.0.0.1")) is None
        throttle.failed(Attempt(ALICE, "10.0.0.1"))
    assert throttle.retry_after(Attempt(ALICE, "10.0.0.1")) == 900
    assert throttle.retry_after(Attempt("ALICE@example.com ", "10.0.0.1")) is not None
    # Another address (the owner's, say) is not held back by these five.
    assert throttle.retry_after(Attempt(ALICE, "10.9.9.9")) is None
    assert throttle.retry_after(Attempt("bob@example.com", "10.0.0.1")) is None
    clock.now += 600
    assert throttle.retry_after(Attempt(ALICE, "10.0.0.1")) == 300
    clock.now += 300
    assert throttle.retry_after(Attempt(ALICE, "10.0.0.1")) is None


def test_failures_from_many_addresses_never_lock_the_owners_browser_or_usual_address(
    throttle: LoginThrottle,
) -> None:
    """The targeted lockout: five (or five hundred) failures from anywhere do not shut
    the right password out of the browser and the address the owner signs in from."""
    owner_device = Attempt(ALICE, "192.0.2.10", device="device-of-alice")
    throttle.succeeded(owner_device)
    for n in range(500):
        attacker = Attempt(ALICE, f"198.51.{n // 250}.{n % 250}")
        throttle.failed(attacker)
    # Strangers are held back, all together, once they pass the untrusted limit...
    assert throttle.retry_after(Attempt(ALICE, "203.0.113.99")) is not None
    # ...but the owner's browser is not, from any address, nor is their usual address.
    assert throttle.retry_after(Attempt(ALICE, "203.0.113.50", device="device-of-alice")) is None
    assert throttle.retry_after(Attempt(ALICE, "192.0.2.10")) is None


def test_five_failures_from_five_addresses_leave_a_stranger_able_to_try(
    throttle: LoginThrottle,
) -> None:
    for n in range(5):
        throttle.failed(Attempt(ALICE, f"10.0.0.{n}"))
    assert throttle.retry_after(Attempt(ALICE, "10.0.1.1")) is None


def test_a_device_token_that_keeps_failing_loses_its_trust(throttle: LoginThrottle) -> None:
    stolen = Attempt(ALICE, "198.51.100.1", device="device-of-alice")
    for n in range(20):
        throttle.failed(Attempt(ALICE, f"203.0.113.{n}"))  # the account's untrusted limit
    for _ in range(5):
        assert throttle.retry_after(stolen) is None
        throttle.failed(stolen)
    # Five failures with the same token: it counts as a stranger now, and strangers wait.
    assert throttle.retry_after(stolen) is not None


def test_one_address_spraying_many_accounts_is_refused(throttle: LoginThrottle) -> None:
    for n in range(20):
        throttle.failed(Attempt(f"user{n}@example.com", "198.51.100.9"))
    assert throttle.retry_after(Attempt("someone-new@example.com", "198.51.100.9")) is not None
    assert throttle.retry_after(Attempt("someone-new@example.com", "198.51.100.10")) is None


def test_a_right_password_clears_its_own_counts_but_not_the_accounts_or_the_address(
    throttle: LoginThrottle,
) -> None:
    here = Attempt(ALICE, "198.51.100.9")
    for _ in range(4):
        throttle.failed(here)
    throttle.succeeded(here)
    for _ in range(4):
        throttle.failed(here)
    assert throttle.retry_after(here) is None
    for n in range(12):
        throttle.failed(Attempt(f"x{n}@example.com", "198.51.100.9"))
    assert throttle.retry_after(here) is not None  # the address sprayed: 20 failures
    # The owner's success did not hand strangers a fresh budget for the account: the
    # four failures before it still count (the four after, from a usual address, do not).
    for n in range(16):
        throttle.failed(Attempt(ALICE, f"203.0.113.{n}"))
    assert throttle.retry_after(Attempt(ALICE, "203.0.113.200")) is not None


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


def test_replicas_share_counts_and_usual_addresses_through_redis(redis_url: str) -> None:
    one = login_throttle(redis_url, "t1", POLICY)
    two = login_throttle(redis_url, "t1", POLICY)
    carol = Attempt("carol@example.com", "192.0.2.7")
    two.succeeded(carol)
    for n in range(5):
        (one if n % 2 else two).failed(carol)
    wait = two.retry_after(carol)
    assert wait is not None and 890 <= wait <= 900
    assert one.retry_after(carol) is not None
    one.succeeded(carol)
    assert two.retry_after(carol) is None
    for n in range(25):
        one.failed(Attempt("carol@example.com", f"198.51.100.{n}"))
    assert two.retry_after(Attempt("carol@example.com", "203.0.113.1")) is not None
    assert two.retry_after(Attempt("carol@example.com", "192.0.2.7")) is None  # her usual one
    # Emails and addresses are hashed before they become keys.
    keys = [k.decode() for k in redis.Redis.from_url(redis_url).keys("t1:*")]
    assert keys and not any("carol" in k or "192.0.2" in k or "198.51" in k for k in keys)
    for made in (one, two):
        assert isinstance(made.counter, RedisCounter)
        made.counter.client.close()


def test_without_redis_counting_goes_on_in_the_process(caplog: pytest.LogCaptureFixture) -> None:
    dead = redis.Redis.from_url(
        f"redis://127.0.0.1:{free_port()}/0", socket_timeout=0.2, socket_connect_timeout=0.2
    )
    throttle = LoginThrottle(RedisCounter(dead, "t2", 900), POLICY)
    dan = Attempt("dan@example.com", "192.0.2.1")
    for _ in range(5):
        throttle.failed(dan)
    assert throttle.retry_after(dan) is not None
    assert "cannot reach Redis" in caplog.text


def test_the_counter_follows_the_redis_setting(redis_url: str) -> None:
    assert isinstance(counter_for(None, "p", 900), MemoryCounter)
    shared = counter_for(redis_url, "p", 900)
    assert isinstance(shared, RedisCounter)
    shared.client.close()
