"""The operator's tenant rows: typed, month to date at a fixed instant, and one tenant's
row read without summing any other tenant's usage."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import event

from chatgrid.admin import operator
from chatgrid.context import AppContext
from chatgrid.errors import NotFound
from chatgrid.identity.models import BillingMode, OrgStatus, Role
from chatgrid.store.operator import TenantRow
from tests.support.usage_rows import entry, write

NOW = datetime(2031, 3, 1, 0, 0, 0, tzinfo=UTC)  # the first instant of a month
LAST_MONTH = NOW - timedelta(seconds=1)


@contextmanager
def statements(context: AppContext) -> Iterator[list[str]]:
    """Every SQL statement sent meanwhile, with its parameters."""
    sent: list[str] = []

    def record(conn: object, cursor: object, statement: str, params: object, *_: object) -> None:
        sent.append(f"{statement} {params}")

    event.listen(context.engine, "before_cursor_execute", record)
    try:
        yield sent
    finally:
        event.remove(context.engine, "before_cursor_execute", record)


def test_one_tenant_is_its_row_of_the_table_read_alone(context: AppContext) -> None:
    a = context.orgs.create("alpha-tenant", BillingMode.SHARED)
    b = context.orgs.create("beta-tenant", BillingMode.BYOK)
    owner_a = context.accounts.add_member_without_password(a.id, "a@tenant.example.com", Role.OWNER)
    owner_b = context.accounts.add_member_without_password(b.id, "b@tenant.example.com", Role.OWNER)
    write(
        context,
        [
            entry(a.id, owner_a.id, NOW, mode="shared", list_cost=700, charged=1_000),
            entry(a.id, owner_a.id, NOW, mode="byok", list_cost=50, tokens=(3, 4)),
            entry(a.id, owner_a.id, LAST_MONTH, mode="shared", charged=99_999),
            entry(b.id, owner_b.id, NOW, mode="byok", list_cost=5_000),
        ],
    )
    context.orgs.set_status(a.id, OrgStatus.SUSPENDED, "unpaid")
    rows = {t.id: t for t in operator.tenants(context, now=NOW)}
    one = rows[a.id]
    assert isinstance(one, TenantRow)
    assert (one.billing_mode, one.status, one.suspended_reason) == (
        BillingMode.SHARED,
        OrgStatus.SUSPENDED,
        "unpaid",
    )
    assert (one.seats, one.requests, one.tokens) == (1, 2, 157)
    assert (one.charged_micros, one.list_cost_micros, one.margin_micros) == (1_000, 700, 300)
    assert one.shared_allowed and one.plan_name is None and not one.on_trial
    assert (rows[b.id].requests, rows[b.id].charged_micros) == (1, 0)  # BYOK: no margin
    with statements(context) as sent:
        assert operator.tenant(context, a.id, now=NOW) == one
    assert sent and all(a.id in s and b.id not in s for s in sent if "ledger_entries" in s)
    with pytest.raises(NotFound):
        operator.tenant(context, a.name, now=NOW)  # a name is not an id


def test_a_tenant_without_calls_or_members_has_zeros(context: AppContext) -> None:
    quiet = context.orgs.create("quiet-tenant", BillingMode.BYOK)
    row = operator.tenant(context, quiet.id, now=NOW)
    assert (row.seats, row.requests, row.tokens, row.charged_micros, row.list_cost_micros) == (
        0,
        0,
        0,
        0,
        0,
    )
