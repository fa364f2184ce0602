"""Plans, exact dollar parsing, and what a month's allowance leaves.

Pure values: no SQL, no HTTP. The store reads and writes ``Plan`` rows; the
console, the CLI and the gateway ask ``budget_of`` how much is left.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from enum import StrEnum

from chatgrid.errors import InvalidRequest
from chatgrid.ledger.money import MICROS_PER_DOLLAR, format_dollars

DEFAULT_PLAN_ID = "plan_standard"


@dataclass(frozen=True)
class Plan:
    id: str
    name: str
    seat_price_micros: int
    markup_bps: int
    allowance_micros_per_seat: int
    # False: spending stops at the allowance; True: beyond it is billed as overage.
    overage: bool
    is_default: bool

    def public(self) -> dict[str, object]:
        return {
            "id": self.id,
            "name": self.name,
            "seat_price_usd": format_dollars(self.seat_price_micros),
            "markup_bps": self.markup_bps,
            "allowance_per_seat_usd": format_dollars(self.allowance_micros_per_seat),
            "overage": self.overage,
            "is_default": self.is_default,
        }


#: An amount is at most this long as typed, and below 10 ** (this + 1) dollars.
MAX_AMOUNT_CHARS = 40
MAX_AMOUNT_DIGITS = 15


def parse_dollars(text: str, field: str) -> int:
    """``"5"`` / ``"4.99"`` → micro-dollars, exactly (Decimal, never float).

    More than six decimals would need rounding, and an amount typed by an
    operator should never be silently changed, so it is refused. The text is
    hostile: Decimal reads digits of any script (a fullwidth "１") and
    exponents of any size ("1e999990" has a million digits once multiplied,
    half a minute of CPU; "1e999999" overflows), so only short ASCII is read,
    and an amount past $10^15 is refused before any arithmetic.
    """
    text = text.strip()
    if not text.isascii() or len(text) > MAX_AMOUNT_CHARS:
        raise InvalidRequest(f"{field} must be a decimal number of dollars", param=field)
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise InvalidRequest(f"{field} must be a decimal number of dollars", param=field) from None
    if not value.is_finite() or value < 0:
        raise InvalidRequest(f"{field} must be a non-negative amount", param=field)
    if value and value.adjusted() > MAX_AMOUNT_DIGITS:
        raise InvalidRequest(f"{field} is too large", param=field)
    micros = value * MICROS_PER_DOLLAR
    if micros != micros.to_integral_value():
        raise InvalidRequest(f"{field} has more than 6 decimals", param=field)
    return int(micros)


def validate_plan(name: str, markup_bps: int) -> None:
    """Reject what would make an unreadable or negative bill."""
    if not name.strip() or len(name) > 100:
        raise InvalidRequest("a plan name is 1 to 100 characters", param="name")
    if not 0 <= markup_bps <= 100_000:
        raise InvalidRequest("markup is 0 to 100000 basis points", param="markup_bps")


class WarningLevel(StrEnum):
    NONE = "none"
    NEAR = "80"  # 80 % or more of the limit is used
    REACHED = "100"  # the limit is used up


@dataclass(frozen=True)
class BudgetStatus:
    """Spend against a monthly limit; ``limit_micros`` None means no limit."""

    limit_micros: int | None
    used_micros: int
    remaining_micros: int | None
    percent: int | None
    warning: WarningLevel

    def public(self) -> dict[str, object]:
        return {
            "limit_usd": None if self.limit_micros is None else format_dollars(self.limit_micros),
            "used_usd": format_dollars(self.used_micros),
            "remaining_usd": (
                None if self.remaining_micros is None else format_dollars(self.remaining_micros)
            ),
            "limit_micros": self.limit_micros,
            "used_micros": self.used_micros,
            "remaining_micros": self.remaining_micros,
            "percent": self.percent,
            "warning": self.warning.value,
        }


def budget_of(limit_micros: int | None, used_micros: int) -> BudgetStatus:
    """Percent is floored (79.9 % is not yet a warning); a zero limit is reached at once."""
    if limit_micros is None:
        return BudgetStatus(None, used_micros, None, None, WarningLevel.NONE)
    remaining = max(0, limit_micros - used_micros)
    percent = 100 if limit_micros == 0 else used_micros * 100 // limit_micros
    if percent >= 100:
        warning = WarningLevel.REACHED
    elif percent >= 80:
        warning = WarningLevel.NEAR
    else:
        warning = WarningLevel.NONE
    return BudgetStatus(limit_micros, used_micros, remaining, percent, warning)
