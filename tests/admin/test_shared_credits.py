"""Shared credits and the operator's allowance cannot be changed past each other.

An admin switching an org to shared credits and the operator taking them
away at the same moment used to be check-then-write on both sides: each
could pass its check before the other's write and the org ended on the pool
without being allowed it. Now each write is conditional on the other column
and the row at the moment of the write decides; here the other change lands
exactly between the admin function's checks and its write, then both run
together from threads, many times.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from functools import partial

import pytest
from sqlalchemy import event

from chatgrid.admin import operator, org_settings
from chatgrid.audit import Actor, AuditFilter
from chatgrid.context import AppContext
from chatgrid.errors import ChatGridError, Conflict, PermissionDenied
from chatgrid.identity.models import BillingMode
from tests.support.seeded_keys import seed_pool_key

ADMIN = Actor("usr_admin", "admin@shared.example.com")
OPERATOR = Actor.cli()


@contextmanager
def just_before_the_write(context: AppContext, change: Callable[[], object]) -> Iterator[None]:
    """Run ``change`` (on another connection, committed) once, just before the first
    ``UPDATE orgs`` the code under test sends: after every check it made, before its write."""
    pending = [change]

    def before(conn: object, cursor: object, statement: str, *args: object) -> None:
        if pending and statement.lstrip().upper().startswith("UPDATE ORGS"):
            pending.pop()()

    event.listen(context.engine, "before_cursor_execute", before)
    try:
        yield
    finally:
        event.remove(context.engine, "before_cursor_execute", before)
    assert not pending, "the code under test never wrote the org"


def audited(context: AppContext, org_id: str, action: str) -> int:
    logs = [context.audit.entries(log, AuditFilter(action=action)) for log in (None, org_id)]
    return sum(1 for log in logs for entry in log if entry.target == org_id)


def test_switching_to_shared_is_refused_when_the_allowance_went_since_the_read(
    context: AppContext,
) -> None:
    org = context.orgs.create("switching-co", BillingMode.BYOK)
    seed_pool_key(context)
    assert org.shared_allowed
    taken_away = partial(context.orgs.set_shared_allowed, org.id, False)
    with pytest.raises(PermissionDenied) as refused, just_before_the_write(context, taken_away):
        org_settings.switch_mode(context, org.id, ADMIN, BillingMode.SHARED)
    assert refused.value.code == "shared_not_allowed"
    now = context.orgs.by_id(org.id)
    assert (now.billing_mode, now.shared_allowed) == (BillingMode.BYOK, False)
    assert audited(context, org.id, "org.mode_switched") == 0


def test_taking_shared_away_is_refused_when_the_org_switched_to_them_since_the_read(
    context: AppContext,
) -> None:
    org = context.orgs.create("taking-co", BillingMode.BYOK)
    switched = partial(context.orgs.set_mode, org.id, BillingMode.SHARED)
    with pytest.raises(Conflict) as refused, just_before_the_write(context, switched):
        operator.set_shared_allowed(context, OPERATOR, org.id, False)
    assert refused.value.code == "org_on_shared_credits"
    assert "switch it to BYOK first" in refused.value.message
    now = context.orgs.by_id(org.id)
    assert (now.billing_mode, now.shared_allowed) == (BillingMode.SHARED, True)
    assert audited(context, org.id, "operator.shared_allowed") == 0


def both_at_once(changes: Mapping[str, Callable[[], object]]) -> dict[str, str]:
    """Start the changes together, each on its own thread; what each one answered."""
    start = threading.Barrier(len(changes))
    outcome: dict[str, str] = {}

    def run(name: str, change: Callable[[], object]) -> None:
        start.wait()
        try:
            change()
            outcome[name] = "done"
        except ChatGridError as error:
            outcome[name] = str(error.code)

    threads = [threading.Thread(target=run, args=item) for item in changes.items()]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return outcome


def test_at_the_same_moment_exactly_one_of_the_two_changes_wins(context: AppContext) -> None:
    org = context.orgs.create("same-moment-co", BillingMode.BYOK)
    seed_pool_key(context)
    changes = {
        "switch": partial(org_settings.switch_mode, context, org.id, ADMIN, BillingMode.SHARED),
        "take": partial(operator.set_shared_allowed, context, OPERATOR, org.id, False),
    }
    for _ in range(25):
        assert context.orgs.set_mode(org.id, BillingMode.BYOK)
        assert context.orgs.set_shared_allowed(org.id, True)
        outcome = both_at_once(changes)
        now = context.orgs.by_id(org.id)
        assert not (now.billing_mode is BillingMode.SHARED and not now.shared_allowed), outcome
        assert sorted(outcome.values()) in (
            ["done", "org_on_shared_credits"],
            ["done", "shared_not_allowed"],
        ), outcome
