"""A month's invoice for one org, built from plain values, and its exports.

Lines (every money field in integer micro-dollars):

* ``seat`` — one per member: seat-days and their prorated amount, shown for
  reading (each rounded on its own);
* ``seats`` — the seat charge, rounded once from the exact sum of every
  seat's numerator (``billing.seats``); this is the amount that is billed;
* ``usage`` — one per model, shared-credit calls only: requests, tokens, list
  cost, markup and charge (the ledger's ``charged_micros``, summed exactly);
* ``allowance`` — the month's allowance, used and remaining;
* ``overage`` — usage beyond the allowance, only on a plan that meters it.

Usage within the allowance is included in the seat price, so
``total = seats + overage``. A month without shared-credit calls (a BYOK
org) has no usage, allowance or overage lines.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from typing import Any

from chatgrid.billing.plans import Plan
from chatgrid.billing.seats import Month, prorated_micros
from chatgrid.ledger.money import round_half_up


@dataclass(frozen=True)
class ModelUsage:
    """One model's shared-credit calls in the month, summed by SQL."""

    model: str
    requests: int
    prompt_tokens: int
    cached_tokens: int
    completion_tokens: int
    list_cost_micros: int
    charged_micros: int


@dataclass(frozen=True)
class InvoiceDraft:
    lines: list[dict[str, Any]]
    total_micros: int


@dataclass(frozen=True)
class Invoice:
    id: str
    org_id: str
    period: str
    currency: str
    lines: list[dict[str, Any]]
    total_micros: int
    status: str  # issued | paid
    issued_at: str
    paid_at: str | None
    payment_provider: str | None
    payment_reference: str | None

    def public(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "org_id": self.org_id,
            "period": self.period,
            "currency": self.currency,
            "status": self.status,
            "total_micros": self.total_micros,
            "issued_at": self.issued_at,
            "paid_at": self.paid_at,
            "payment_provider": self.payment_provider,
            "payment_reference": self.payment_reference,
            "lines": self.lines,
        }


def allowance_micros(plan: Plan, seat_days_by_member: dict[str, int], month: Month) -> int:
    """Allowance per seat × prorated seats: the same proration as the seat charge."""
    return prorated_micros(plan.allowance_micros_per_seat, seat_days_by_member, month)


def build_invoice(
    plan: Plan,
    month: Month,
    billed_seat_days: dict[str, int],
    allowance_seat_days: dict[str, int],
    emails: dict[str, str],
    usage: list[ModelUsage],
) -> InvoiceDraft:
    """``billed_seat_days`` excludes trial days; the allowance counts every seat-day."""
    lines: list[dict[str, Any]] = []
    for member_id, days in billed_seat_days.items():
        lines.append(
            {
                "kind": "seat",
                "member_id": member_id,
                "email": emails.get(member_id, ""),
                "seat_days": days,
                "days_in_month": month.days,
                "amount_micros": round_half_up(plan.seat_price_micros * days, month.days),
            }
        )
    seats_total = prorated_micros(plan.seat_price_micros, billed_seat_days, month)
    lines.append(
        {
            "kind": "seats",
            "plan_id": plan.id,
            "plan": plan.name,
            "seat_price_micros": plan.seat_price_micros,
            "seat_days": sum(billed_seat_days.values()),
            "days_in_month": month.days,
            "amount_micros": seats_total,
        }
    )
    overage = 0
    if usage:
        for row in usage:
            lines.append(
                {
                    "kind": "usage",
                    "model": row.model,
                    "requests": row.requests,
                    "prompt_tokens": row.prompt_tokens,
                    "cached_tokens": row.cached_tokens,
                    "completion_tokens": row.completion_tokens,
                    "list_cost_micros": row.list_cost_micros,
                    "markup_micros": row.charged_micros - row.list_cost_micros,
                    "charged_micros": row.charged_micros,
                }
            )
        used = sum(row.charged_micros for row in usage)
        allowance = allowance_micros(plan, allowance_seat_days, month)
        lines.append(
            {
                "kind": "allowance",
                "allowance_micros": allowance,
                "used_micros": used,
                "remaining_micros": max(0, allowance - used),
            }
        )
        if plan.overage:
            overage = max(0, used - allowance)
            lines.append({"kind": "overage", "amount_micros": overage})
    return InvoiceDraft(lines=lines, total_micros=seats_total + overage)


CSV_COLUMNS = (
    "kind",
    "member_id",
    "email",
    "seat_days",
    "days_in_month",
    "model",
    "requests",
    "prompt_tokens",
    "cached_tokens",
    "completion_tokens",
    "list_cost_micros",
    "markup_micros",
    "charged_micros",
    "allowance_micros",
    "used_micros",
    "remaining_micros",
    "amount_micros",
)


def invoice_csv(invoice: Invoice) -> str:
    """One row per line, then a ``total`` row; blank cells where a field does not apply."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, extrasaction="ignore")
    writer.writeheader()
    for line in invoice.lines:
        writer.writerow(line)
    writer.writerow({"kind": "total", "amount_micros": invoice.total_micros})
    return out.getvalue()


def invoice_json(invoice: Invoice) -> str:
    return json.dumps(invoice.public(), indent=2)
