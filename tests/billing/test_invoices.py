"""Monthly invoices: exact against the ledger, immutable once issued, paid once."""

from __future__ import annotations

import csv
import io
import itertools
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select, update

from chatgrid.admin import billing, people
from chatgrid.audit import Actor
from chatgrid.billing.invoices import Invoice, invoice_csv
from chatgrid.billing.payments import ManualPayment
from chatgrid.billing.seats import Month
from chatgrid.context import AppContext
from chatgrid.errors import Conflict, InvalidRequest, NotFound
from chatgrid.identity.models import BillingMode, Role
from chatgrid.store.tables import ledger_entries, orgs
from tests.support.ledger_rows import entry, move_seat, write

CLI = Actor.cli()
OCT_START = datetime(2026, 10, 1, tzinfo=UTC)
NOV_START = datetime(2026, 11, 1, tzinfo=UTC)
AFTER = datetime(2026, 12, 5, tzinfo=UTC)
_names = itertools.count()


def lines(invoice: Invoice, kind: str) -> list[dict[str, object]]:
    return [line for line in invoice.lines if line["kind"] == kind]


def amount(invoice: Invoice, kind: str) -> int:
    return sum(int(str(line["amount_micros"])) for line in lines(invoice, kind))


def sql_charged(context: AppContext, org_id: str, start: datetime, end: datetime) -> int:
    query = select(func.coalesce(func.sum(ledger_entries.c.charged_micros), 0)).where(
        ledger_entries.c.org_id == org_id,
        ledger_entries.c.started_at >= start,
        ledger_entries.c.started_at < end,
    )
    with context.engine.connect() as conn:
        return int(conn.execute(query).scalar_one())


def new_org(context: AppContext, mode: BillingMode, seats: int = 2) -> tuple[str, list[str]]:
    org = people.create_org(context, f"inv-{next(_names)}", mode)
    member_ids = []
    for i in range(seats):
        member = people.add_member(context, org.id, f"m{i}@example.com", Role.MEMBER)
        move_seat(context, member.id, OCT_START - timedelta(days=3))
        member_ids.append(member.id)
    return org.id, member_ids


def on_trial_until(context: AppContext, org_id: str, ends: datetime) -> None:
    with context.engine.begin() as conn:
        conn.execute(update(orgs).where(orgs.c.id == org_id).values(trial_ends_at=ends))


calls = st.lists(
    st.tuples(
        st.sampled_from(["gpt-4o-mini", "gpt-4o", "o3-mini"]),
        st.sampled_from(["shared", "byok"]),
        st.integers(0, 200_000),  # prompt tokens
        st.integers(0, 50_000),  # completion tokens
        st.integers(0, 5_000_000),  # list cost
        st.sampled_from([0, 1500, 2000, 3333]),
        st.integers(-5 * 86_400, 36 * 86_400),  # seconds from Oct 1: inside and outside
        st.integers(0, 1),  # which member
    ),
    max_size=40,
)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(rows=calls, overage=st.booleans())
def test_invoice_totals_equal_the_ledger_exactly(
    context: AppContext, rows: list[tuple[str, str, int, int, int, int, int, int]], overage: bool
) -> None:
    org_id, member_ids = new_org(context, BillingMode.SHARED)
    if overage:
        plan = billing.create_plan(
            context,
            f"metered-{next(_names)}",
            seat_price_micros=7_000_001,
            markup_bps=2000,
            allowance_micros_per_seat=1_000_000,
            overage=True,
            actor=CLI,
        )
        billing.assign_plan(context, org_id, plan.id, actor=CLI)
    entries = []
    for model, mode, prompt, completion, list_cost, bps, offset, who in rows:
        charged = 0 if mode == "byok" else (list_cost * (10_000 + bps) + 5_000) // 10_000
        entries.append(
            entry(
                org_id,
                member_ids[who],
                OCT_START + timedelta(seconds=offset),
                charged=charged,
                list_cost=list_cost,
                model=model,
                mode=mode,
                markup_bps=0 if mode == "byok" else bps,
                tokens=(prompt, prompt // 3, completion),
            )
        )
    if entries:
        write(context, entries)
    invoice = billing.issue_invoice(context, org_id, "2026-10", actor=CLI, now=AFTER)

    used = sql_charged(context, org_id, OCT_START, NOV_START)
    usage = lines(invoice, "usage")
    assert sum(int(str(line["charged_micros"])) for line in usage) == used
    in_month = [e for e in entries if OCT_START <= e.started_at < NOV_START]
    shared = [e for e in in_month if e.mode == "shared"]
    assert sum(int(str(line["requests"])) for line in usage) == len(shared)
    assert sum(int(str(line["completion_tokens"])) for line in usage) == sum(
        e.completion_tokens for e in shared
    )
    seats = amount(invoice, "seats")
    expected_seats = 2 * (7_000_001 if overage else 5_000_000)
    assert seats == expected_seats  # both seats held all month
    if shared:
        (allowance,) = lines(invoice, "allowance")
        assert allowance["used_micros"] == used
        assert allowance["allowance_micros"] == (2_000_000 if overage else 4_000_000)
    else:
        assert not lines(invoice, "allowance")
    over = amount(invoice, "overage")
    assert over == (max(0, used - 2_000_000) if overage and shared else 0)
    assert invoice.total_micros == seats + over


def test_a_byok_invoice_has_no_token_lines(context: AppContext) -> None:
    org_id, [alice, _bob] = new_org(context, BillingMode.BYOK)
    write(context, [entry(org_id, alice, OCT_START + timedelta(days=2), charged=0, mode="byok")])
    invoice = billing.issue_invoice(context, org_id, "2026-10", actor=CLI, now=AFTER)
    assert {line["kind"] for line in invoice.lines} == {"seat", "seats"}
    assert invoice.total_micros == 10_000_000


def test_seats_are_prorated_by_day_and_rounded_once(context: AppContext) -> None:
    org = people.create_org(context, "prorated", BillingMode.BYOK)
    alice = people.add_member(context, org.id, "alice@example.com", Role.OWNER)
    bob = people.add_member(context, org.id, "bob@example.com", Role.MEMBER)
    move_seat(context, alice.id, datetime(2026, 10, 21, 9, tzinfo=UTC))  # 11 days
    move_seat(context, bob.id, OCT_START, datetime(2026, 10, 2, 1, tzinfo=UTC))  # 2 days
    invoice = billing.issue_invoice(context, org.id, "2026-10", actor=CLI, now=AFTER)
    per_member = {line["email"]: line["seat_days"] for line in lines(invoice, "seat")}
    assert per_member == {"alice@example.com": 11, "bob@example.com": 2}
    # 5 × 13 / 31 = 2.0967741… → 2_096_774 micro-dollars.
    assert invoice.total_micros == amount(invoice, "seats") == 2_096_774


def test_trial_days_are_free(context: AppContext) -> None:
    org_id, _members = new_org(context, BillingMode.BYOK, seats=1)
    on_trial_until(context, org_id, OCT_START + timedelta(days=10))
    on_trial = billing.issue_invoice(context, org_id, "2026-10", actor=CLI, now=AFTER)
    assert on_trial.total_micros == 0
    billing.assign_plan(
        context, org_id, "Standard", actor=CLI, now=datetime(2026, 11, 16, tzinfo=UTC)
    )
    paid = billing.issue_invoice(context, org_id, "2026-11", actor=CLI, now=AFTER)
    assert paid.total_micros == 2_500_000  # 15 of 30 days


def test_an_issued_invoice_never_changes(context: AppContext) -> None:
    org_id, [alice, _bob] = new_org(context, BillingMode.SHARED)
    write(context, [entry(org_id, alice, OCT_START + timedelta(days=1), charged=700)])
    first = billing.issue_invoice(context, org_id, "2026-10", actor=CLI, now=AFTER)
    write(context, [entry(org_id, alice, OCT_START + timedelta(days=2), charged=900)])
    again = billing.issue_invoice(context, org_id, "2026-10", actor=CLI, now=AFTER)
    assert again == first
    assert [i.id for i in context.billing.invoices(org_id)] == [first.id]
    assert [e.action for e in context.audit.entries(org_id)].count("invoice.issued") == 1


def test_a_month_not_over_cannot_be_issued(context: AppContext) -> None:
    org_id, _members = new_org(context, BillingMode.BYOK)
    with pytest.raises(InvalidRequest):
        billing.issue_invoice(
            context, org_id, "2026-10", actor=CLI, now=datetime(2026, 10, 31, tzinfo=UTC)
        )


def test_issue_all_invoices_every_org_that_existed(context: AppContext) -> None:
    first, _ = new_org(context, BillingMode.BYOK)
    second, _ = new_org(context, BillingMode.SHARED, seats=1)
    month = Month.of(datetime.now(UTC))
    after = month.end + timedelta(days=1)
    issued = billing.issue_all(context, str(month), actor=CLI, now=after)
    assert {i.org_id for i in issued} == {first, second}
    assert billing.issue_all(context, str(month), actor=CLI, now=after) == issued
    # Orgs created after a month get no invoice for it.
    assert billing.issue_all(context, "2020-01", actor=CLI, now=after) == []


def test_manual_payment_marks_the_invoice_paid_once(context: AppContext) -> None:
    org_id, _members = new_org(context, BillingMode.BYOK)
    with pytest.raises(NotFound):
        billing.collect(context, org_id, "2026-10", ManualPayment("wire 1"), actor=CLI)
    issued = billing.issue_invoice(context, org_id, "2026-10", actor=CLI, now=AFTER)
    paid = billing.collect(context, org_id, "2026-10", ManualPayment("wire 42"), actor=CLI)
    assert (paid.status, paid.payment_provider, paid.payment_reference) == (
        "paid",
        "manual",
        "wire 42",
    )
    assert (paid.lines, paid.total_micros) == (issued.lines, issued.total_micros)
    with pytest.raises(Conflict):
        billing.collect(context, org_id, "2026-10", ManualPayment("wire 43"), actor=CLI)
    assert context.audit.entries(org_id)[0].action == "invoice.paid"


def test_csv_export_has_a_row_per_line_and_the_total(context: AppContext) -> None:
    org_id, [alice, _bob] = new_org(context, BillingMode.SHARED)
    write(context, [entry(org_id, alice, OCT_START + timedelta(days=1), charged=1234)])
    invoice = billing.issue_invoice(context, org_id, "2026-10", actor=CLI, now=AFTER)
    rows = list(csv.DictReader(io.StringIO(invoice_csv(invoice))))
    assert [r["kind"] for r in rows] == ["seat", "seat", "seats", "usage", "allowance", "total"]
    assert rows[3]["charged_micros"] == "1234"
    assert rows[-1]["amount_micros"] == str(invoice.total_micros)
