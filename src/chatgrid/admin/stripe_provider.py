"""Stripe as a ``PaymentProvider``: an invoice's total charged to the customer's default card.

One off-session PaymentIntent, to the cent (micro-dollars rounded half up
once), whose metadata carries the invoice's org, month, id and billed lines,
so Stripe's dashboard shows what was charged for. A declined card is a
result (not paid, with the reason and the PaymentIntent as reference), not
an error: what follows a decline (the grace period) is the caller's.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from chatgrid.billing.invoices import Invoice
from chatgrid.billing.payments import InvoiceToCollect, PaymentResult
from chatgrid.errors import Conflict, ServiceUnavailable
from chatgrid.ledger.money import round_half_up
from chatgrid.store.payments import STRIPE

if TYPE_CHECKING:
    import stripe  # imported where Stripe is called: every CLI command would pay 0.2 s for it

MICROS_PER_CENT = 10_000


def cents_of(total_micros: int) -> int:
    return round_half_up(total_micros, MICROS_PER_CENT)


class StripeCard:
    """The customer's default card, charged off-session (``chatgrid_lines`` names the lines)."""

    name = STRIPE

    def __init__(
        self,
        client: stripe.StripeClient,
        customer_id: str,
        lines: str,
        idempotency_key: str | None = None,
    ) -> None:
        self.client = client
        self.customer_id = customer_id
        self.lines = lines
        self.idempotency_key = idempotency_key

    def collect(self, invoice: InvoiceToCollect) -> PaymentResult:
        import stripe

        try:
            customer = self.client.v1.customers.retrieve(self.customer_id)
            settings = customer.invoice_settings
            card = None if settings is None else settings.default_payment_method
            if not card:
                raise Conflict("the Stripe customer has no default card", code="no_default_card")
            key = self.idempotency_key
            intent = self.client.v1.payment_intents.create(
                params={
                    "amount": cents_of(invoice.total_micros),
                    "currency": invoice.currency.lower(),
                    "customer": self.customer_id,
                    "payment_method": card if isinstance(card, str) else card.id,
                    "off_session": True,
                    "confirm": True,
                    "metadata": {
                        "chatgrid_org_id": invoice.org_id,
                        "chatgrid_period": invoice.period,
                        "chatgrid_invoice_id": invoice.id,
                        "chatgrid_lines": self.lines,
                    },
                },
                options={} if key is None else {"idempotency_key": key},
            )
        except stripe.CardError as exc:
            found = getattr(exc.error, "payment_intent", None)
            ref = found.get("id") if isinstance(found, dict) else getattr(found, "id", None)
            reason = exc.user_message or str(exc)
            return PaymentResult(False, self.name, ref or f"declined:{invoice.id}", reason)
        except stripe.StripeError as exc:
            raise ServiceUnavailable(
                f"Stripe could not be asked ({type(exc).__name__}); nothing was charged or changed"
            ) from None
        if intent.status != "succeeded":
            return PaymentResult(False, self.name, intent.id, "the card was declined")
        return PaymentResult(True, self.name, intent.id)


def billed_lines(invoice: Invoice) -> str:
    """The invoice's billed lines to the cent, shown with the charge in Stripe's dashboard."""
    parts = [f"ChatGrid invoice {invoice.period}"]
    for line in invoice.lines:
        if line.get("kind") in ("seats", "overage") and line.get("amount_micros"):
            cents = cents_of(int(line["amount_micros"]))
            parts.append(f"{line['kind']} ${cents // 100}.{cents % 100:02d}")
    return "; ".join(parts)[:500]
