"""Stripe's webhooks: verified as Stripe signs them, each event once, in any order.

Stripe signs ``{timestamp}.{body}`` with the endpoint's ``whsec_`` secret
(HMAC-SHA256, the ``Stripe-Signature`` header's ``t=`` and ``v1=``); the
official SDK checks it, and a signature older than five minutes is refused
(a replay of a captured request). An event id is recorded before it is
acted on, so a twin delivered twice, or a retry, is acted on once; an event
whose handling failed is forgotten again so that Stripe's retry is handled.
An event names its org in its metadata (``chatgrid_org_id``), or through
its customer, linked to the org (``chatgrid payments stripe link``).

Order is not trusted: a ``payment_failed`` that arrives after the same
invoice's ``paid`` starts no grace period, and ``paid`` ends a grace period
whenever it comes. Stripe's invoices carry ChatGrid's org and period in
their metadata (``chatgrid_org_id``, ``chatgrid_period``).

``setup_intent.succeeded`` makes the card saved on the console's card page
the org's default, as the page itself does when it gets the chance; so does
``checkout.session.completed`` for a Checkout Session in setup mode (a card
saved through Stripe Checkout or a link the operator sent).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import stripe

from chatgrid.admin.payment_outcomes import STRIPE_ACTOR, record_failed, record_paid
from chatgrid.admin.payments import payments, stripe_secrets
from chatgrid.admin.stripe_cards import adopt_card
from chatgrid.context import AppContext
from chatgrid.errors import Conflict, InvalidRequest, NotFound
from chatgrid.store.payments import FAILED_EVENTS, PAID_EVENTS
from chatgrid.store.types import utcnow

#: Seconds a signature stays good: Stripe's own default.
TOLERANCE_SECONDS = 300


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
    if org_id is None and isinstance(obj.get("customer"), str):
        org_id = payments(ctx).org_of_customer(obj["customer"])
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


def _saved_card_setup(kind: str, obj: dict[str, Any]) -> str | None:
    """The SetupIntent of a card saved with Stripe.js, or through Stripe Checkout in setup mode."""
    if kind == "setup_intent.succeeded" and isinstance(obj.get("id"), str):
        return str(obj["id"])
    if kind == "checkout.session.completed" and obj.get("mode") == "setup":
        found = obj.get("setup_intent")
        return found if isinstance(found, str) else None
    return None


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
        return record_paid(ctx, org_id, ref, (obj.get("metadata") or {}).get("chatgrid_period"))
    if kind in FAILED_EVENTS and org_id is not None and ref is not None:
        return record_failed(
            ctx,
            org_id,
            ref,
            period=(obj.get("metadata") or {}).get("chatgrid_period"),
            attempt=obj.get("attempt_count"),
            now=now,
            grace_days=grace_days,
        )
    setup_intent = _saved_card_setup(kind, obj)
    if setup_intent is not None and org_id is not None:
        try:  # the card page's own report may have done it already: then this changes nothing
            adopt_card(ctx, org_id, setup_intent, STRIPE_ACTOR)
        except (NotFound, Conflict, InvalidRequest):
            return "ignored"  # not the org's customer's, or not a card (Stripe down: retried)
        return "card_saved"
    if kind in ("customer.subscription.deleted", "checkout.session.completed"):
        action = "payment." + kind.split(".", 1)[1].replace(".", "_")
        ctx.audit.record(org_id, STRIPE_ACTOR, action, ref, {"event": kind})
        return "recorded"
    return "ignored"
