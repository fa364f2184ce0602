"""The org repository owns the ``orgs`` row: every read returns all of it, and the writes
whose rule spans two of its columns are decided by the row at the moment of the write."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import event

from chatgrid.context import AppContext
from chatgrid.errors import NotFound
from chatgrid.identity.models import BillingMode, Org, OrgStatus

# Fixed instants: nothing here depends on today's date.
TRIAL_END = datetime(2032, 2, 29, 23, 59, 59, tzinfo=UTC)


def test_an_org_is_read_whole_by_id_by_name_and_in_the_list(context: AppContext) -> None:
    made = context.orgs.create("whole-co", BillingMode.BYOK)
    assert (made.shared_allowed, made.trial_ends_at, made.plan_id) == (True, None, None)
    assert made.status is OrgStatus.ACTIVE and made.suspended_reason is None
    assert context.orgs.get("whole-co") == context.orgs.get(made.id) == made
    assert context.orgs.by_id(made.id) == made
    assert made in context.orgs.list()
    with pytest.raises(NotFound):
        context.orgs.by_id("whole-co")  # a name is not an id


def test_every_change_of_the_row_shows_in_the_next_read(context: AppContext) -> None:
    user = context.accounts.create_user("owner@whole.example.com", None, is_operator=False)
    org, _owner = context.accounts.create_org(
        "changing-co", BillingMode.BYOK, owner_id=user.id, trial_ends_at=TRIAL_END
    )
    assert context.orgs.by_id(org.id) == org and org.trial_ends_at == TRIAL_END
    context.orgs.set_status(org.id, OrgStatus.SUSPENDED, "unpaid invoice")
    assert context.orgs.set_trial_end(org.id, TRIAL_END + timedelta(days=3))
    assert context.orgs.set_shared_allowed(org.id, False)
    read = context.orgs.by_id(org.id)
    assert (read.status, read.suspended_reason) == (OrgStatus.SUSPENDED, "unpaid invoice")
    assert read.trial_ends_at == TRIAL_END + timedelta(days=3)
    assert not read.shared_allowed
    context.orgs.set_status(org.id, OrgStatus.ACTIVE)
    context.orgs.set_plan(org.id, "plan_standard", TRIAL_END)
    read = context.orgs.by_id(org.id)
    assert (read.status, read.suspended_reason, read.plan_id) == (
        OrgStatus.ACTIVE,
        None,
        "plan_standard",
    )
    # On a paid plan there is no trial to move: nothing is written.
    assert not context.orgs.set_trial_end(org.id, TRIAL_END + timedelta(days=30))
    assert context.orgs.by_id(org.id).trial_ends_at == TRIAL_END


def test_an_org_without_a_trial_gets_none_by_moving_its_end(context: AppContext) -> None:
    org = context.orgs.create("no-trial-co", BillingMode.BYOK)
    assert not context.orgs.set_trial_end(org.id, TRIAL_END)
    assert context.orgs.by_id(org.id).trial_ends_at is None


def test_shared_credits_are_switched_on_only_while_allowed(context: AppContext) -> None:
    org = context.orgs.create("allowance-co", BillingMode.BYOK)
    assert context.orgs.set_shared_allowed(org.id, False)
    assert not context.orgs.set_mode(org.id, BillingMode.SHARED)
    assert context.orgs.by_id(org.id).billing_mode is BillingMode.BYOK
    assert context.orgs.set_shared_allowed(org.id, True)
    assert context.orgs.set_mode(org.id, BillingMode.SHARED)
    assert context.orgs.set_mode(org.id, BillingMode.BYOK)  # back to its key: always


def test_shared_credits_are_not_taken_from_an_org_on_them(context: AppContext) -> None:
    org = context.orgs.create("on-the-pool-co", BillingMode.SHARED)
    assert not context.orgs.set_shared_allowed(org.id, False)
    read = context.orgs.by_id(org.id)
    assert read.shared_allowed and read.billing_mode is BillingMode.SHARED
    assert context.orgs.set_shared_allowed(org.id, True)  # allowing again is harmless


def test_a_change_to_an_org_that_is_not_there_is_not_found(context: AppContext) -> None:
    for change in (
        lambda: context.orgs.set_mode("org_nope", BillingMode.SHARED),
        lambda: context.orgs.set_shared_allowed("org_nope", False),
        lambda: context.orgs.set_status("org_nope", OrgStatus.SUSPENDED, "why"),
        lambda: context.orgs.set_trial_end("org_nope", TRIAL_END),
    ):
        with pytest.raises(NotFound):
            change()


def test_sign_up_creates_its_org_whole(context: AppContext) -> None:
    user, org, owner = context.accounts.sign_up(
        "first@signup.example.com", "hash-not-checked-here", "signup-co", trial_ends_at=TRIAL_END
    )
    assert isinstance(org, Org) and context.orgs.by_id(org.id) == org
    assert (org.trial_ends_at, org.shared_allowed, org.plan_id) == (TRIAL_END, True, None)
    assert owner.email == user.email and context.members.get(org.id, owner.id).user_id == user.id
    assert context.billing.account(org.id).trial_ends_at == TRIAL_END


def test_the_two_step_rule_comes_with_the_org_row_in_one_query(context: AppContext) -> None:
    """The console checks it on every request: no query of its own."""
    org = context.orgs.create("two-step-co", BillingMode.BYOK)
    assert not org.requires_two_step and not context.orgs.by_id(org.id).requires_two_step
    context.second_factors.set_required(org.id, True, "owner@two-step.example.com", TRIAL_END)
    statements: list[str] = []

    def seen(*args: object) -> None:
        statements.append(str(args[2]))

    event.listen(context.engine, "before_cursor_execute", seen)
    try:
        read = context.orgs.by_id(org.id)
    finally:
        event.remove(context.engine, "before_cursor_execute", seen)
    assert read.requires_two_step and len(statements) == 1
    assert [o.requires_two_step for o in context.orgs.list() if o.id == org.id] == [True]
    context.second_factors.set_required(org.id, False, "owner@two-step.example.com", TRIAL_END)
    assert not context.orgs.get("two-step-co").requires_two_step
