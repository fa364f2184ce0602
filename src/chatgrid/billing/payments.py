"""Collecting an invoice, behind one small protocol.

ChatGrid ships only the manual provider: the operator collects the money
outside ChatGrid (bank transfer, a card terminal) and records the reference.
A card processor would be another class with the same two members.
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
