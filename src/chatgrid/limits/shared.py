"""Counters in Redis, shared by every replica, each decision one atomic script.

Time is Redis's own clock (``TIME``), so replicas' clocks do not matter.

Requests per minute is a sliding log (a sorted set of call timestamps), so
"at most N in any minute" holds exactly across replicas. Tokens per minute
sums six 10-second buckets. Concurrency is a sorted set of the calls in
flight, scored by start time so a crashed replica's entries age out.
"""

from __future__ import annotations

import math
import time

from chatgrid.limits.windows import TOKEN_BUCKET_MS, WINDOW_MS, Admission, Refusal
from chatgrid.redis_client import async_redis

_ADMIT = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local window = tonumber(ARGV[2])
local bucket_ms = tonumber(ARGV[3])
local stale_ms = tonumber(ARGV[4])
local call_id = ARGV[5]
local n_rates = tonumber(ARGV[6])
local n_tokens = tonumber(ARGV[7])
local n_conc = tonumber(ARGV[8])
local limits_at = 9
local k = 1
for i = 1, n_rates do
  local key = KEYS[k]
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
  if redis.call('ZCARD', key) >= tonumber(ARGV[limits_at + k - 1]) then
    local oldest = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')[2]
    return {k, 1, tonumber(oldest) + window - now}
  end
  k = k + 1
end
local current = math.floor(now / bucket_ms)
for i = 1, n_tokens do
  local key = KEYS[k]
  local total = 0
  for b = current - 5, current do
    total = total + tonumber(redis.call('HGET', key, tostring(b)) or '0')
  end
  if total >= tonumber(ARGV[limits_at + k - 1]) then
    return {k, 2, bucket_ms}
  end
  k = k + 1
end
for i = 1, n_conc do
  local key = KEYS[k]
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now - stale_ms)
  if redis.call('ZCARD', key) >= tonumber(ARGV[limits_at + k - 1]) then
    return {k, 3, 1000}
  end
  k = k + 1
end
k = 1
for i = 1, n_rates do
  redis.call('ZADD', KEYS[k], now, call_id)
  redis.call('PEXPIRE', KEYS[k], window)
  k = k + 1
end
k = k + n_tokens
for i = 1, n_conc do
  redis.call('ZADD', KEYS[k], now, call_id)
  redis.call('PEXPIRE', KEYS[k], stale_ms)
  k = k + 1
end
return {0}
"""

_FINISH = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local bucket_ms = tonumber(ARGV[2])
local tokens = tonumber(ARGV[3])
local call_id = ARGV[4]
local n_tokens = tonumber(ARGV[5])
local current = tostring(math.floor(now / bucket_ms))
for i = 1, #KEYS do
  if i <= n_tokens then
    if tokens > 0 then
      redis.call('HINCRBY', KEYS[i], current, tokens)
      redis.call('PEXPIRE', KEYS[i], bucket_ms * 7)
    end
  else
    redis.call('ZREM', KEYS[i], call_id)
  end
end
return 0
"""

_KINDS = {1: "requests", 2: "tokens", 3: "concurrency"}


class SharedCounters:
    def __init__(self, url: str, prefix: str, stale_seconds: float) -> None:
        self._redis = async_redis(url)
        self._prefix = f"{prefix}:limits:"
        self._stale_ms = int(stale_seconds * 1000)
        self._admit = self._redis.register_script(_ADMIT)
        self._finish = self._redis.register_script(_FINISH)

    def _keys(self, admission: Admission) -> list[str]:
        p = self._prefix
        return (
            [f"{p}rpm:{scope}" for scope, _ in admission.rates]
            + [f"{p}tpm:{scope}" for scope, _ in admission.token_rates]
            + [f"{p}conc:{scope}" for scope, _ in admission.concurrency]
        )

    async def admit(self, admission: Admission, call_id: str) -> Refusal | None:
        limits = [*admission.rates, *admission.token_rates, *admission.concurrency]
        result = await self._admit(
            keys=self._keys(admission),
            args=[
                int(time.time() * 1000),
                WINDOW_MS,
                TOKEN_BUCKET_MS,
                self._stale_ms,
                call_id,
                len(admission.rates),
                len(admission.token_rates),
                len(admission.concurrency),
                *(limit for _, limit in limits),
            ],
        )
        index = int(result[0])
        if index == 0:
            return None
        scope, limit = limits[index - 1]
        wait_ms = float(result[2])
        return Refusal(scope, _KINDS[int(result[1])], limit, max(1, math.ceil(wait_ms / 1000)))

    async def finish(self, admission: Admission, call_id: str, tokens: int) -> None:
        keys = [f"{self._prefix}tpm:{scope}" for scope, _ in admission.token_rates] + [
            f"{self._prefix}conc:{scope}" for scope, _ in admission.concurrency
        ]
        if not keys:
            return
        await self._finish(
            keys=keys,
            args=[
                int(time.time() * 1000),
                TOKEN_BUCKET_MS,
                tokens,
                call_id,
                len(admission.token_rates),
            ],
        )

    async def close(self) -> None:
        await self._redis.aclose()
