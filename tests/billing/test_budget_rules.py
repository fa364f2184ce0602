"""Which counters a call counts in, when thresholds are reached, and soft caps in the stores."""

from __future__ import annotations

import asyncio
import secrets
from datetime import UTC, datetime

import pytest

from chatgrid.billing.budget_rules import (
    DEFAULT_THRESHOLDS,
    Budget,
    BudgetScope,
    TeamRef,
    Watched,
    counters_for_call,
    members_digest,
    parse_counter_scope,
    parse_thresholds,
    thresholds_reached,
)
from chatgrid.billing.budgets import Cap, LocalBudgets
from chatgrid.billing.shared_budgets import SharedBudgets
from chatgrid.errors import InvalidRequest

REDIS_URL = "redis://127.0.0.1:6379/0"
WHEN = datetime(2026, 11, 5, tzinfo=UTC)


def budget(scope: BudgetScope, subject: str, limit: int, hard: bool = True) -> Budget:
    return Budget(
        f"budget_{subject}", "org_1", scope, subject, limit, hard, DEFAULT_THRESHOLDS, WHEN, None
    )


def test_thresholds_parse_strictly() -> None:
    assert parse_thresholds(None) == (50, 80, 100)
    assert parse_thresholds("100, 50%,80,50") == (50, 80, 100)
    assert parse_thresholds([120, 90]) == (90, 120)
    assert parse_thresholds("none") == () and parse_thresholds("") == ()
    for bad in ("0", "1001", "abc", "50,,80", "-5", ",".join(str(i) for i in range(1, 12))):
        with pytest.raises(InvalidRequest):
            parse_thresholds(bad)


def test_a_call_counts_in_the_org_its_teams_and_its_own_budget_only() -> None:
    team = TeamRef("team_a", "Research", members_digest(["m1", "m2"]))
    rules = [
        budget(BudgetScope.ORG, "org_1", 5_000_000, hard=False),
        budget(BudgetScope.TEAM, "team_a", 500_000),
        budget(BudgetScope.TEAM, "team_b", 1),  # a team the member is not in
        budget(BudgetScope.MEMBER, "m1", 200_000),
        budget(BudgetScope.MEMBER, "m2", 1),  # someone else's cap
    ]
    counters = counters_for_call(
        org_id="org_1",
        member_id="m1",
        month="2026-11",
        byok=False,
        budgets=rules,
        teams=[team],
        names={"team_a": "Research"},
        allowance_micros=3_000_000,
    )
    by_scope = {c.scope: c for c in counters}
    assert set(by_scope) == {
        "org:org_1:2026-11",
        f"team:team_a~{team.members_digest}:2026-11",
        "member:m1:2026-11",
    }
    org = by_scope["org:org_1:2026-11"]  # the allowance and the soft org budget share a counter
    assert org.limit_micros == 3_000_000 and len(org.watched) == 2
    assert org.binding is not None and org.binding.key == "allowance:org_1"
    assert by_scope[f"team:team_a~{team.members_digest}:2026-11"].binding is not None


def test_byok_counters_are_apart_and_have_no_allowance() -> None:
    counters = counters_for_call(
        org_id="org_1",
        member_id="m1",
        month="2026-11",
        byok=True,
        budgets=[budget(BudgetScope.ORG, "org_1", 10, hard=False)],
        teams=[],
        names={},
        allowance_micros=3_000_000,
    )
    [counter] = counters
    assert counter.scope == "byok_org:org_1:2026-11" and counter.limit_micros is None
    assert parse_counter_scope("byok_team:team_a~abc:2026-11") == (
        "team",
        "team_a",
        "2026-11",
        True,
    )


def test_the_team_digest_names_who_is_in_it() -> None:
    assert members_digest(["b", "a"]) == members_digest(["a", "b"])
    assert members_digest(["a"]) != members_digest(["a", "b"])


def test_thresholds_are_reached_exactly() -> None:
    watched = Watched("b", "x", "x", 1_000, True, (50, 80, 100))
    assert thresholds_reached(watched, 499) == []
    assert thresholds_reached(watched, 500) == [50]
    assert thresholds_reached(watched, 1_000) == [50, 80, 100]
    zero = Watched("b", "x", "x", 0, True, (50,))
    assert thresholds_reached(zero, 0) == [] and thresholds_reached(zero, 1) == [50]


@pytest.mark.parametrize("kind", ["local", "redis"])
def test_a_soft_cap_counts_but_never_refuses_and_settle_answers_the_spend(kind: str) -> None:
    async def scenario() -> tuple[object, object, dict[str, int], dict[str, int]]:
        store: LocalBudgets | SharedBudgets
        if kind == "local":
            store = LocalBudgets(lambda scope: 40)
        else:
            store = SharedBudgets(REDIS_URL, f"cgtest-{secrets.token_hex(4)}", lambda s: 40, 60)
        soft, hard = Cap("org:o:2026-11", None, "soft"), Cap("member:m:2026-11", 100, "cap")
        try:
            first = await store.reserve("r1", [soft, hard], 50)
            second = await store.reserve("r2", [soft, hard], 50)  # 40 + 50 + 50 > 100
            settled = await store.settle("r1", 30)
            unknown = await store.settle("r-unknown", 30)
            return first, second, settled, unknown
        finally:
            if isinstance(store, SharedBudgets):
                await store.close()

    first, second, settled, unknown = asyncio.run(scenario())
    assert first is None
    assert second is not None and second.label == "cap" and second.remaining_micros == 10
    assert settled == {"org:o:2026-11": 70, "member:m:2026-11": 70}
    assert unknown == {}
