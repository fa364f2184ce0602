"""Stripe's webhooks: verified as Stripe signs them, each event once, in any order.

Stripe signs ``{timestamp}.{body}`` with the endpoint's ``whsec_`` secret
(HMAC-SHA256, the ``Stripe-Signature`` header's ``t=`` and ``v1=``); the
official SDK checks it, and a signature older than five minutes is refused
(a replay of a captured request). An event id is recorded before it is
acted on, so a twin delivered twice, or a retry, is acted on once; an event
whose handling failed is forgotten again so that Stripe's retry is handled.

Order is not trusted: a ``payment_failed`` that arrives after the same
invoice's ``paid`` starts no grace period, and ``paid`` ends a grace period
whenever it comes. Stripe's invoices carry ChatGrid's org and period in
their metadata (``chatgrid_org_id``, ``chatgrid_period``).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import stripe

from chatgrid.admin.payments import payments, stripe_secrets
from chatgrid.alerts import AlertEvent
from chatgrid.audit import Actor
from chatgrid.billing.payment_standing import grace_end
from chatgrid.context import AppContext
from chatgrid.errors import InvalidRequest, NotFound
from chatgrid.store.types import utcnow

#: Seconds a signature stays good: Stripe's own default.
TOLERANCE_SECONDS = 300
#: Stripe sends both for a paid invoice (older integrations listen to the second).
PAID_EVENTS = ("invoice.paid", "invoice.payment_succeeded")

STRIPE_ACTOR = Actor(user_id=None, email="stripe", client_addr=None, user_agent="stripe-webhook")


def handle_stripe_webhook(
    ctx: AppContext, payload: bytes, signature: str | None, now: datetime | None = None
) -> str:
    """Verify and act on one delivery; what was done (``duplicate`` for one seen before)."""
    secrets = stripe_secrets(ctx)
    if secrets is None:
        raise NotFound("Stripe is not configured", code="payments_not_configured")
    try:
        event = stripe.Webhook.construct_event(
            payload, signature or "", secrets.webhook_secret, tolerance=TOLERANCE_SECONDS
        )
    except (ValueError, stripe.SignatureVerificationError):
        raise InvalidRequest(
            "the Stripe-Signature header does not verify this body", code="invalid_signature"
        ) from None
    kind = str(event["type"])
    found: Any = event["data"]["object"]
    obj: dict[str, Any] = found.to_dict() if hasattr(found, "to_dict") else dict(found)
    metadata = obj.get("metadata") or {}
    org_id = _known_org(ctx, metadata.get("chatgrid_org_id"))
    ref = obj.get("id") if isinstance(obj.get("id"), str) else None
    moment = now or utcnow()
    store = payments(ctx)
    if not store.record_event(
        str(event["id"]), kind, org_id=org_id, object_ref=ref, outcome="handling", now=moment
    ):
        return "duplicate"
    try:
        outcome = _act(ctx, kind, obj, org_id, ref, moment, secrets.grace_days)
    except BaseException:
        store.forget_event(str(event["id"]))
        raise
    store.settle_event(str(event["id"]), outcome)
    return outcome


def _known_org(ctx: AppContext, org_id: object) -> str | None:
    if not isinstance(org_id, str):
        return None
    try:
        return ctx.orgs.by_id(org_id).id
    except NotFound:
        return None


def _act(
    ctx: AppContext,
    kind: str,
    obj: dict[str, Any],
    org_id: str | None,
    ref: str | None,
    now: datetime,
    grace_days: int,
) -> str:
    if kind in PAID_EVENTS and org_id is not None and ref is not None:
        return _paid(ctx, org_id, ref, obj.get("metadata") or {})
    if kind == "invoice.payment_failed" and org_id is not None and ref is not None:
        return _failed(ctx, org_id, ref, obj, now, grace_days)
    if kind in ("customer.subscription.deleted", "checkout.session.completed"):
        action = "payment." + kind.split(".", 1)[1].replace(".", "_")
        ctx.audit.record(org_id, STRIPE_ACTOR, action, ref, {"event": kind})
        return "recorded"
    return "ignored"


def _paid(ctx: AppContext, org_id: str, ref: str, metadata: dict[str, Any]) -> str:
    period = metadata.get("chatgrid_period")
    if isinstance(period, str) and ctx.billing.mark_paid(org_id, period, "stripe", ref):
        details = {"period": period, "provider": "stripe", "reference": ref}
        ctx.audit.record(org_id, STRIPE_ACTOR, "invoice.paid", period, details)
    if payments(ctx).end_failure(org_id):
        ctx.audit.record(org_id, STRIPE_ACTOR, "payment.grace_ended", ref, {"invoice": ref})
        ctx.changes.bump()  # read-only (if it was) ends on every replica now
    return "paid"


def _failed(
    ctx: AppContext, org_id: str, ref: str, obj: dict[str, Any], now: datetime, grace_days: int
) -> str:
    store = payments(ctx)
    period = (obj.get("metadata") or {}).get("chatgrid_period")
    paid_here = isinstance(period, str) and _invoice_paid(ctx, org_id, period)
    if store.invoice_paid_seen(ref) or paid_here:
        return "already_paid"  # the paid event came first: nothing to start
    ends = grace_end(now, grace_days)
    started = store.start_failure(org_id, ref, now, ends)
    failure = store.failure(org_id)
    assert failure is not None
    attempt = obj.get("attempt_count")
    details = {"invoice": ref, "attempt": attempt, "grace_ends_at": failure.grace_ends_at}
    ctx.audit.record(org_id, STRIPE_ACTOR, "payment.failed", ref, _jsonable(details))
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
