"""Budgets in Redis, shared by replicas: each decision is one atomic script.

Holds live in a hash per scope (reservation id → "amount:expires_at_ms"), so
a reservation whose replica died mid-call expires by itself instead of
holding budget forever. ``spent`` starts from the ledger's sum the first time
a scope is used in a month (set only if absent, so replicas agree).

Settling adds the charge to ``spent`` whenever ``spent`` exists, hold or no
hold: after Redis restarts empty mid-call, ``spent`` may have been reloaded
from a ledger that did not yet hold this call, and dropping its charge would
let the cap be passed. (A reload between this call's ledger commit and its
settle counts it twice: the safe side, and only until next month's reload.)
When ``spent`` is absent it is left so: the next reload reads the ledger,
where the call already is.
"""

from __future__ import annotations

import asyncio

from chatgrid.billing.budgets import Cap, Shortfall, SpentLoader
from chatgrid.redis_client import async_redis

_RESERVE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local amount = tonumber(ARGV[1])
local res_id = ARGV[2]
local expires = now + tonumber(ARGV[3])
local n = (#KEYS) / 2
for i = 1, n do
  local spent = tonumber(redis.call('GET', KEYS[2 * i - 1]) or '0')
  local held = 0
  local holds = redis.call('HGETALL', KEYS[2 * i])
  for j = 1, #holds, 2 do
    local value = holds[j + 1]
    local sep = string.find(value, ':')
    local held_amount = tonumber(string.sub(value, 1, sep - 1))
    local until_ms = tonumber(string.sub(value, sep + 1))
    if until_ms < now then
      redis.call('HDEL', KEYS[2 * i], holds[j])
    else
      held = held + held_amount
    end
  end
  local limit = tonumber(ARGV[3 + i])
  if limit >= 0 and spent + held + amount > limit then
    return {i, limit - spent - held}
  end
end
for i = 1, n do
  redis.call('HSET', KEYS[2 * i], res_id, amount .. ':' .. expires)
  redis.call('PEXPIRE', KEYS[2 * i], tonumber(ARGV[3]) * 2)
end
return {0, 0}
"""

_SETTLE = """
local charged = tonumber(ARGV[1])
local res_id = ARGV[2]
local n = (#KEYS) / 2
local spent = {}
for i = 1, n do
  redis.call('HDEL', KEYS[2 * i], res_id)
  spent[i] = -1
  if redis.call('EXISTS', KEYS[2 * i - 1]) == 1 then
    if charged > 0 then
      spent[i] = redis.call('INCRBY', KEYS[2 * i - 1], charged)
    else
      spent[i] = tonumber(redis.call('GET', KEYS[2 * i - 1]))
    end
  end
end
return spent
"""

_SPENT_TTL_SECONDS = 40 * 24 * 3600


class SharedBudgets:
    def __init__(self, url: str, prefix: str, load_spent: SpentLoader, hold_seconds: float) -> None:
        self._redis = async_redis(url)
        self._prefix = f"{prefix}:budget:"
        self._load_spent = load_spent
        self._hold_ms = int(hold_seconds * 1000)
        self._reserve = self._redis.register_script(_RESERVE)
        self._settle = self._redis.register_script(_SETTLE)
        self._scopes: dict[str, tuple[str, ...]] = {}

    def _keys(self, scopes: tuple[str, ...]) -> list[str]:
        keys: list[str] = []
        for scope in scopes:
            keys += [f"{self._prefix}spent:{scope}", f"{self._prefix}held:{scope}"]
        return keys

    async def _ensure_spent(self, scopes: tuple[str, ...]) -> None:
        for scope in scopes:
            key = f"{self._prefix}spent:{scope}"
            if not await self._redis.exists(key):
                spent = await asyncio.to_thread(self._load_spent, scope)
                await self._redis.set(key, spent, nx=True, ex=_SPENT_TTL_SECONDS)

    async def reserve(self, reservation_id: str, caps: list[Cap], amount: int) -> Shortfall | None:
        scopes = tuple(c.scope for c in caps)
        await self._ensure_spent(scopes)
        result = await self._reserve(
            keys=self._keys(scopes),
            args=[amount, reservation_id, self._hold_ms, *(_limit_arg(c) for c in caps)],
        )
        index = int(result[0])
        if index == 0:
            self._scopes[reservation_id] = scopes
            return None
        cap = caps[index - 1]
        assert cap.limit_micros is not None  # an uncapped scope never refuses
        return Shortfall(cap.scope, cap.limit_micros, max(0, int(result[1])), cap.label)

    async def settle(self, reservation_id: str, charged: int) -> dict[str, int]:
        """Each scope's spend after this charge, where Redis still counts it."""
        scopes = self._scopes.pop(reservation_id, None)
        if scopes is None:
            return {}
        spent = await self._settle(keys=self._keys(scopes), args=[charged, reservation_id])
        return {scope: int(value) for scope, value in zip(scopes, spent, strict=True) if value >= 0}

    async def release(self, reservation_id: str) -> None:
        await self.settle(reservation_id, 0)

    async def snapshot(self, scope: str) -> tuple[int, int]:
        spent = int(await self._redis.get(f"{self._prefix}spent:{scope}") or 0)
        holds = await self._redis.hgetall(f"{self._prefix}held:{scope}")
        held = sum(_held_amount(value) for value in holds.values())
        return spent, held

    async def close(self) -> None:
        await self._redis.aclose()


def _limit_arg(cap: Cap) -> int:
    """A cap as the script reads it: -1 for a scope that is counted but never refuses."""
    return -1 if cap.limit_micros is None else cap.limit_micros


def _held_amount(value: bytes | str) -> int:
    """A hold is stored as "amount:expires_at_ms"."""
    text = value.decode() if isinstance(value, bytes) else value
    return int(text.split(":", 1)[0])
