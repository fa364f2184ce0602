"""Where an org stands in billing: its plan, its trial, its month's allowance, its draft invoice.

These are the read rules every door shares (the console's overview, the CLI,
the gateway's allowance check, invoicing). They read through two narrow
protocols, which the store's ``PlanRepository`` and ``BillingRepository``
satisfy, and take the moment as an argument, so billing depends on no
storage module and the rules can be checked at any instant of the calendar.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from chatgrid.billing.invoices import InvoiceDraft, ModelUsage, build_invoice
from chatgrid.billing.plans import BudgetStatus, Plan, budget_of
from chatgrid.billing.seats import Month, SeatPeriod, prorated_micros, seat_days
from chatgrid.billing.trials import TrialStatus, trial_state


@dataclass(frozen=True)
class BillingAccount:
    """The billing columns of one org."""

    org_id: str
    name: str
    billing_mode: str
    plan_id: str | None
    trial_ends_at: datetime | None


class PlanBook(Protocol):
    """The plans (``store.billing.PlanRepository``)."""

    def get(self, id_or_name: str) -> Plan: ...

    def default(self) -> Plan: ...


class BillingRecords(Protocol):
    """An org's billing state and ledger sums (``store.billing.BillingRepository``)."""

    def account(self, org_id: str) -> BillingAccount: ...

    def seat_periods(self, org_id: str, start: datetime, end: datetime) -> list[SeatPeriod]: ...

    def charged(
        self, org_id: str, start: datetime, end: datetime, member_id: str | None = None
    ) -> int: ...

    def usage_by_model(self, org_id: str, start: datetime, end: datetime) -> list[ModelUsage]: ...

    def member_emails(self, org_id: str) -> dict[str, str]: ...


def plan_of(plans: PlanBook, account: BillingAccount) -> Plan:
    """The org's plan; an org without one (on trial, or made by the CLI) uses the default."""
    return plans.get(account.plan_id) if account.plan_id else plans.default()


def trial_status(account: BillingAccount, now: datetime) -> TrialStatus:
    """The org's trial standing at ``now`` (see ``billing.trials`` for the rule)."""
    return trial_state(account.trial_ends_at, account.plan_id, now)


def budget_status(
    records: BillingRecords, plans: PlanBook, org_id: str, now: datetime
) -> BudgetStatus:
    """The org's shared-credit allowance this month against what it has been charged.

    Allowance = allowance per seat × prorated seats of the whole month, with
    today's members counted to the month's end. Used = Σ charged_micros of the
    org's ledger entries this month (0 for a BYOK org).
    """
    month = Month.of(now)
    plan = plan_of(plans, records.account(org_id))
    periods = records.seat_periods(org_id, month.start, month.end)
    allowance = prorated_micros(plan.allowance_micros_per_seat, seat_days(periods, month), month)
    return budget_of(allowance, records.charged(org_id, month.start, month.end))


def draft_invoice(
    records: BillingRecords, plans: PlanBook, org_id: str, month: Month
) -> InvoiceDraft:
    """What the month's invoice would say now (nothing stored)."""
    account = records.account(org_id)
    plan = plan_of(plans, account)
    periods = records.seat_periods(org_id, month.start, month.end)
    every_day = seat_days(periods, month)
    if account.plan_id is None and account.trial_ends_at is not None:
        billed: dict[str, int] = {}  # on trial, or after it without a plan: no seat charge
    else:
        billed = seat_days(periods, month, billable_from=account.trial_ends_at)
    usage = records.usage_by_model(org_id, month.start, month.end)
    emails = records.member_emails(org_id)
    return build_invoice(plan, month, billed, every_day, emails, usage)
