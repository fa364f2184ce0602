"""Card payments: the operator's Stripe settings (``docs/billing.md``, "Payments with Stripe")."""

from __future__ import annotations

import getpass
import sys
from typing import Annotated

import typer

from chatgrid.admin import payments, stripe_charges
from chatgrid.audit import Actor
from chatgrid.cli.billing import PeriodArg
from chatgrid.cli.common import OrgArg, admin_context, emit, fail

payments_app = typer.Typer(
    help="How invoices are collected: manual, or Stripe.", no_args_is_help=True
)
stripe_app = typer.Typer(
    help="Stripe: keys (sealed), webhooks, grace period.", no_args_is_help=True
)
payments_app.add_typer(stripe_app, name="stripe")


def _two_secrets() -> tuple[str, str]:
    """The secret key, then the webhook secret: two lines on standard input (or prompts)."""
    if sys.stdin.isatty():
        return getpass.getpass("Stripe secret key: "), getpass.getpass("Webhook secret: ")
    lines = [line.strip() for line in sys.stdin.read().splitlines() if line.strip()]
    if len(lines) != 2:
        fail("give the secret key and the webhook secret on two lines of standard input")
    return lines[0], lines[1]


@stripe_app.command("set")
def stripe_set(
    api_base: Annotated[
        str | None,
        typer.Option("--api-base", help="Another Stripe API URL (a test server)."),
    ] = None,
    grace_days: Annotated[
        int | None,
        typer.Option("--grace-days", help="Days after a failed payment before read-only (7)."),
    ] = None,
    publishable_key: Annotated[
        str | None,
        typer.Option("--publishable-key", help="pk_…, for the console's card page (public)."),
    ] = None,
) -> None:
    """Configure Stripe: sk_… then whsec_… on standard input, sealed by the vault."""
    secret_key, webhook_secret = _two_secrets()
    with admin_context() as ctx:
        emit(
            payments.set_stripe(
                ctx,
                Actor.cli(),
                secret_key=secret_key,
                webhook_secret=webhook_secret,
                api_base=api_base,
                grace_days=grace_days,
                publishable_key=publishable_key,
            )
        )


@stripe_app.command("show")
def stripe_show() -> None:
    """How invoices are collected now (never a secret: the key's fingerprint only)."""
    with admin_context() as ctx:
        emit(payments.stripe_status(ctx))


@stripe_app.command("clear")
def stripe_clear() -> None:
    """Stop using Stripe: its secrets are erased; invoices are marked paid by hand again."""
    with admin_context() as ctx:
        payments.clear_stripe(ctx, Actor.cli())
        emit(payments.stripe_status(ctx))


@stripe_app.command("link")
def stripe_link(
    org: OrgArg,
    customer: Annotated[str, typer.Argument(help="The Stripe customer's id (cus_…).")],
) -> None:
    """Name the Stripe customer that pays for an org (its default card is charged)."""
    with admin_context() as ctx:
        emit(stripe_charges.link_customer(ctx, org, customer, Actor.cli()))


@stripe_app.command("charge")
def stripe_charge(org: OrgArg, period: PeriodArg) -> None:
    """Charge an issued invoice's total to the org's Stripe customer, now."""
    with admin_context() as ctx:
        emit(stripe_charges.charge_invoice(ctx, org, period, Actor.cli()).public())
