"""Counters in this process: exact for one process, what a single node uses."""

from __future__ import annotations

import math
import time
from collections import defaultdict, deque

from chatgrid.limits.windows import TOKEN_BUCKET_MS, WINDOW_MS, Admission, Refusal


class LocalCounters:
    def __init__(self) -> None:
        self._calls: dict[str, deque[float]] = defaultdict(deque)
        self._tokens: dict[str, dict[int, int]] = defaultdict(dict)
        self._in_flight: dict[str, set[str]] = defaultdict(set)

    async def admit(self, admission: Admission, call_id: str) -> Refusal | None:
        now = time.monotonic() * 1000
        for scope, limit in admission.rates:
            calls = self._calls[scope]
            while calls and calls[0] <= now - WINDOW_MS:
                calls.popleft()
            if len(calls) >= limit:
                wait = calls[0] + WINDOW_MS - now
                return Refusal(scope, "requests", limit, max(1, math.ceil(wait / 1000)))
        for scope, limit in admission.token_rates:
            if self._tokens_in_window(scope, now) >= limit:
                return Refusal(scope, "tokens", limit, math.ceil(TOKEN_BUCKET_MS / 1000))
        for scope, limit in admission.concurrency:
            if len(self._in_flight[scope]) >= limit:
                return Refusal(scope, "concurrency", limit, 1)
        for scope, _ in admission.rates:
            self._calls[scope].append(now)
        for scope, _ in admission.concurrency:
            self._in_flight[scope].add(call_id)
        return None

    async def finish(self, admission: Admission, call_id: str, tokens: int) -> None:
        for scope, _ in admission.concurrency:
            self._in_flight[scope].discard(call_id)
        if tokens > 0:
            bucket = int(time.monotonic() * 1000) // TOKEN_BUCKET_MS
            for scope, _ in admission.token_rates:
                buckets = self._tokens[scope]
                buckets[bucket] = buckets.get(bucket, 0) + tokens

    def _tokens_in_window(self, scope: str, now: float) -> int:
        buckets = self._tokens[scope]
        current = int(now) // TOKEN_BUCKET_MS
        oldest = current - WINDOW_MS // TOKEN_BUCKET_MS + 1
        for stale in [b for b in buckets if b < oldest]:
            del buckets[stale]
        return sum(buckets.values())

    async def close(self) -> None:
        return None
