"""Two-step sign-in as stored: each one-time thing is used once, even by racing replicas."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

from chatgrid.admin import people
from chatgrid.context import AppContext
from chatgrid.identity.models import BillingMode, Role
from chatgrid.identity.second_step import Challenge, hash_challenge_id, new_challenge_id
from chatgrid.store.second_factor import seed_binding

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


def a_user(ctx: AppContext) -> tuple[str, str]:
    org = people.create_org(ctx, f"store-{new_challenge_id()[:6]}", BillingMode.BYOK)
    member = people.add_member(ctx, org.id, f"{new_challenge_id()[:8]}@example.com", Role.OWNER)
    return member.user_id, org.id


def turned_on(ctx: AppContext, user_id: str, hashes: list[str] | None = None) -> None:
    sealed = ctx.vault.seal("JBSWY3DPEHPK3PXP", binding=seed_binding(user_id))
    assert ctx.second_factors.begin(user_id, sealed, NOW)
    assert ctx.second_factors.confirm(user_id, 100, hashes or [], NOW)


def race(action: Callable[[], bool], times: int = 8) -> list[bool]:
    with ThreadPoolExecutor(max_workers=times) as pool:
        return list(pool.map(lambda _: action(), range(times)))


def test_a_time_step_is_taken_once_by_racing_requests(context: AppContext) -> None:
    user_id, _ = a_user(context)
    turned_on(context, user_id)
    assert sorted(race(lambda: context.second_factors.accept_step(user_id, 101))) == [False] * 7 + [
        True
    ]
    assert not context.second_factors.accept_step(user_id, 100)  # older: a replay
    assert context.second_factors.accept_step(user_id, 102)


def test_a_recovery_code_is_spent_once(context: AppContext) -> None:
    user_id, _ = a_user(context)
    turned_on(context, user_id, ["a" * 64, "b" * 64])
    spend = context.second_factors.spend_recovery_code
    assert sorted(race(lambda: spend(user_id, "a" * 64, NOW))) == [False] * 7 + [True]
    assert context.second_factors.recovery_codes_left(user_id) == 1
    other, _ = a_user(context)
    assert not spend(other, "b" * 64, NOW)  # another account's hash is not its own


def test_a_pending_step_turns_into_one_session_only(context: AppContext) -> None:
    user_id, org_id = a_user(context)
    id_hash = hash_challenge_id(new_challenge_id())
    context.second_factors.create_challenge(
        Challenge(id_hash, user_id, org_id, NOW, NOW + timedelta(minutes=5), 0)
    )
    context.second_factors.count_failure(id_hash)
    found = context.second_factors.challenge(id_hash)
    assert found is not None and found.failures == 1 and found.usable(NOW)
    assert not found.usable(NOW + timedelta(minutes=5))
    assert sorted(race(lambda: context.second_factors.finish_challenge(id_hash))) == [False] * 7 + [
        True
    ]
    assert context.second_factors.challenge(id_hash) is None


def test_an_unconfirmed_seed_is_not_on_and_a_confirmed_one_is_not_replaced(
    context: AppContext,
) -> None:
    user_id, _ = a_user(context)
    sealed = context.vault.seal("JBSWY3DPEHPK3PXP", binding=seed_binding(user_id))
    assert context.second_factors.begin(user_id, sealed, NOW)
    assert not context.second_factors.enabled(user_id)
    assert not context.second_factors.accept_step(user_id, 1)  # nothing to accept yet
    assert context.second_factors.begin(user_id, sealed, NOW)  # set-up started again
    assert context.second_factors.confirm(user_id, 5, [], NOW)
    assert context.second_factors.enabled(user_id)
    assert not context.second_factors.begin(user_id, sealed, NOW)
    assert not context.second_factors.confirm(user_id, 6, [], NOW)
    assert context.second_factors.remove(user_id) and not context.second_factors.enabled(user_id)


def test_the_org_rule_is_set_once(context: AppContext) -> None:
    _, org_id = a_user(context)
    rules = context.second_factors
    assert sorted(race(lambda: rules.set_required(org_id, True, "cli", NOW), 4)) == [
        False,
        False,
        False,
        True,
    ]
    assert rules.required(org_id)
    assert rules.set_required(org_id, False, "cli", NOW)
    assert not rules.set_required(org_id, False, "cli", NOW)
    assert not rules.required(org_id)
