"""Collecting an issued invoice from the org's Stripe customer: one off-session charge.

ChatGrid's invoice stays the source of truth (its lines are the ledger's);
Stripe collects its total through the ``PaymentProvider`` seam
(``stripe_provider.StripeCard``: the customer's default card, one
PaymentIntent, to the cent). A decline starts the grace period at once (and the
``payment_intent.payment_failed`` webhook that follows finds it running);
success marks the invoice paid (and the ``payment_intent.succeeded`` webhook
finds it paid). Stripe's own invoices are not used: see ``docs/billing.md``.

Issuing an invoice charges it at once when Stripe is configured and the org
has a customer (``issue_and_collect``): once per invoice, whatever happens,
so that issuing a month again never charges twice; a declined or unasked
charge is retried by hand (``chatgrid payments stripe charge``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from chatgrid.admin.billing import get_invoice, issue_invoice, to_collect
from chatgrid.admin.payment_outcomes import record_failed, record_paid
from chatgrid.admin.payments import StripeSecrets, payments, stripe_secrets
from chatgrid.admin.stripe_provider import StripeCard, billed_lines, cents_of
from chatgrid.audit import Actor
from chatgrid.billing.invoices import Invoice
from chatgrid.billing.payments import PaymentResult
from chatgrid.billing.seats import Month
from chatgrid.context import AppContext
from chatgrid.errors import (
    ChatGridError,
    Conflict,
    InvalidRequest,
    NotFound,
    ServiceUnavailable,
)
from chatgrid.store.types import utcnow

if TYPE_CHECKING:
    import stripe  # imported where Stripe is called: every CLI command would pay 0.2 s for it

#: Seconds one request to Stripe may take before it is given up (and retried, twice).
STRIPE_TIMEOUT_SECONDS = 15


def stripe_client(secrets: StripeSecrets) -> stripe.StripeClient:
    """Stripe's client, with a timeout a console page can wait for (the SDK's is 80 s)."""
    import stripe

    return stripe.StripeClient(
        secrets.secret_key,
        base_addresses={} if secrets.api_base is None else {"api": secrets.api_base},
        max_network_retries=2,
        http_client=stripe.new_default_http_client(timeout=STRIPE_TIMEOUT_SECONDS),
    )


def _configured(ctx: AppContext) -> StripeSecrets:
    found = stripe_secrets(ctx)
    if found is None:
        raise NotFound("Stripe is not configured", code="payments_not_configured")
    return found


def link_customer(ctx: AppContext, org_ref: str, customer_id: str, actor: Actor) -> dict[str, Any]:
    """Name the Stripe customer that pays for the org (checked with Stripe first)."""
    import stripe

    org = ctx.orgs.get(org_ref)
    customer_id = customer_id.strip()
    if not customer_id.startswith("cus_") or len(customer_id) > 255:
        raise InvalidRequest("a Stripe customer id starts with cus_", param="customer")
    client = stripe_client(_configured(ctx))
    try:
        customer = client.v1.customers.retrieve(customer_id)
    except stripe.InvalidRequestError:
        raise NotFound(f"Stripe has no customer {customer_id}", code="customer_not_found") from None
    except stripe.StripeError as exc:
        raise ServiceUnavailable(f"Stripe could not be asked: {type(exc).__name__}") from None
    payments(ctx).link_customer(org.id, customer.id)
    ctx.audit.record(org.id, actor, "payments.customer_linked", customer.id, {"org": org.name})
    return {"org_id": org.id, "customer": customer.id}


@dataclass(frozen=True)
class Collection:
    """What issuing an invoice did about collecting it through Stripe."""

    status: str  # "paid", "failed" (declined: the grace period runs) or "not_charged"
    detail: str

    def public(self) -> dict[str, str]:
        return {"status": self.status, "detail": self.detail}


def issue_and_collect(
    ctx: AppContext, org_ref: str, period: str, actor: Actor, now: datetime | None = None
) -> tuple[Invoice, Collection | None]:
    """Issue the month's invoice and, the first time, charge it (None: Stripe is not set up).

    An invoice issued before (by this command or another) is returned as it
    is and not charged again; the charge of a new one carries an idempotency
    key of its own, so a race between two issuers still charges once.
    """
    org = ctx.orgs.get(org_ref)
    new = ctx.billing.invoice(org.id, str(Month.parse(period))) is None
    invoice = issue_invoice(ctx, org.id, period, actor=actor, now=now)
    if not new or stripe_secrets(ctx) is None:
        return invoice, None
    if payments(ctx).customer_of(org.id) is None:
        return invoice, Collection("not_charged", "the org has no Stripe customer")
    try:
        charged = charge_invoice(
            ctx, org.id, invoice.period, actor, now, idempotency_key=f"chatgrid-{invoice.id}"
        )
    except ChatGridError as exc:
        status = "failed" if exc.code == "payment_failed" else "not_charged"
        return get_invoice(ctx, org.id, invoice.period), Collection(status, exc.message)
    return charged, Collection("paid", str(charged.payment_reference))


def issue_all_and_collect(
    ctx: AppContext, period: str, actor: Actor, now: datetime | None = None
) -> list[tuple[Invoice, Collection | None]]:
    """Every org's invoice for the month, each charged as ``issue_and_collect`` does."""
    month = Month.parse(period)
    return [
        issue_and_collect(ctx, org.id, str(month), actor, now)
        for org in ctx.orgs.list()
        if org.created_at < month.end
    ]


def collect_open_invoices(
    ctx: AppContext, org_id: str, card_id: str, actor: Actor
) -> list[tuple[str, Collection]]:
    """Charge every issued, unpaid invoice of the org to the card just saved (oldest first).

    What an admin expects of "update your card": the payment that failed is
    made, and the grace period or read-only state ends. The idempotency key
    names the card, so the page and the webhook saving the same card charge
    an invoice once.
    """
    done: list[tuple[str, Collection]] = []
    for invoice in ctx.billing.invoices(org_id):
        if invoice.status != "issued":
            continue
        key = f"chatgrid-{invoice.id}-{card_id}"
        try:
            paid = charge_invoice(ctx, org_id, invoice.period, actor, idempotency_key=key)
        except ChatGridError as exc:
            status = "failed" if exc.code == "payment_failed" else "not_charged"
            done.append((invoice.period, Collection(status, exc.message)))
            continue
        done.append((invoice.period, Collection("paid", str(paid.payment_reference))))
    return done


def charge_invoice(
    ctx: AppContext,
    org_ref: str,
    period: str,
    actor: Actor,
    now: datetime | None = None,
    *,
    idempotency_key: str | None = None,
) -> Invoice:
    """Charge the invoice's total to the org's customer; a decline is a 409 ``payment_failed``."""
    invoice = get_invoice(ctx, org_ref, period)
    if invoice.status == "paid":
        raise Conflict(f"the invoice for {invoice.period} is already paid", code="invoice_paid")
    secrets = _configured(ctx)
    customer_id = payments(ctx).customer_of(invoice.org_id)
    if customer_id is None:
        raise Conflict(
            "the org has no Stripe customer: link one first (chatgrid payments stripe link)",
            code="no_stripe_customer",
        )
    if cents_of(invoice.total_micros) == 0:
        record_paid(ctx, invoice.org_id, "nothing-to-charge", invoice.period, actor)
        return get_invoice(ctx, invoice.org_id, invoice.period)
    card = StripeCard(stripe_client(secrets), customer_id, billed_lines(invoice), idempotency_key)
    result = card.collect(to_collect(invoice))
    if not result.paid:
        return _declined(ctx, invoice, result, actor, now)
    record_paid(ctx, invoice.org_id, result.reference, invoice.period, actor)
    return get_invoice(ctx, invoice.org_id, invoice.period)


def _declined(
    ctx: AppContext, invoice: Invoice, result: PaymentResult, actor: Actor, now: datetime | None
) -> Invoice:
    record_failed(
        ctx,
        invoice.org_id,
        result.reference,
        period=invoice.period,
        attempt=None,
        now=now or utcnow(),
        grace_days=_configured(ctx).grace_days,
        actor=actor,
    )
    raise Conflict(
        f"Stripe did not collect the invoice for {invoice.period}: {result.reason}. The grace "
        "period runs; the org's admins are alerted.",
        code="payment_failed",
    )
