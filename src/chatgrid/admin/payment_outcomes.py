"""What a payment's outcome changes, wherever it is learnt (a charge's answer, a webhook).

Paid: ChatGrid's invoice for the month is marked paid (once; the provider's
id as reference) and that payment's grace period (the same provider object,
or the same month) ends at once on every replica. Failed:
the org's grace period starts (once; a later failure keeps its end), the org's
channels are alerted (once per invoice and attempt) and it is audited. A
failure learnt after the same invoice was paid changes nothing.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from chatgrid.admin.payments import payments
from chatgrid.alerts import AlertEvent
from chatgrid.audit import Actor
from chatgrid.billing.payment_standing import grace_end
from chatgrid.context import AppContext
from chatgrid.store.types import utcnow

STRIPE_ACTOR = Actor(user_id=None, email="stripe", client_addr=None, user_agent="stripe-webhook")


def record_paid(
    ctx: AppContext, org_id: str, ref: str, period: object, actor: Actor = STRIPE_ACTOR
) -> str:
    """The provider's payment ``ref`` paid ChatGrid's invoice for ``period`` (if named)."""
    if isinstance(period, str) and ctx.billing.mark_paid(org_id, period, "stripe", ref):
        details = {"period": period, "provider": "stripe", "reference": ref}
        ctx.audit.record(org_id, actor, "invoice.paid", period, details)
    paid_period = period if isinstance(period, str) else None
    if payments(ctx).end_failure(org_id, ref, paid_period):
        ctx.audit.record(org_id, actor, "payment.grace_ended", ref, {"invoice": ref})
        ctx.changes.bump()  # read-only (if it was) ends on every replica now
    return "paid"


def record_failed(
    ctx: AppContext,
    org_id: str,
    ref: str,
    *,
    period: object,
    attempt: object,
    now: datetime,
    grace_days: int,
    actor: Actor = STRIPE_ACTOR,
) -> str:
    """A payment (``ref``: the provider's invoice or charge) failed: the grace period runs."""
    store = payments(ctx)
    paid_here = isinstance(period, str) and _invoice_paid(ctx, org_id, period)
    if store.invoice_paid_seen(ref) or paid_here:
        return "already_paid"  # the paid event came first: nothing to start
    ends = grace_end(now, grace_days)
    started = store.start_failure(
        org_id, ref, now, ends, period if isinstance(period, str) else None
    )
    failure = store.failure(org_id)
    assert failure is not None
    details = {"invoice": ref, "attempt": attempt, "grace_ends_at": failure.grace_ends_at}
    ctx.audit.record(org_id, actor, "payment.failed", ref, _jsonable(details))
    ctx.alerts.enqueue(_failed_event(org_id, ref, attempt, failure.grace_ends_at), utcnow())
    if started:
        ctx.changes.bump()
    return "grace_started" if started else "grace_running"


def _invoice_paid(ctx: AppContext, org_id: str, period: str) -> bool:
    invoice = ctx.billing.invoice(org_id, period)
    return invoice is not None and invoice.status == "paid"


def _failed_event(org_id: str, ref: str, attempt: object, ends: datetime) -> AlertEvent:
    when = ends.astimezone(UTC).strftime("%Y-%m-%d %H:%M")
    return AlertEvent(
        kind="invoice.payment_failed",
        org_id=org_id,
        dedupe_key=f"invoice.payment_failed:{ref}:{attempt}",
        subject="ChatGrid: a payment failed — update the card",
        text=(
            f"Stripe could not charge the card for invoice {ref}. Update the card before "
            f"{when} UTC, or the organization turns read-only until the invoice is paid."
        ),
        payload={"invoice": ref, "attempt": attempt, "grace_ends_at": ends.isoformat()},
    )


def _jsonable(details: dict[str, Any]) -> dict[str, Any]:
    return {k: v.isoformat() if isinstance(v, datetime) else v for k, v in details.items()}
