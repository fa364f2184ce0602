"""Card payments as stored: the one writer of ``payment_settings``, ``payment_events``
and ``payment_failures`` (``store/tables/payments.py``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine, delete, or_, select, update
from sqlalchemy.exc import IntegrityError

from chatgrid.billing.payment_standing import PaymentFailure
from chatgrid.store.tables import (
    payment_events,
    payment_failures,
    payment_settings,
    stripe_customers,
)
from chatgrid.store.types import utcnow
from chatgrid.vault import SealedSecret

STRIPE = "stripe"
#: Stripe's events that say a payment went through (an invoice's, or a charge's).
PAID_EVENTS = ("invoice.paid", "invoice.payment_succeeded", "payment_intent.succeeded")
#: And those that say it did not.
FAILED_EVENTS = ("invoice.payment_failed", "payment_intent.payment_failed")


@dataclass(frozen=True)
class StoredPaymentSettings:
    provider: str
    sealed: SealedSecret  # {"secret_key": …, "webhook_secret": …} as JSON
    api_base: str | None
    grace_days: int
    updated_at: datetime
    updated_by: str | None


class PaymentRepository:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    # -- the operator's settings ----------------------------------------------

    def settings(self, provider: str = STRIPE) -> StoredPaymentSettings | None:
        query = select(payment_settings).where(payment_settings.c.provider == provider)
        with self.engine.connect() as conn:
            row = conn.execute(query).mappings().first()
        if row is None:
            return None
        sealed = SealedSecret(
            fingerprint=row["fingerprint"],
            last4="",
            wrapped_key=row["wrapped_key"],
            master_key_version=row["master_key_version"],
            nonce=row["nonce"],
            ciphertext=row["ciphertext"],
        )
        return StoredPaymentSettings(
            row["provider"],
            sealed,
            row["api_base"],
            int(row["grace_days"]),
            row["updated_at"],
            row["updated_by"],
        )

    def put_settings(
        self,
        sealed: SealedSecret,
        *,
        api_base: str | None,
        grace_days: int,
        updated_by: str | None,
        provider: str = STRIPE,
    ) -> None:
        values = {
            "wrapped_key": sealed.wrapped_key,
            "master_key_version": sealed.master_key_version,
            "nonce": sealed.nonce,
            "ciphertext": sealed.ciphertext,
            "fingerprint": sealed.fingerprint,
            "api_base": api_base,
            "grace_days": grace_days,
            "updated_at": utcnow(),
            "updated_by": updated_by,
        }
        with self.engine.begin() as conn:
            conn.execute(delete(payment_settings).where(payment_settings.c.provider == provider))
            conn.execute(payment_settings.insert().values(provider=provider, **values))

    def clear_settings(self, provider: str = STRIPE) -> bool:
        with self.engine.begin() as conn:
            gone = conn.execute(
                delete(payment_settings).where(payment_settings.c.provider == provider)
            ).rowcount
        return bool(gone)

    def store_rewrapped(self, sealed: SealedSecret, provider: str = STRIPE) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                update(payment_settings)
                .where(payment_settings.c.provider == provider)
                .values(
                    wrapped_key=sealed.wrapped_key,
                    master_key_version=sealed.master_key_version,
                )
            )

    # -- events, each once ------------------------------------------------------

    def record_event(
        self,
        event_id: str,
        event_type: str,
        *,
        org_id: str | None,
        object_ref: str | None,
        outcome: str,
        now: datetime,
        provider: str = STRIPE,
    ) -> bool:
        """Remember an event; False if it was seen before (a replay, a retry, a twin)."""
        try:
            with self.engine.begin() as conn:
                conn.execute(
                    payment_events.insert().values(
                        event_id=event_id[:255],
                        provider=provider,
                        type=event_type[:100],
                        org_id=org_id,
                        object_ref=None if object_ref is None else object_ref[:255],
                        outcome=outcome,
                        received_at=now,
                    )
                )
        except IntegrityError:
            return False
        return True

    def settle_event(self, event_id: str, outcome: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                update(payment_events)
                .where(payment_events.c.event_id == event_id)
                .values(outcome=outcome)
            )

    def forget_event(self, event_id: str) -> None:
        """An event whose handling failed: forgotten, so Stripe's retry is handled anew."""
        with self.engine.begin() as conn:
            conn.execute(delete(payment_events).where(payment_events.c.event_id == event_id))

    def invoice_paid_seen(self, invoice_ref: str) -> bool:
        """Whether the provider's invoice was reported paid already (either of Stripe's events)."""
        query = select(payment_events.c.event_id).where(
            payment_events.c.object_ref == invoice_ref,
            payment_events.c.type.in_(PAID_EVENTS),
        )
        with self.engine.connect() as conn:
            return conn.execute(query.limit(1)).first() is not None

    # -- failed payments and their grace -----------------------------------------

    def failure(self, org_id: str) -> PaymentFailure | None:
        query = select(payment_failures).where(payment_failures.c.org_id == org_id)
        with self.engine.connect() as conn:
            row = conn.execute(query).mappings().first()
        if row is None:
            return None
        return PaymentFailure(row["invoice_ref"], row["failed_at"], row["grace_ends_at"])

    def start_failure(
        self,
        org_id: str,
        invoice_ref: str,
        failed_at: datetime,
        ends: datetime,
        period: str | None = None,
    ) -> bool:
        """Start the org's grace period; False if one runs already (it keeps its end)."""
        try:
            with self.engine.begin() as conn:
                conn.execute(
                    payment_failures.insert().values(
                        org_id=org_id,
                        invoice_ref=invoice_ref[:255],
                        period=period,
                        failed_at=failed_at,
                        grace_ends_at=ends,
                    )
                )
        except IntegrityError:
            return False
        return True

    def end_failure(self, org_id: str, invoice_ref: str, period: str | None) -> bool:
        """What failed is paid: the grace period (or read-only state) ends; False if it was not
        this payment's failure (another invoice paid leaves an unpaid one's grace running)."""
        paid_this = payment_failures.c.invoice_ref == invoice_ref
        if period is not None:
            paid_this = or_(paid_this, payment_failures.c.period == period)
        with self.engine.begin() as conn:
            gone = conn.execute(
                delete(payment_failures).where(payment_failures.c.org_id == org_id, paid_this)
            ).rowcount
        return bool(gone)

    # -- the Stripe customer paying for each org -----------------------------------

    def link_customer(self, org_id: str, customer_id: str) -> None:
        """The org is paid for by this customer (replacing any other); one org per customer."""
        with self.engine.begin() as conn:
            conn.execute(delete(stripe_customers).where(stripe_customers.c.org_id == org_id))
            conn.execute(
                stripe_customers.insert().values(
                    org_id=org_id, customer_id=customer_id, linked_at=utcnow()
                )
            )

    def customer_of(self, org_id: str) -> str | None:
        query = select(stripe_customers.c.customer_id).where(stripe_customers.c.org_id == org_id)
        with self.engine.connect() as conn:
            found = conn.execute(query).scalar()
        return None if found is None else str(found)

    def org_of_customer(self, customer_id: str) -> str | None:
        query = select(stripe_customers.c.org_id).where(
            stripe_customers.c.customer_id == customer_id
        )
        with self.engine.connect() as conn:
            found = conn.execute(query).scalar()
        return None if found is None else str(found)
