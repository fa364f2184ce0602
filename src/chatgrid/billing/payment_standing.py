"""Where an org stands after a card payment failed: in its grace period, or read-only.

A failed payment (Stripe's ``invoice.payment_failed``) starts a grace period
of the operator's choosing; while it runs, nothing changes for the org but a
banner and an alert. Once it is over and the invoice is still unpaid, the org
is read-only exactly as when a trial ends: calls that cost money are refused
until the invoice is paid (``invoice.paid`` ends it at once). Pure: the
caller gives the clock.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

DEFAULT_GRACE_DAYS = 7
MAX_GRACE_DAYS = 60

PAYMENT_OVERDUE_MESSAGE = (
    "This organization's last payment failed and its grace period is over, so it is "
    "read-only. Ask an admin of your organization to update the card."
)


@dataclass(frozen=True)
class PaymentFailure:
    """An unpaid invoice whose payment failed, and when its grace period ends."""

    invoice_ref: str
    failed_at: datetime
    grace_ends_at: datetime

    def read_only(self, now: datetime) -> bool:
        return now >= self.grace_ends_at

    def message(self, now: datetime) -> str:
        """What an admin or a member is told (the refusal on ``/v1`` once read-only)."""
        if self.read_only(now):
            return PAYMENT_OVERDUE_MESSAGE
        left = self.grace_ends_at - now
        days = max(1, -(-int(left.total_seconds()) // 86_400))
        unit = "day" if days == 1 else "days"
        return (
            f"The last payment failed. Update the card within {days} {unit}, or the "
            "organization turns read-only."
        )


def grace_end(failed_at: datetime, grace_days: int) -> datetime:
    return failed_at + timedelta(days=grace_days)
