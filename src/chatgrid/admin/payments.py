"""The operator's card-payment settings: Stripe's secret key and webhook secret, sealed.

Both secrets are read from standard input by the command line and never
shown again: the vault seals them together (bound to the provider's row) and
rewraps them when the master key rotates; lists and the audit log show a
fingerprint only. ``docs/billing.md`` ("Payments with Stripe") has the story.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from chatgrid.admin.alerts import checked_url
from chatgrid.audit import Actor
from chatgrid.billing.payment_standing import DEFAULT_GRACE_DAYS, MAX_GRACE_DAYS
from chatgrid.context import AppContext
from chatgrid.errors import InvalidRequest, NotFound
from chatgrid.store.payments import STRIPE, PaymentRepository
from chatgrid.vault import SecretUnreadable, Vault

STRIPE_BINDING = "payment_settings:stripe"


@dataclass(frozen=True)
class StripeSecrets:
    secret_key: str
    webhook_secret: str
    api_base: str | None
    grace_days: int
    #: Stripe.js's key on the console's card page (public; None: no card page).
    publishable_key: str | None = None

    @property
    def js_url(self) -> str:
        """Where the card page loads Stripe.js: Stripe's, or the test server's own copy."""
        if self.api_base is None:
            return "https://js.stripe.com/v3/"
        return f"{self.api_base}/js.stripe.com/v3/"


def payments(ctx: AppContext) -> PaymentRepository:
    return PaymentRepository(ctx.engine)


def set_stripe(
    ctx: AppContext,
    actor: Actor,
    *,
    secret_key: str,
    webhook_secret: str,
    api_base: str | None = None,
    grace_days: int | None = None,
    publishable_key: str | None = None,
) -> dict[str, Any]:
    """Configure Stripe (replacing what was set); the answer names the key by fingerprint only."""
    secret_key, webhook_secret = secret_key.strip(), webhook_secret.strip()
    if publishable_key is not None and (
        not publishable_key.startswith("pk_")
        or len(publishable_key) > 500
        or not publishable_key.isascii()
        or not publishable_key.replace("_", "").isalnum()
    ):
        raise InvalidRequest("a Stripe publishable key starts with pk_", param="publishable_key")
    if not secret_key.startswith(("sk_", "rk_")) or len(secret_key) > 500:
        raise InvalidRequest(
            "a Stripe secret key starts with sk_ (or rk_ for a restricted key)", param="secret_key"
        )
    if not webhook_secret.startswith("whsec_") or len(webhook_secret) > 500:
        raise InvalidRequest("a Stripe webhook secret starts with whsec_", param="webhook_secret")
    days = DEFAULT_GRACE_DAYS if grace_days is None else grace_days
    if not 0 <= days <= MAX_GRACE_DAYS:
        raise InvalidRequest(f"the grace period is 0 to {MAX_GRACE_DAYS} days", param="grace_days")
    base = None if api_base is None else checked_url(ctx, api_base).rstrip("/")
    document = json.dumps(
        {
            "secret_key": secret_key,
            "webhook_secret": webhook_secret,
            "publishable_key": publishable_key,
        }
    )
    sealed = ctx.vault.seal(document, binding=STRIPE_BINDING)
    payments(ctx).put_settings(sealed, api_base=base, grace_days=days, updated_by=actor.email)
    details = {"fingerprint": sealed.fingerprint, "api_base": base, "grace_days": days}
    ctx.audit.record(None, actor, "payments.stripe_set", STRIPE, details)
    return stripe_status(ctx)


def clear_stripe(ctx: AppContext, actor: Actor) -> None:
    if not payments(ctx).clear_settings():
        raise NotFound("Stripe is not configured", code="payments_not_configured")
    ctx.audit.record(None, actor, "payments.stripe_cleared", STRIPE, {})


def stripe_status(ctx: AppContext) -> dict[str, Any]:
    """What may be shown of the settings: never a secret."""
    stored = payments(ctx).settings()
    opened = stripe_secrets(ctx)
    if stored is None or opened is None:
        return {"provider": "manual", "stripe": None}
    return {
        "provider": STRIPE,
        "stripe": {
            "fingerprint": stored.sealed.fingerprint,
            "publishable_key": opened.publishable_key,
            "api_base": stored.api_base,
            "grace_days": stored.grace_days,
            "updated_at": stored.updated_at.isoformat(),
            "updated_by": stored.updated_by,
        },
    }


def stripe_secrets(ctx: AppContext) -> StripeSecrets | None:
    """The opened settings (None: Stripe is not configured)."""
    stored = payments(ctx).settings()
    if stored is None:
        return None
    document = json.loads(ctx.vault.open(stored.sealed, binding=STRIPE_BINDING))
    return StripeSecrets(
        document["secret_key"],
        document["webhook_secret"],
        stored.api_base,
        stored.grace_days,
        document.get("publishable_key"),
    )


def rewrap_payment_settings(ctx: AppContext, vault: Vault) -> tuple[int, list[str]]:
    """The sealed settings under the vault's current master (``vault rotate-master``)."""
    stored = payments(ctx).settings()
    if stored is None or stored.sealed.master_key_version == vault.keyring.current_version:
        return 0, []
    try:
        fresh = vault.rewrap(stored.sealed, binding=STRIPE_BINDING)
    except SecretUnreadable:
        return 0, ["payment_settings:stripe"]
    payments(ctx).store_rewrapped(fresh)
    return 1, []


def master_versions(ctx: AppContext) -> set[int]:
    stored = payments(ctx).settings()
    return set() if stored is None else {stored.sealed.master_key_version}
