"""Plans, trials, member caps and invoices.

``plan`` and ``invoice`` are sub-apps of their own; ``org extend-trial``,
``org billing`` and ``member cap`` join the existing ``org`` and ``member``
apps when this module is imported.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

import typer

from chatgrid.admin import billing, stripe_charges
from chatgrid.admin.stripe_charges import Collection
from chatgrid.audit import Actor
from chatgrid.billing.invoices import Invoice, invoice_csv
from chatgrid.billing.payments import ManualPayment
from chatgrid.billing.plans import parse_dollars
from chatgrid.billing.standing import BillingAccount, budget_status, trial_status
from chatgrid.cli.common import OrgArg, admin_context, emit, fail
from chatgrid.cli.people import member_app, org_app

plan_app = typer.Typer(help="Plans: seat price, markup, allowance.", no_args_is_help=True)
invoice_app = typer.Typer(help="Monthly invoices (money in micro-dollars).", no_args_is_help=True)
PeriodArg = Annotated[str, typer.Argument(help="The month, YYYY-MM (UTC).")]


def _account(account: BillingAccount) -> dict[str, object]:
    ends = account.trial_ends_at
    return {
        "org_id": account.org_id,
        "plan_id": account.plan_id,
        "trial_ends_at": None if ends is None else ends.isoformat(),
    }


@plan_app.command("list")
def plan_list() -> None:
    """Every plan."""
    with admin_context() as ctx:
        emit([plan.public() for plan in ctx.plans.list()])


@plan_app.command("create")
def plan_create(
    name: str,
    seat_price: Annotated[str, typer.Option("--seat-price", help="USD per seat per month.")],
    markup_bps: Annotated[int, typer.Option("--markup-bps", help="Markup on shared credits.")],
    allowance_per_seat: Annotated[
        str, typer.Option("--allowance-per-seat", help="USD of shared credits per seat a month.")
    ],
    overage: Annotated[
        bool, typer.Option("--overage/--hard-stop", help="Bill beyond the allowance, or stop.")
    ] = False,
) -> None:
    """Create a plan (amounts in exact decimal dollars, up to 6 decimals)."""
    with admin_context() as ctx:
        plan = billing.create_plan(
            ctx,
            name,
            seat_price_micros=parse_dollars(seat_price, "seat_price"),
            markup_bps=markup_bps,
            allowance_micros_per_seat=parse_dollars(allowance_per_seat, "allowance_per_seat"),
            overage=overage,
            actor=Actor.cli(),
        )
        emit(plan.public())


@plan_app.command("update")
def plan_update(
    plan: Annotated[str, typer.Argument(help="Plan id or name.")],
    seat_price: Annotated[
        str | None, typer.Option("--seat-price", help="USD per seat per month.")
    ] = None,
    markup_bps: Annotated[
        int | None, typer.Option("--markup-bps", help="Markup on shared credits.")
    ] = None,
    allowance_per_seat: Annotated[
        str | None, typer.Option("--allowance-per-seat", help="USD of shared credits per seat.")
    ] = None,
    overage: Annotated[
        bool | None,
        typer.Option("--overage/--hard-stop", help="Bill beyond the allowance, or stop."),
    ] = None,
) -> None:
    """Change a plan's terms from now on (options left out keep their value)."""
    with admin_context() as ctx:
        current = ctx.plans.get(plan)
        updated = billing.update_plan(
            ctx,
            current.id,
            seat_price_micros=(
                current.seat_price_micros
                if seat_price is None
                else parse_dollars(seat_price, "seat_price")
            ),
            markup_bps=current.markup_bps if markup_bps is None else markup_bps,
            allowance_micros_per_seat=(
                current.allowance_micros_per_seat
                if allowance_per_seat is None
                else parse_dollars(allowance_per_seat, "allowance_per_seat")
            ),
            overage=current.overage if overage is None else overage,
            actor=Actor.cli(),
        )
        emit(updated.public())


@plan_app.command("assign")
def plan_assign(org: OrgArg, plan: Annotated[str, typer.Argument(help="Plan id or name.")]) -> None:
    """Put an org on a paid plan from now (ends its trial)."""
    with admin_context() as ctx:
        emit(_account(billing.assign_plan(ctx, org, plan, actor=Actor.cli())))


@org_app.command("extend-trial")
def org_extend_trial(
    org: OrgArg, days: Annotated[int, typer.Option("--days", help="Days to add.")]
) -> None:
    """Operator: lengthen an org's trial (an ended trial restarts from now)."""
    with admin_context() as ctx:
        emit(_account(billing.extend_trial(ctx, org, days, actor=Actor.cli())))


@org_app.command("billing")
def org_billing(org: OrgArg) -> None:
    """An org's plan, trial and shared-credit allowance this month."""
    with admin_context() as ctx:
        org_id = ctx.orgs.get(org).id
        account, now = ctx.billing.account(org_id), datetime.now(UTC)
        trial = trial_status(account, now)
        emit(
            {
                **_account(account),
                "trial_state": trial.state.value,
                "trial_days_left": trial.days_left,
                "budget": budget_status(ctx.billing, ctx.plans, org_id, now).public(),
            }
        )


@member_app.command("cap")
def member_cap(
    org: OrgArg,
    email: str,
    usd: Annotated[str | None, typer.Option("--usd", help="Monthly cap in USD.")] = None,
    clear: Annotated[bool, typer.Option("--clear", help="Remove the cap.")] = False,
) -> None:
    """Cap one member's shared-credit spend per month (in force when this returns)."""
    if (usd is None) == (not clear):
        fail("give exactly one of --usd X or --clear")
    with admin_context() as ctx:
        cap = None if clear else parse_dollars(usd or "", "usd")
        billing.set_member_cap(ctx, org, email, cap, actor=Actor.cli())
        org_id = ctx.orgs.get(org).id
        member = ctx.members.find_by_email(org_id, email)
        emit(billing.member_budget_status(ctx, org_id, member.id).public())


@invoice_app.command("issue")
def invoice_issue(org: OrgArg, period: PeriodArg) -> None:
    """Issue the month's invoice (again: the same invoice, unchanged).

    With Stripe set up and a customer linked, a new invoice is charged at once.
    """
    with admin_context() as ctx:
        invoice, collection = stripe_charges.issue_and_collect(ctx, org, period, Actor.cli())
        emit(_issued(invoice, collection, invoice.public()))


@invoice_app.command("issue-all")
def invoice_issue_all(period: PeriodArg) -> None:
    """Issue the month's invoice of every org (each new one charged as ``issue`` does)."""
    with admin_context() as ctx:
        issued = stripe_charges.issue_all_and_collect(ctx, period, Actor.cli())
        emit(
            [
                _issued(i, c, {"org_id": i.org_id, "id": i.id, "total_micros": i.total_micros})
                for i, c in issued
            ]
        )


def _issued(
    invoice: Invoice, collection: Collection | None, shown: dict[str, object]
) -> dict[str, object]:
    """What was issued, with what Stripe did when it was asked to collect it."""
    if collection is not None:
        shown["status"] = invoice.status
        shown["collection"] = collection.public()
    return shown


@invoice_app.command("list")
def invoice_list(org: OrgArg) -> None:
    """An org's invoices, oldest first (without lines)."""
    with admin_context() as ctx:
        rows = ctx.billing.invoices(ctx.orgs.get(org).id)
        emit([{k: v for k, v in i.public().items() if k != "lines"} for i in rows])


@invoice_app.command("show")
def invoice_show(
    org: OrgArg,
    period: PeriodArg,
    format: Annotated[str, typer.Option("--format", help="json or csv.")] = "json",
) -> None:
    """One issued invoice, as JSON or CSV."""
    if format not in {"json", "csv"}:
        fail("--format is json or csv")
    with admin_context() as ctx:
        invoice = billing.get_invoice(ctx, org, period)
    if format == "json":
        emit(invoice.public())
    else:
        typer.echo(invoice_csv(invoice), nl=False)


@invoice_app.command("mark-paid")
def invoice_mark_paid(
    org: OrgArg,
    period: PeriodArg,
    reference: Annotated[str, typer.Option("--reference", help="Where the payment is recorded.")],
) -> None:
    """Record a payment received outside ChatGrid (the manual provider)."""
    with admin_context() as ctx:
        provider = ManualPayment(reference)
        emit(billing.collect(ctx, org, period, provider, actor=Actor.cli()).public())
