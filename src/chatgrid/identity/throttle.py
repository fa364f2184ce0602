"""Login throttling that an attacker cannot turn against an account's owner.

Following OWASP's guidance on brute force and account lockout, failures are
counted under several keys, and which limits apply depends on how much we
know about the browser asking:

- **A trusted device** — a browser holding a device token this server issued
  when the same account signed in there (``identity.signing``) — is held
  back only by failures made *with that token*. Failures elsewhere, however
  many and from however many addresses, never lock the owner's own browser.
- **The account's usual address** (one it signed in from successfully within
  ``known_address_seconds``) is held back by failures for the account from
  that address, and by that address's own count.
- **Anyone else** is also held back by the account's count of failures from
  untrusted clients, so guesses spread over many addresses still run out.

A correct password never clears the untrusted count (that would hand the
guesser a fresh budget each time the owner signs in); it clears the count of
its own address and device. Emails and addresses are hashed before they
become counter keys.

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
#: Clients an account does not know may fail, all together, this many times the
#: per-(account, address) limit before they must wait (its own browsers need not).
UNTRUSTED_FAILURES_FACTOR = 4


@dataclass(frozen=True)
class ThrottlePolicy:
    #: Failures for one account from one address (and per trusted device).
    max_per_account_and_address: int = 5
    #: Failures from one address, whatever accounts it tries (spraying).
    max_per_address: int = 20
    #: Failures for one account from clients it does not know, all together.
    max_per_account_untrusted: int = 20
    window_seconds: float = 15 * 60
    #: How long a successful sign-in makes its address the account's usual one.
    known_address_seconds: float = 30 * 24 * 3600


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


def counter_for(
    redis_url: str | None, prefix: str, window_seconds: float, *, client: redis.Redis | None = None
) -> FailureCounter:
    if not redis_url:
        return MemoryCounter(window_seconds)
    if client is None:
        client = redis.Redis.from_url(redis_url, socket_timeout=0.5, socket_connect_timeout=0.5)
    return RedisCounter(client, prefix, window_seconds)


def _hashed(*parts: str) -> str:
    return hashlib.sha256("\x00".join(parts).encode("utf-8", "surrogateescape")).hexdigest()


def _email(email: str) -> str:
    return email.strip().lower()


@dataclass(frozen=True)
class Attempt:
    """One password check: for which address, from where, with which trusted device.

    ``device`` is an id already checked by the caller (a device token issued
    to this same account, or the caller's own session); None for a browser we
    know nothing about.
    """

    email: str
    address: str | None
    device: str | None = None

    def account_key(self) -> str:
        return "acct:" + _hashed(_email(self.email))

    def pair_key(self) -> str:
        return "pair:" + _hashed(_email(self.email), self.address or "")

    def address_key(self) -> str | None:
        return "addr:" + _hashed(self.address) if self.address else None

    def device_key(self) -> str | None:
        return "dev:" + _hashed(self.device) if self.device else None


class LoginThrottle:
    def __init__(
        self, counter: FailureCounter, policy: ThrottlePolicy, known: FailureCounter | None = None
    ) -> None:
        self.counter = counter
        self.policy = policy
        #: Marks of (account, address) pairs that signed in successfully.
        self.known = known if known is not None else MemoryCounter(policy.known_address_seconds)

    def _over(
        self, key: str | None, limit: int, counter: FailureCounter | None = None
    ) -> float | None:
        if key is None:
            return None
        count, wait = (counter or self.counter).count(key)
        return wait if count >= limit else None

    def trusted_device(self, attempt: Attempt) -> bool:
        """A device token that has not itself failed too often: only its own count applies."""
        key = attempt.device_key()
        return key is not None and self._over(key, self.policy.max_per_account_and_address) is None

    def usual_address(self, attempt: Attempt) -> bool:
        if not attempt.address:
            return False
        count, _ = self.known.count(attempt.pair_key())
        return count > 0

    def retry_after(self, attempt: Attempt) -> int | None:
        """Seconds to wait when this attempt is refused before any password check, else None."""
        if self.trusted_device(attempt):
            return None
        policy = self.policy
        waits = [
            self._over(attempt.pair_key(), policy.max_per_account_and_address),
            self._over(attempt.address_key(), policy.max_per_address),
        ]
        if not self.usual_address(attempt):
            waits.append(self._over(attempt.account_key(), policy.max_per_account_untrusted))
        found = [wait for wait in waits if wait is not None]
        if not found:
            return None
        return max(1, math.ceil(max(found)))

    def failed(self, attempt: Attempt) -> None:
        device_key = attempt.device_key()
        if device_key is not None and self.trusted_device(attempt):
            self.counter.add(device_key)
            return
        self.counter.add(attempt.pair_key())
        address_key = attempt.address_key()
        if address_key is not None:
            self.counter.add(address_key)
        if not self.usual_address(attempt):
            self.counter.add(attempt.account_key())

    def succeeded(self, attempt: Attempt) -> None:
        """The right password: its address becomes a usual one; its own counts start over.

        The account's count of untrusted failures is left alone, and so is
        the address's count (a sprayer who knows one password learns nothing).
        """
        self.counter.clear(attempt.pair_key())
        device_key = attempt.device_key()
        if device_key is not None:
            self.counter.clear(device_key)
        if attempt.address:
            self.known.clear(attempt.pair_key())
            self.known.add(attempt.pair_key())


def login_throttle(redis_url: str | None, prefix: str, policy: ThrottlePolicy) -> LoginThrottle:
    """Failure counts and usual addresses, both in Redis when it is set (one connection pool)."""
    counter = counter_for(redis_url, prefix, policy.window_seconds)
    client = counter.client if isinstance(counter, RedisCounter) else None
    known = counter_for(redis_url, f"{prefix}:usual", policy.known_address_seconds, client=client)
    return LoginThrottle(counter, policy, known)
