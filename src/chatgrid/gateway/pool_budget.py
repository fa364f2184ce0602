"""Each pooled key's own requests- and tokens-per-minute budget at the upstream.

The count that decides is the limits' counters (``limits/``: Redis when
replicas share it, this process otherwise), under a ``pool:<key id>`` scope:
a request is counted when it is admitted on a key, its tokens when the call
ends. Asking the counters costs a Redis round trip, so it is only done for a
key that has a budget; a key without one is admitted for free.

Beside it, each process keeps a mirror of what *it* admitted on each key in
the last minute. The mirror never decides a refusal alone except when it is
already spent (what one process counted, every replica together counted at
least as much), so it is safe to skip such a key without asking. Otherwise it
only makes the choice prefer keys with more headroom left.
"""

from __future__ import annotations

import logging
import math
import time
from collections import deque
from collections.abc import Callable

from redis.exceptions import RedisError

from chatgrid.gateway.directory import PoolTarget
from chatgrid.limits.enforcer import LimitsUnavailable
from chatgrid.limits.local import LocalCounters
from chatgrid.limits.shared import SharedCounters
from chatgrid.limits.windows import TOKEN_BUCKET_MS, WINDOW_MS, Admission

log = logging.getLogger(__name__)

_WINDOW_S = WINDOW_MS / 1000
_BUCKET_S = TOKEN_BUCKET_MS / 1000


def key_admission(target: PoolTarget) -> Admission:
    """The counter checks one call makes on a key (empty: the key has no budget)."""
    scope = f"pool:{target.key_id}"
    return Admission(
        rates=((scope, target.rpm_limit),) if target.rpm_limit else (),
        token_rates=((scope, target.tpm_limit),) if target.tpm_limit else (),
    )


class _Mirror:
    """What this process admitted on one key in the last minute (requests, tokens)."""

    __slots__ = ("requests", "tokens")

    def __init__(self) -> None:
        self.requests: deque[float] = deque()
        self.tokens: dict[int, int] = {}

    def used(self, now: float) -> tuple[int, int]:
        while self.requests and self.requests[0] <= now - _WINDOW_S:
            self.requests.popleft()
        oldest = int(now // _BUCKET_S) - int(_WINDOW_S // _BUCKET_S) + 1
        for stale in [b for b in self.tokens if b < oldest]:
            del self.tokens[stale]
        return len(self.requests), sum(self.tokens.values())


class PoolBudget:
    """Per-process view of the pooled keys' budgets; the counters are shared."""

    def __init__(
        self,
        counters: LocalCounters | SharedCounters,
        on_exhausted: Callable[[PoolTarget], object] | None = None,
    ) -> None:
        self.counters = counters
        #: Told when the counters refuse a key (its minute's budget is spent): the alert.
        self.on_exhausted = on_exhausted
        self._mirrors: dict[str, _Mirror] = {}
        # Set aside after the counters refused, until the window frees; a
        # changed budget (the operator raised it) ends that at once.
        self._spent_until: dict[str, tuple[float, int | None, int | None]] = {}

    def headroom(self, target: PoolTarget) -> float:
        """0 (spent: skip it) to 1 (untouched, or no budget at all)."""
        if not (target.rpm_limit or target.tpm_limit):
            return 1.0
        now = time.monotonic()
        until = self._spent(target, now)
        if until is not None:
            return 0.0
        mirror = self._mirrors.get(target.key_id)
        if mirror is None:
            return 1.0
        requests, tokens = mirror.used(now)
        left = 1.0
        if target.rpm_limit:
            left = min(left, 1 - requests / target.rpm_limit)
        if target.tpm_limit:
            left = min(left, 1 - tokens / target.tpm_limit)
        return max(0.0, left)

    def wait_seconds(self, targets: list[PoolTarget]) -> int:
        """How long until the first of these spent keys may have room again."""
        now = time.monotonic()
        waits = []
        for target in targets:
            until = self._spent(target, now)
            if until is not None:
                waits.append(until - now)
                continue
            mirror = self._mirrors.get(target.key_id)
            if mirror is not None and mirror.requests:
                waits.append(mirror.requests[0] + _WINDOW_S - now)
            else:
                waits.append(_BUCKET_S)
        return max(1, math.ceil(min(waits))) if waits else 1

    async def admit(self, target: PoolTarget, call_id: str) -> bool:
        """Count one request on the key; False (and the key set aside) when it has no room."""
        admission = key_admission(target)
        if admission.empty:
            return True
        try:
            refusal = await self.counters.admit(admission, call_id)
        except (RedisError, OSError) as exc:
            log.error("pooled key budgets could not be counted: %s", type(exc).__name__)
            raise LimitsUnavailable(
                "Shared capacity cannot be checked right now; try again shortly."
            ) from None
        if refusal is not None:
            until = time.monotonic() + refusal.retry_after_seconds
            self._spent_until[target.key_id] = (until, target.rpm_limit, target.tpm_limit)
            self.exhausted(target)
            return False
        self._mirror(target.key_id).requests.append(time.monotonic())
        return True

    def exhausted(self, target: PoolTarget) -> None:
        """The key has no room left this minute (the counters, or this process's mirror, say so)."""
        if self.on_exhausted is not None:
            self.on_exhausted(target)

    async def settle(self, target: PoolTarget, call_id: str, tokens: int) -> None:
        """Add a finished call's tokens to its key's minute (nothing to do without a tpm budget)."""
        if tokens <= 0 or not target.tpm_limit:
            return
        bucket = int(time.monotonic() // _BUCKET_S)
        mirror = self._mirror(target.key_id)
        mirror.tokens[bucket] = mirror.tokens.get(bucket, 0) + tokens
        try:
            await self.counters.finish(key_admission(target), call_id, tokens)
        except (RedisError, OSError) as exc:
            log.error("pooled key tokens could not be counted: %s", type(exc).__name__)

    def _spent(self, target: PoolTarget, now: float) -> float | None:
        """Until when the counters said the key has no room (None: not known to be spent)."""
        found = self._spent_until.get(target.key_id)
        if found is None:
            return None
        until, rpm, tpm = found
        if until <= now or (rpm, tpm) != (target.rpm_limit, target.tpm_limit):
            del self._spent_until[target.key_id]
            return None
        return until

    def _mirror(self, key_id: str) -> _Mirror:
        mirror = self._mirrors.get(key_id)
        if mirror is None:
            mirror = self._mirrors[key_id] = _Mirror()
        return mirror
