"""The counters behind rate limits, in process and in Redis, judged the same way."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Iterator

import pytest

from chatgrid.errors import InvalidRequest
from chatgrid.limits.enforcer import admission_for
from chatgrid.limits.local import LocalCounters
from chatgrid.limits.policy import OrgPolicy
from chatgrid.limits.shared import SharedCounters
from chatgrid.limits.windows import Admission

REDIS_URL = "redis://127.0.0.1:6379/0"


@pytest.fixture(params=["local", "redis"])
def counters(request: pytest.FixtureRequest) -> Iterator[LocalCounters | SharedCounters]:
    if request.param == "local":
        yield LocalCounters()
        return
    shared = SharedCounters(REDIS_URL, f"cgtest-{secrets.token_hex(4)}", stale_seconds=600)
    yield shared
    asyncio.run(shared.close())


def test_requests_per_minute_admits_exactly_the_limit(
    counters: LocalCounters | SharedCounters,
) -> None:
    admission = Admission(rates=(("member:m1", 3),))

    async def scenario() -> list[bool]:
        results = [await counters.admit(admission, f"c{i}") is None for i in range(5)]
        if isinstance(counters, SharedCounters):
            await counters.close()
        return results

    assert asyncio.run(scenario()) == [True, True, True, False, False]


def test_a_refusal_says_which_limit_and_when_to_retry(
    counters: LocalCounters | SharedCounters,
) -> None:
    admission = Admission(rates=(("org:o1", 10), ("member:m1", 1)))

    async def scenario() -> object:
        await counters.admit(admission, "c1")
        refusal = await counters.admit(admission, "c2")
        if isinstance(counters, SharedCounters):
            await counters.close()
        return refusal

    refusal = asyncio.run(scenario())
    assert refusal is not None
    assert refusal.scope == "member:m1" and refusal.kind == "requests"  # type: ignore[attr-defined]
    assert 1 <= refusal.retry_after_seconds <= 60  # type: ignore[attr-defined]


def test_a_refused_call_counts_against_no_limit(counters: LocalCounters | SharedCounters) -> None:
    admission = Admission(rates=(("org:o1", 2), ("member:m1", 1)))

    async def scenario() -> list[bool]:
        first = await counters.admit(admission, "c1") is None
        second = await counters.admit(admission, "c2") is None  # member limit refuses
        other_member = Admission(rates=(("org:o1", 2), ("member:m2", 1)))
        third = await counters.admit(other_member, "c3") is None  # org has room for one more
        if isinstance(counters, SharedCounters):
            await counters.close()
        return [first, second, third]

    assert asyncio.run(scenario()) == [True, False, True]


def test_concurrency_is_released_when_a_call_finishes(
    counters: LocalCounters | SharedCounters,
) -> None:
    admission = Admission(concurrency=(("member:m1", 1),))

    async def scenario() -> list[bool]:
        first = await counters.admit(admission, "c1") is None
        second = await counters.admit(admission, "c2") is None
        await counters.finish(admission, "c1", tokens=0)
        third = await counters.admit(admission, "c3") is None
        if isinstance(counters, SharedCounters):
            await counters.close()
        return [first, second, third]

    assert asyncio.run(scenario()) == [True, False, True]


def test_tokens_per_minute_refuse_once_spent(counters: LocalCounters | SharedCounters) -> None:
    admission = Admission(token_rates=(("org:o1", 100),))

    async def scenario() -> list[bool]:
        first = await counters.admit(admission, "c1") is None
        await counters.finish(admission, "c1", tokens=120)
        second = await counters.admit(admission, "c2") is None
        if isinstance(counters, SharedCounters):
            await counters.close()
        return [first, second]

    assert asyncio.run(scenario()) == [True, False]


def test_admission_follows_the_policy() -> None:
    assert admission_for(OrgPolicy(), "o", "m").empty
    policy = OrgPolicy(org_rpm=10, member_tpm=500, member_concurrency=2)
    admission = admission_for(policy, "o", "m")
    assert admission.rates == (("org:o", 10),)
    assert admission.token_rates == (("member:m", 500),)
    assert admission.concurrency == (("member:m", 2),)


@pytest.mark.parametrize("bad", [0, -1, True, 10**12])
def test_policy_values_are_checked(bad: int) -> None:
    with pytest.raises(InvalidRequest):
        OrgPolicy(member_rpm=bad)


def test_allowed_models() -> None:
    assert OrgPolicy().allows("anything")
    policy = OrgPolicy(allowed_models=frozenset({"gpt-4o-mini"}))
    assert policy.allows("gpt-4o-mini") and not policy.allows("gpt-4o")
