"""Turn an org's policy into counter checks for one call, and refuse in OpenAI's shape."""

from __future__ import annotations

import logging

from redis.exceptions import RedisError

from chatgrid.errors import RateLimited, ServiceUnavailable
from chatgrid.limits.local import LocalCounters
from chatgrid.limits.policy import OrgPolicy
from chatgrid.limits.shared import SharedCounters
from chatgrid.limits.windows import Admission, Refusal
from chatgrid.settings import Settings

log = logging.getLogger(__name__)

NO_ADMISSION = Admission()


class LimitsUnavailable(ServiceUnavailable):
    """Limits are set but cannot be counted (Redis down): refuse rather than let calls through."""

    default_code = "limits_unavailable"


def admission_for(policy: OrgPolicy, org_id: str, member_id: str, *, set_by: str = "") -> Admission:
    """Counter checks for one call; ``set_by="operator:"`` keeps the operator's counters apart."""
    if not policy.limits_requests:
        return NO_ADMISSION
    org, member = f"{set_by}org:{org_id}", f"{set_by}member:{member_id}"
    rates = []
    tokens = []
    if policy.org_rpm:
        rates.append((org, policy.org_rpm))
    if policy.member_rpm:
        rates.append((member, policy.member_rpm))
    if policy.org_tpm:
        tokens.append((org, policy.org_tpm))
    if policy.member_tpm:
        tokens.append((member, policy.member_tpm))
    concurrency = ((member, policy.member_concurrency),) if policy.member_concurrency else ()
    return Admission(tuple(rates), tuple(tokens), concurrency)


def combined(first: Admission, second: Admission) -> Admission:
    if second.empty:
        return first
    if first.empty:
        return second
    return Admission(
        first.rates + second.rates,
        first.token_rates + second.token_rates,
        first.concurrency + second.concurrency,
    )


def _refusal_error(refusal: Refusal) -> RateLimited:
    scope = refusal.scope.removeprefix("operator:")
    who = "your organization" if scope.startswith("org:") else "you"
    setter = (
        "set by ChatGrid's operator for shared credits"
        if refusal.scope.startswith("operator:")
        else "set by your organization's admin"
    )
    if refusal.kind == "requests":
        what = f"{refusal.limit} requests per minute"
    elif refusal.kind == "tokens":
        what = f"{refusal.limit} tokens per minute"
    else:
        what = f"{refusal.limit} requests at a time"
    return RateLimited(
        f"Rate limit reached: {who} may make {what} ({setter}). "
        f"Try again in {refusal.retry_after_seconds}s.",
        retry_after=refusal.retry_after_seconds,
    )


class Limiter:
    """Counts in Redis when replicas share it, in this process otherwise."""

    def __init__(self, settings: Settings) -> None:
        self.counters: LocalCounters | SharedCounters
        if settings.redis_url:
            self.counters = SharedCounters(
                settings.redis_url, settings.redis_prefix, settings.upstream_timeout_seconds
            )
        else:
            self.counters = LocalCounters()

    async def admit(self, admission: Admission, call_id: str) -> None:
        try:
            refusal = await self.counters.admit(admission, call_id)
        except (RedisError, OSError) as exc:
            log.error("limits could not be counted: %s", type(exc).__name__)
            raise LimitsUnavailable(
                "Your organization's rate limits cannot be checked right now; try again shortly."
            ) from None
        if refusal is not None:
            raise _refusal_error(refusal)

    async def finish(self, admission: Admission, call_id: str, tokens: int) -> None:
        try:
            await self.counters.finish(admission, call_id, tokens)
        except (RedisError, OSError) as exc:
            log.error("limits could not be updated after a call: %s", type(exc).__name__)

    async def close(self) -> None:
        await self.counters.close()
