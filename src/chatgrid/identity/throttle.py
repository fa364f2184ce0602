"""Login throttling: too many failed sign-ins for one email, or from one address.

Failures are counted per email (so one account cannot be guessed at) and per
client address (so one machine cannot spray many accounts). Once a count
reaches its limit, sign-in is refused for the rest of the window, even with
the right password. Emails are hashed before they become counter keys.

Counters live in Redis when ``CHATGRID_REDIS_URL`` is set, so every replica
sees the same count; in the process otherwise. If Redis cannot be reached,
counting falls back to the process (logged), so throttling weakens to
per-replica instead of switching off or locking everyone out.
"""

from __future__ import annotations

import hashlib
import logging
import math
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import redis

log = logging.getLogger(__name__)

_MAX_TRACKED_KEYS = 100_000


@dataclass(frozen=True)
class ThrottlePolicy:
    max_per_email: int = 5
    max_per_address: int = 20
    window_seconds: float = 15 * 60


class FailureCounter(Protocol):
    def count(self, key: str) -> tuple[int, float]:
        """How many failures in the window, and seconds until the oldest one expires."""
        ...

    def add(self, key: str) -> None: ...

    def clear(self, key: str) -> None: ...


class MemoryCounter:
    """A sliding window per key, in this process."""

    def __init__(self, window_seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.window = window_seconds
        self.clock = clock
        self._lock = threading.Lock()
        self._failures: dict[str, deque[float]] = {}

    def _live(self, key: str, now: float) -> deque[float]:
        failures = self._failures.get(key)
        if failures is None:
            return deque()
        while failures and failures[0] <= now - self.window:
            failures.popleft()
        if not failures:
            del self._failures[key]
        return failures

    def count(self, key: str) -> tuple[int, float]:
        with self._lock:
            now = self.clock()
            failures = self._live(key, now)
            if not failures:
                return 0, 0.0
            return len(failures), failures[0] + self.window - now

    def add(self, key: str) -> None:
        with self._lock:
            now = self.clock()
            if key not in self._failures and len(self._failures) >= _MAX_TRACKED_KEYS:
                self._prune(now)
            self._live(key, now)
            self._failures.setdefault(key, deque()).append(now)

    def clear(self, key: str) -> None:
        with self._lock:
            self._failures.pop(key, None)

    def _prune(self, now: float) -> None:
        for key in list(self._failures):
            self._live(key, now)
        while len(self._failures) >= _MAX_TRACKED_KEYS:
            # Still full of live keys: forget the oldest rather than grow without bound.
            del self._failures[next(iter(self._failures))]


class RedisCounter:
    """A fixed window per key in Redis, shared by every replica; falls back to memory.

    After a Redis error the counter stays on its in-process fallback for a few
    seconds instead of paying a connection timeout on every sign-in.
    """

    retry_redis_after_seconds = 5.0

    def __init__(self, client: redis.Redis, prefix: str, window_seconds: float) -> None:
        self.client = client
        self.prefix = f"{prefix}:login:"
        self.window = max(1, math.ceil(window_seconds))
        self.fallback = MemoryCounter(window_seconds)
        self._down_until = 0.0

    def count(self, key: str) -> tuple[int, float]:
        local = self.fallback.count(key)
        if self._redis_down():
            return local
        try:
            pipe = self.client.pipeline()
            pipe.get(self.prefix + key)
            pipe.ttl(self.prefix + key)
            raw, ttl = pipe.execute()
        except redis.RedisError as exc:
            self._failed(exc)
            return local
        shared = (int(raw or 0), float(max(int(ttl), 0)))
        # Failures counted here while Redis was down still count.
        return local if local[0] > shared[0] else shared

    def add(self, key: str) -> None:
        if self._redis_down():
            self.fallback.add(key)
            return
        try:
            # The window starts at the first failure; INCR keeps the key's expiry.
            pipe = self.client.pipeline()
            pipe.set(self.prefix + key, 0, ex=self.window, nx=True)
            pipe.incr(self.prefix + key)
            pipe.execute()
        except redis.RedisError as exc:
            self._failed(exc)
            self.fallback.add(key)

    def clear(self, key: str) -> None:
        self.fallback.clear(key)
        if self._redis_down():
            return
        try:
            self.client.delete(self.prefix + key)
        except redis.RedisError as exc:
            self._failed(exc)

    def _redis_down(self) -> bool:
        return time.monotonic() < self._down_until

    def _failed(self, exc: redis.RedisError) -> None:
        self._down_until = time.monotonic() + self.retry_redis_after_seconds
        log.warning(
            "login throttling cannot reach Redis (%s); counting in this process",
            type(exc).__name__,
        )


def counter_for(redis_url: str | None, prefix: str, window_seconds: float) -> FailureCounter:
    if not redis_url:
        return MemoryCounter(window_seconds)
    client = redis.Redis.from_url(redis_url, socket_timeout=0.5, socket_connect_timeout=0.5)
    return RedisCounter(client, prefix, window_seconds)


def _email_key(email: str) -> str:
    return "email:" + hashlib.sha256(email.strip().lower().encode()).hexdigest()


def _address_key(address: str | None) -> str | None:
    return f"addr:{address}" if address else None


class LoginThrottle:
    def __init__(self, counter: FailureCounter, policy: ThrottlePolicy) -> None:
        self.counter = counter
        self.policy = policy

    def retry_after(self, email: str, address: str | None) -> int | None:
        """Seconds to wait when sign-in is refused for this email or address, else None."""
        waits = []
        count, wait = self.counter.count(_email_key(email))
        if count >= self.policy.max_per_email:
            waits.append(wait)
        address_key = _address_key(address)
        if address_key is not None:
            count, wait = self.counter.count(address_key)
            if count >= self.policy.max_per_address:
                waits.append(wait)
        if not waits:
            return None
        return max(1, math.ceil(max(waits)))

    def failed(self, email: str, address: str | None) -> None:
        self.counter.add(_email_key(email))
        address_key = _address_key(address)
        if address_key is not None:
            self.counter.add(address_key)

    def succeeded(self, email: str) -> None:
        """A right password clears the email's count (never the address's)."""
        self.counter.clear(_email_key(email))
