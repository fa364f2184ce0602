"""Admins and members see what is left of the shared credits, with warnings at 80% and 100%."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import update

from chatgrid.billing.plans import WarningLevel, budget_of
from chatgrid.billing.standing import budget_status, trial_status
from chatgrid.context import AppContext
from chatgrid.identity.models import BillingMode
from chatgrid.store.tables import orgs
from tests.support.console import World
from tests.support.ledger_rows import entry, write


def charge(ctx: AppContext, org_id: str, member_id: str, micros: int) -> None:
    write(ctx, [entry(org_id, member_id, datetime.now(UTC), charged=micros, model="gpt-4o")])


def test_warning_levels() -> None:
    assert budget_of(100, 79).warning is WarningLevel.NONE
    assert budget_of(100, 80).warning is WarningLevel.NEAR
    assert budget_of(100, 100).warning is WarningLevel.REACHED


def test_the_overview_shows_what_is_left_and_warns(world: World) -> None:
    ctx, org_id = world.ctx, world.org_a
    ctx.orgs.set_mode(org_id, BillingMode.SHARED)
    limit = budget_status(ctx.billing, ctx.plans, org_id, datetime.now(UTC)).limit_micros
    assert limit is not None and limit > 0
    assert world.bob.member_id is not None
    # Rounded up, so the page's floored percentage is 85 whatever the day's prorated limit.
    charge(ctx, org_id, world.bob.member_id, -(-limit * 85 // 100))
    for persona in (world.alice, world.bob):
        page = persona.browser.get(f"/orgs/{org_id}").text
        assert "shared credits this month" in page
        assert "85% used" in page
    charge(ctx, org_id, world.bob.member_id, limit)
    page = world.alice.browser.get(f"/orgs/{org_id}").text
    assert "Used up" in page


def test_an_ended_trial_says_how_to_continue(world: World) -> None:
    ctx, org_id = world.ctx, world.org_a
    with ctx.engine.begin() as conn:
        conn.execute(
            update(orgs)
            .where(orgs.c.id == org_id)
            .values(plan_id=None, trial_ends_at=datetime.now(UTC) - timedelta(days=1))
        )
    assert trial_status(ctx.billing.account(org_id), datetime.now(UTC)).read_only
    page = world.alice.browser.get(f"/orgs/{org_id}").text
    assert "trial has ended" in page
    assert "assigns your organization a plan" in page
