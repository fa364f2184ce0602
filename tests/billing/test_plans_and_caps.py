"""Plans, trials, caps and budgets through the admin actions, on a real database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import update

from chatgrid.admin import billing, people
from chatgrid.audit import Actor
from chatgrid.billing.plans import WarningLevel, budget_of, parse_dollars
from chatgrid.billing.seats import Month
from chatgrid.billing.standing import budget_status, trial_status
from chatgrid.billing.trials import TrialState
from chatgrid.context import AppContext
from chatgrid.errors import Conflict, InvalidRequest, NotFound
from chatgrid.identity.models import BillingMode, Role
from chatgrid.ledger.money import round_half_up
from chatgrid.store.tables import orgs
from tests.support.ledger_rows import entry, write

CLI = Actor.cli()


def test_dollars_are_parsed_exactly() -> None:
    assert parse_dollars("5", "x") == 5_000_000
    assert parse_dollars("0.000001", "x") == 1
    assert parse_dollars("19.99", "x") == 19_990_000
    for bad in ("0.0000001", "-1", "abc", "inf", "NaN"):
        with pytest.raises(InvalidRequest):
            parse_dollars(bad, "x")


def test_warning_levels() -> None:
    assert budget_of(None, 5).warning is WarningLevel.NONE
    assert budget_of(100, 79).warning is WarningLevel.NONE
    assert budget_of(100, 80).warning is WarningLevel.NEAR
    status = budget_of(100, 130)
    assert (status.warning, status.remaining_micros, status.percent) == (
        WarningLevel.REACHED,
        0,
        130,
    )
    assert budget_of(0, 0).warning is WarningLevel.REACHED


def test_the_default_plan_exists(context: AppContext) -> None:
    plan = context.plans.default()
    assert (plan.id, plan.seat_price_micros, plan.allowance_micros_per_seat) == (
        "plan_standard",
        5_000_000,
        2_000_000,
    )
    assert not plan.overage


def test_plans_are_created_and_names_are_unique(context: AppContext) -> None:
    plan = billing.create_plan(
        context,
        "Team",
        seat_price_micros=12_000_000,
        markup_bps=1500,
        allowance_micros_per_seat=10_000_000,
        overage=True,
        actor=CLI,
    )
    assert context.plans.get("Team") == plan
    with pytest.raises(Conflict):
        billing.create_plan(
            context,
            "Team",
            seat_price_micros=1,
            markup_bps=0,
            allowance_micros_per_seat=0,
            overage=False,
            actor=CLI,
        )
    assert context.audit.entries(None)[0].action == "plan.created"


def _trial_org(context: AppContext, ends: datetime) -> str:
    org = people.create_org(context, "trialco", BillingMode.BYOK)
    with context.engine.begin() as conn:
        conn.execute(update(orgs).where(orgs.c.id == org.id).values(trial_ends_at=ends))
    return org.id


def test_an_ended_trial_is_read_only_until_a_plan_is_assigned(context: AppContext) -> None:
    now = datetime.now(UTC)
    org_id = _trial_org(context, now - timedelta(hours=1))
    assert trial_status(context.billing.account(org_id), now).read_only
    account = billing.assign_plan(context, org_id, "Standard", actor=CLI, now=now)
    assert account.plan_id == "plan_standard" and account.trial_ends_at == now
    assert trial_status(context.billing.account(org_id), now).state is TrialState.ON_PLAN
    assert context.audit.entries(org_id)[0].action == "plan.assigned"
    with pytest.raises(Conflict):
        billing.extend_trial(context, org_id, 7, actor=CLI)


def test_the_operator_extends_a_trial(context: AppContext) -> None:
    now = datetime.now(UTC)
    org_id = _trial_org(context, now + timedelta(days=2))
    account = billing.extend_trial(context, org_id, 7, actor=CLI, now=now)
    assert account.trial_ends_at == now + timedelta(days=9)
    assert trial_status(context.billing.account(org_id), now).days_left == 9
    ended = _trial_org_named(context, "ended", now - timedelta(days=5))
    restarted = billing.extend_trial(context, ended, 3, actor=CLI, now=now)
    assert restarted.trial_ends_at == now + timedelta(days=3)
    assert context.audit.entries(None)[0].action == "org.trial_extended"
    with pytest.raises(InvalidRequest):
        billing.extend_trial(context, org_id, 0, actor=CLI)
    # An org made by the command line has no trial: it is billed on the default plan.
    cli_org = people.create_org(context, "cli-made", BillingMode.BYOK)
    assert trial_status(context.billing.account(cli_org.id), now).state is TrialState.ON_PLAN
    with pytest.raises(Conflict):
        billing.extend_trial(context, cli_org.id, 7, actor=CLI)


def _trial_org_named(context: AppContext, name: str, ends: datetime) -> str:
    org = people.create_org(context, name, BillingMode.BYOK)
    with context.engine.begin() as conn:
        conn.execute(update(orgs).where(orgs.c.id == org.id).values(trial_ends_at=ends))
    return org.id


def test_budget_status_counts_this_months_charges_against_the_allowance(
    context: AppContext,
) -> None:
    org = people.create_org(context, "sharedco", BillingMode.SHARED)
    alice = people.add_member(context, org.id, "alice@example.com", Role.OWNER)
    bob = people.add_member(context, org.id, "bob@example.com", Role.MEMBER)
    now = datetime.now(UTC)
    month_start = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    write(
        context,
        [
            entry(org.id, alice.id, now, charged=1_000_000),
            entry(org.id, bob.id, now, charged=500_000),
            entry(org.id, bob.id, month_start - timedelta(seconds=1), charged=9_000_000),
        ],
    )
    status = budget_status(context.billing, context.plans, org.id, now)
    assert status.used_micros == 1_500_000
    # Two seats from today to the month's end, $2 each, prorated by day, rounded once.
    month = Month.of(now)
    days_held = month.days - now.day + 1
    assert status.limit_micros == round_half_up(2_000_000 * 2 * days_held, month.days)
    assert status.remaining_micros == max(0, status.limit_micros - 1_500_000)

    billing.set_member_cap(context, org.id, "bob@example.com", 600_000, actor=CLI)
    bob_status = billing.member_budget_status(context, org.id, bob.id, now)
    assert (bob_status.limit_micros, bob_status.used_micros, bob_status.percent) == (
        600_000,
        500_000,
        83,
    )
    assert bob_status.warning is WarningLevel.NEAR
    billing.set_member_cap(context, org.id, "bob@example.com", None, actor=CLI)
    assert billing.member_budget_status(context, org.id, bob.id, now).limit_micros is None
    actions = [e.action for e in context.audit.entries(org.id)][:2]
    assert actions == ["member.cap_cleared", "member.cap_set"]


def test_a_member_of_another_org_has_no_budget_here(context: AppContext) -> None:
    mine = people.create_org(context, "mine", BillingMode.SHARED)
    theirs = people.create_org(context, "theirs", BillingMode.SHARED)
    charlie = people.add_member(context, theirs.id, "charlie@example.com", Role.OWNER)
    with pytest.raises(NotFound):
        billing.member_budget_status(context, mine.id, charlie.id)
    with pytest.raises(NotFound):
        billing.set_member_cap(context, mine.id, "charlie@example.com", 1, actor=CLI)


def test_hostile_dollar_amounts_are_refused_before_any_arithmetic() -> None:
    for bad in ("1e999990", "1e999999", "\uff11", "1" * 41, "1e16"):
        with pytest.raises(InvalidRequest):
            parse_dollars(bad, "x")
    assert parse_dollars("5e2", "x") == 500_000_000
