"""Reservations never let a cap be passed, on one node or across Redis."""

from __future__ import annotations

import asyncio
import random
import secrets
from datetime import date

import pytest
import redis
from hypothesis import given, settings
from hypothesis import strategies as st

from chatgrid.billing.budgets import Cap, LocalBudgets
from chatgrid.billing.shared_budgets import SharedBudgets
from chatgrid.billing.worst_case import worst_case_charge, worst_case_usage
from chatgrid.ledger.pricing import Price, Usage, cost_of

REDIS_URL = "redis://127.0.0.1:6379/0"
PRICE = Price("gpt-4o-mini", date(2025, 1, 1), 150_000, 75_000, 600_000)


def budgets(kind: str, spent: int = 0) -> LocalBudgets | SharedBudgets:
    if kind == "local":
        return LocalBudgets(lambda scope: spent)
    return SharedBudgets(REDIS_URL, f"cgtest-{secrets.token_hex(4)}", lambda scope: spent, 60)


async def close(store: LocalBudgets | SharedBudgets) -> None:
    if isinstance(store, SharedBudgets):
        await store.close()


@pytest.mark.parametrize("kind", ["local", "redis"])
def test_concurrent_reservations_never_pass_the_cap(kind: str) -> None:
    caps = [Cap("org:o1:2026-11", 1_000_000), Cap("member:m1:2026-11", 600_000)]

    async def scenario() -> tuple[int, int, int]:
        store = budgets(kind)
        amounts = [random.randint(1_000, 50_000) for _ in range(200)]

        async def one(i: int, amount: int) -> int:
            refused = await store.reserve(f"r{i}", caps, amount)
            if refused is not None:
                return 0
            await asyncio.sleep(random.random() / 100)
            charged = random.randint(0, amount)  # the real cost is at most the worst case
            if random.random() < 0.3:
                await store.release(f"r{i}")  # a failed or cancelled call
                return 0
            await store.settle(f"r{i}", charged)
            return charged

        charged = await asyncio.gather(*(one(i, a) for i, a in enumerate(amounts)))
        spent, held = await store.snapshot("member:m1:2026-11")
        await close(store)
        return sum(charged), spent, held

    total, spent, held = asyncio.run(scenario())
    assert total == spent
    assert spent <= 600_000
    assert held == 0  # every reservation settled or released


@pytest.mark.parametrize("kind", ["local", "redis"])
def test_after_the_dust_settles_the_next_call_is_judged_on_what_was_spent(kind: str) -> None:
    caps = [Cap("org:o2:2026-11", 100)]

    async def scenario() -> list[bool]:
        store = budgets(kind, spent=40)
        first = await store.reserve("a", caps, 60) is None  # 40 + 60 = 100: fits exactly
        second = await store.reserve("b", caps, 1) is None  # held 60: no room
        await store.settle("a", 10)  # it cost 10 in the end
        third = await store.reserve("c", caps, 50) is None  # 40 + 10 + 50 = 100: fits
        fourth = await store.reserve("d", caps, 1) is None
        await close(store)
        return [first, second, third, fourth]

    assert asyncio.run(scenario()) == [True, False, True, False]


@pytest.mark.parametrize("kind", ["local", "redis"])
def test_a_shortfall_says_how_much_is_left(kind: str) -> None:
    async def scenario() -> object:
        store = budgets(kind, spent=70)
        refusal = await store.reserve("x", [Cap("org:o3:2026-11", 100)], 50)
        await close(store)
        return refusal

    refusal = asyncio.run(scenario())
    assert refusal is not None
    assert refusal.remaining_micros == 30  # type: ignore[attr-defined]


def test_an_abandoned_redis_hold_expires() -> None:
    async def scenario() -> list[bool]:
        store = SharedBudgets(REDIS_URL, f"cgtest-{secrets.token_hex(4)}", lambda s: 0, 0.2)
        caps = [Cap("org:o4:2026-11", 100)]
        first = await store.reserve("dead-replica", caps, 100) is None
        blocked = await store.reserve("b", caps, 1) is None
        await asyncio.sleep(0.3)
        later = await store.reserve("c", caps, 100) is None
        await store.close()
        return [first, blocked, later]

    assert asyncio.run(scenario()) == [True, False, True]


@settings(max_examples=200, deadline=None)
@given(
    text=st.text(max_size=400),
    max_tokens=st.one_of(st.none(), st.integers(1, 5000)),
    n=st.integers(1, 4),
    real_prompt_share=st.floats(0, 1),
)
def test_the_worst_case_is_never_below_a_real_cost(
    text: str, max_tokens: int | None, n: int, real_prompt_share: float
) -> None:
    request: dict[str, object] = {"messages": [{"role": "user", "content": text}], "n": n}
    if max_tokens is not None:
        request["max_tokens"] = max_tokens
    bound = worst_case_usage("chat", request, "gpt-4o-mini")
    # Any real usage: prompt tokens at most the UTF-8 bytes, completion at most the cap.
    real = Usage(
        prompt_tokens=int(len(text.encode()) * real_prompt_share) + 3,
        cached_tokens=0,
        completion_tokens=bound.completion_tokens,
    )
    real_cost = cost_of(real, PRICE, markup_bps=2000, charge_tokens=True).charged_micros
    assert worst_case_charge("chat", request, PRICE, 2000) >= real_cost


def test_completion_bound_uses_max_tokens_or_the_model_limit() -> None:
    assert (
        worst_case_usage(
            "chat", {"messages": [], "max_tokens": 10, "n": 2}, "gpt-4o"
        ).completion_tokens
        == 20
    )
    assert worst_case_usage("chat", {"messages": []}, "gpt-4o").completion_tokens == 16_384
    assert worst_case_usage("embeddings", {"input": ["ab", "cde"]}, "x").prompt_tokens == 5


def _forget_everything(prefix: str) -> None:
    """What a Redis restart without persistence does to the budget keys."""
    client = redis.Redis.from_url(REDIS_URL)
    for key in client.scan_iter(f"{prefix}*"):
        client.delete(key)
    client.close()


def test_a_call_in_flight_across_a_redis_restart_still_counts_against_the_cap() -> None:
    """Its hold is lost and ``spent`` is reloaded from a ledger that lacks it yet."""
    prefix = f"cgtest-{secrets.token_hex(4)}"
    ledger_sum = {"value": 0}

    async def scenario() -> tuple[int, int, bool]:
        store = SharedBudgets(REDIS_URL, prefix, lambda s: ledger_sum["value"], 60)
        caps = [Cap("org:o5:2026-11", 100)]
        assert await store.reserve("in-flight", caps, 60) is None
        _forget_everything(prefix)
        assert await store.reserve("other", caps, 10) is None  # reloads spent: 0
        await store.settle("other", 10)
        ledger_sum["value"] = 70  # the in-flight call's row commits, then it settles
        await store.settle("in-flight", 60)
        spent, held = await store.snapshot(caps[0].scope)
        refused = await store.reserve("next", caps, 31) is not None
        await store.close()
        return spent, held, refused

    assert asyncio.run(scenario()) == (70, 0, True)


def test_a_settle_after_a_redis_restart_leaves_spent_to_the_ledger() -> None:
    """No ``spent`` key yet: the next reload reads the ledger, which holds the call."""
    prefix = f"cgtest-{secrets.token_hex(4)}"
    ledger_sum = {"value": 0}

    async def scenario() -> tuple[int, bool]:
        store = SharedBudgets(REDIS_URL, prefix, lambda s: ledger_sum["value"], 60)
        caps = [Cap("org:o6:2026-11", 100)]
        assert await store.reserve("in-flight", caps, 60) is None
        _forget_everything(prefix)
        ledger_sum["value"] = 60
        await store.settle("in-flight", 60)
        refused = await store.reserve("next", caps, 50) is not None
        spent, _ = await store.snapshot(caps[0].scope)
        await store.close()
        return spent, refused

    assert asyncio.run(scenario()) == (60, True)
