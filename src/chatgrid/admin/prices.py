"""The operator's price book: add dated prices; never rewrite the past."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation

from chatgrid.context import AppContext
from chatgrid.errors import InvalidRequest
from chatgrid.ledger.money import MICROS_PER_DOLLAR
from chatgrid.ledger.pricing import Price


def dollars_per_mtok(text: str, field: str) -> int:
    """ "2.50" dollars per 1M tokens → 2_500_000 micro-dollars per 1M tokens, exactly."""
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise InvalidRequest(f"{field} must be a decimal number of dollars", param=field) from None
    micros = value * MICROS_PER_DOLLAR
    if not value.is_finite() or value < 0 or micros != micros.to_integral_value():
        raise InvalidRequest(
            f"{field} must be a non-negative amount with at most 6 decimals", param=field
        )
    return int(micros)


def add_price(ctx: AppContext, price: Price, *, today: date | None = None) -> Price:
    """A price applies from its date on; a past date would rewrite costs already billed."""
    today = today or datetime.now(UTC).date()
    if price.effective_from < today:
        raise InvalidRequest(
            "a price takes effect today or later; past calls keep the price they were made at",
            param="effective_from",
        )
    if not price.model or len(price.model) > 100:
        raise InvalidRequest("the model name is 1 to 100 characters", param="model")
    ctx.prices.add(price)
    ctx.changes.bump()
    return price
