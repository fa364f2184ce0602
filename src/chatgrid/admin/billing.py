"""Billing actions: plans, trials, member caps, budgets, invoices, payments.

Every action is audited; those the gateway reads (an org's plan or trial, a
member's cap) bump the change marker after committing, so every server sees
them when the call returns.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from chatgrid.audit import Actor
from chatgrid.billing.budget_rules import counter_scope
from chatgrid.billing.invoices import Invoice
from chatgrid.billing.payments import InvoiceToCollect, PaymentProvider
from chatgrid.billing.plans import BudgetStatus, Plan, budget_of, validate_plan
from chatgrid.billing.seats import Month
from chatgrid.billing.standing import BillingAccount, draft_invoice
from chatgrid.context import AppContext
from chatgrid.errors import Conflict, InvalidRequest, NotFound
from chatgrid.identity.models import BillingMode
from chatgrid.ledger.money import format_dollars
from chatgrid.store.budgets import month_of

MAX_TRIAL_EXTENSION_DAYS = 365


def _now(now: datetime | None) -> datetime:
    return now or datetime.now(UTC)


def create_plan(
    ctx: AppContext,
    name: str,
    *,
    seat_price_micros: int,
    markup_bps: int,
    allowance_micros_per_seat: int,
    overage: bool,
    actor: Actor,
) -> Plan:
    validate_plan(name, markup_bps)
    plan = Plan(
        id=ctx.plans.new_id(),
        name=name.strip(),
        seat_price_micros=seat_price_micros,
        markup_bps=markup_bps,
        allowance_micros_per_seat=allowance_micros_per_seat,
        overage=overage,
        is_default=False,
    )
    ctx.plans.create(plan)
    ctx.audit.record(None, actor, "plan.created", plan.id, plan.public())
    return plan


def update_plan(
    ctx: AppContext,
    plan_ref: str,
    *,
    name: str | None = None,
    seat_price_micros: int,
    markup_bps: int,
    allowance_micros_per_seat: int,
    overage: bool,
    actor: Actor,
) -> Plan:
    """Change a plan's terms for every org on it, from now on (in force on every server).

    Issued invoices are snapshots and keep what they said; this month's
    invoice, issued after the month ends, uses the terms in force then.
    """
    before = ctx.plans.get(plan_ref)
    name = before.name if name is None else name
    validate_plan(name, markup_bps)
    plan = replace(
        before,
        name=name.strip(),
        seat_price_micros=seat_price_micros,
        markup_bps=markup_bps,
        allowance_micros_per_seat=allowance_micros_per_seat,
        overage=overage,
    )
    updated = ctx.plans.update(plan)
    ctx.changes.bump()
    ctx.audit.record(
        None, actor, "plan.updated", plan.id, {"before": before.public(), "after": updated.public()}
    )
    return updated


def assign_plan(
    ctx: AppContext, org_ref: str, plan_ref: str, *, actor: Actor, now: datetime | None = None
) -> BillingAccount:
    """Put the org on a paid plan from now: a running or ended trial stops here.

    Switching between plans keeps the first paid day, so an invoice never
    bills trial days and never forgets paid ones.
    """
    org = ctx.orgs.get(org_ref)
    plan = ctx.plans.get(plan_ref)
    ends = org.trial_ends_at
    if org.plan_id is None and ends is not None:
        ends = _now(now)
    ctx.orgs.set_plan(org.id, plan.id, ends)
    ctx.changes.bump()
    ctx.audit.record(
        org.id, actor, "plan.assigned", plan.id, {"plan": plan.name, "previous": org.plan_id}
    )
    return ctx.billing.account(org.id)


def extend_trial(
    ctx: AppContext, org_ref: str, days: int, *, actor: Actor, now: datetime | None = None
) -> BillingAccount:
    """Add days to a trial; an ended trial restarts from now (the org is writable again).

    The one way to extend a trial, from the console, the API and the CLI. An
    org on a paid plan (or one with no trial at all) is refused: a trial
    there would make days already billable free, drop the month's invoice
    draft to $0 and later turn the org read-only. Written to the
    instance-wide audit log as ``org.trial_extended`` (an operator action).
    """
    if not 1 <= days <= MAX_TRIAL_EXTENSION_DAYS:
        raise InvalidRequest(f"extend by 1 to {MAX_TRIAL_EXTENSION_DAYS} days", param="days")
    org = ctx.orgs.get(org_ref)
    on_plan = Conflict("the org is on a plan; it has no trial to extend", code="on_plan")
    if org.plan_id is not None or org.trial_ends_at is None:
        raise on_plan
    before = org.trial_ends_at
    ends = max(before, _now(now)) + timedelta(days=days)
    if not ctx.orgs.set_trial_end(org.id, ends):  # a plan was assigned since the read
        raise on_plan
    ctx.changes.bump()
    ctx.audit.record(
        None,
        actor,
        "org.trial_extended",
        org.id,
        {"org_name": org.name, "days": days, "from": before.isoformat(), "to": ends.isoformat()},
    )
    return ctx.billing.account(org.id)


def set_member_cap(
    ctx: AppContext, org_ref: str, email: str, cap_micros: int | None, *, actor: Actor
) -> None:
    """A monthly cap on one member's shared-credit spend; None clears it."""
    org = ctx.orgs.get(org_ref)
    member = ctx.members.find_by_email(org.id, email)
    ctx.billing.set_cap(org.id, member.id, cap_micros)
    ctx.changes.bump()
    if cap_micros is None:
        ctx.audit.record(org.id, actor, "member.cap_cleared", member.email, {})
    else:
        details = {"cap_usd": format_dollars(cap_micros)}
        ctx.audit.record(org.id, actor, "member.cap_set", member.email, details)


def member_budget_status(
    ctx: AppContext, org_id: str, member_id: str, now: datetime | None = None
) -> BudgetStatus:
    """The member's cap this month (None: no cap) against what they spent under it.

    What they spent is what their budget counts: their charges on shared
    credits, the list price of their calls on the org's own key.
    """
    ctx.members.get(org_id, member_id)  # scoped: a member of another org is not found
    byok = ctx.orgs.by_id(org_id).billing_mode is BillingMode.BYOK
    month = month_of(_now(now))
    used = ctx.budgets.spent(counter_scope("member", member_id, month, byok=byok))
    return budget_of(ctx.billing.cap(org_id, member_id), used)


def issue_invoice(
    ctx: AppContext, org_ref: str, period: str, *, actor: Actor, now: datetime | None = None
) -> Invoice:
    """Snapshot the month's invoice once; issuing it again returns the same invoice.

    Only a month that is over can be issued: an earlier snapshot would miss
    calls still to come and could never be corrected.
    """
    org = ctx.orgs.get(org_ref)
    month = Month.parse(period)
    existing = ctx.billing.invoice(org.id, str(month))
    if existing is not None:
        return existing
    if month.end > _now(now):
        raise InvalidRequest(f"{month} is not over yet", param="period")
    draft = draft_invoice(ctx.billing, ctx.plans, org.id, month)
    invoice = ctx.billing.insert_invoice(org.id, str(month), draft)
    details = {"period": invoice.period, "total_micros": invoice.total_micros}
    ctx.audit.record(org.id, actor, "invoice.issued", invoice.id, details)
    return invoice


def issue_all(
    ctx: AppContext, period: str, *, actor: Actor, now: datetime | None = None
) -> list[Invoice]:
    """Every org's invoice for the month (orgs created after it get none)."""
    month = Month.parse(period)
    return [
        issue_invoice(ctx, org.id, str(month), actor=actor, now=now)
        for org in ctx.orgs.list()
        if org.created_at < month.end
    ]


def get_invoice(ctx: AppContext, org_ref: str, period: str) -> Invoice:
    org = ctx.orgs.get(org_ref)
    invoice = ctx.billing.invoice(org.id, str(Month.parse(period)))
    if invoice is None:
        raise NotFound(f"no invoice for {period}", code="invoice_not_found")
    return invoice


def to_collect(invoice: Invoice) -> InvoiceToCollect:
    """What a payment provider is told of an invoice."""
    return InvoiceToCollect(
        invoice.id, invoice.org_id, invoice.period, invoice.total_micros, invoice.currency
    )


def collect(
    ctx: AppContext, org_ref: str, period: str, provider: PaymentProvider, *, actor: Actor
) -> Invoice:
    """Collect through ``provider`` and mark the invoice paid (the only change it allows)."""
    invoice = get_invoice(ctx, org_ref, period)
    if invoice.status == "paid":
        raise Conflict(f"the invoice for {invoice.period} is already paid", code="invoice_paid")
    result = provider.collect(to_collect(invoice))
    if not result.paid:
        raise Conflict(f"{result.provider} did not collect the payment", code="payment_failed")
    if not ctx.billing.mark_paid(invoice.org_id, invoice.period, result.provider, result.reference):
        raise Conflict(f"the invoice for {invoice.period} is already paid", code="invoice_paid")
    details = {"period": invoice.period, "provider": result.provider, "reference": result.reference}
    ctx.audit.record(invoice.org_id, actor, "invoice.paid", invoice.id, details)
    return get_invoice(ctx, invoice.org_id, invoice.period)
