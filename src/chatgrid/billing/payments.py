"""Collecting an invoice, behind one small protocol.

Two providers: the manual one (the operator collects the money outside
ChatGrid, by bank transfer or a card terminal, and records the reference)
and Stripe's (``admin.stripe_provider.StripeCard``: the customer's saved
card, charged off-session). Each is a class with the same two members.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from chatgrid.errors import InvalidRequest


@dataclass(frozen=True)
class InvoiceToCollect:
    id: str
    org_id: str
    period: str
    total_micros: int
    currency: str


@dataclass(frozen=True)
class PaymentResult:
    paid: bool
    provider: str
    reference: str
    #: Why it was not paid (a card declined), in words an admin can act on.
    reason: str | None = None


class PaymentProvider(Protocol):
    name: str

    def collect(self, invoice: InvoiceToCollect) -> PaymentResult: ...


class ManualPayment:
    """Money received outside ChatGrid; ``reference`` says where to find it."""

    name = "manual"

    def __init__(self, reference: str) -> None:
        reference = reference.strip()
        if not reference or len(reference) > 200:
            raise InvalidRequest("a payment reference is 1 to 200 characters", param="reference")
        self.reference = reference

    def collect(self, invoice: InvoiceToCollect) -> PaymentResult:
        return PaymentResult(paid=True, provider=self.name, reference=self.reference)
