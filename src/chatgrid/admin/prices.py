"""The operator's price book: add dated prices (per token or per unit); never rewrite the past."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation

from chatgrid.audit import Actor
from chatgrid.context import AppContext
from chatgrid.errors import InvalidRequest
from chatgrid.ledger.money import MICROS_PER_DOLLAR
from chatgrid.ledger.pricing import Price
from chatgrid.ledger.units import IMAGE_VARIANT, IMAGES, UNITS_PER_PRICE, UnitPrice

#: The most one unit price can be: $1,000,000 (a bigint holds far more; a typo should not).
MAX_UNIT_MICROS = 1_000_000 * MICROS_PER_DOLLAR


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


def unit_price_book(ctx: AppContext) -> list[UnitPrice]:
    """Every dated unit price, by model, kind, variant then date."""
    return ctx.prices.unit_prices().all()


def check_unit_price(ctx: AppContext, price: UnitPrice, *, today: date) -> UnitPrice:
    """The rules of a unit price: a known kind, an image's ``SIZE/QUALITY`` variant (no
    variant for other kinds), one kind per model, and never in the past."""
    model, variant = price.model.strip(), price.variant.strip().lower()
    if not model or len(model) > 100:
        raise InvalidRequest("the model name is 1 to 100 characters", param="model")
    if price.kind not in UNITS_PER_PRICE:
        known = ", ".join(UNITS_PER_PRICE)
        raise InvalidRequest(f"the kind of unit is one of {known}", param="kind")
    if price.kind == IMAGES and not IMAGE_VARIANT.fullmatch(variant):
        raise InvalidRequest(
            "an image price names its size and quality, as 1024x1024/high", param="variant"
        )
    if price.kind != IMAGES and variant:
        raise InvalidRequest("only image prices have a variant", param="variant")
    if not 0 <= price.micros <= MAX_UNIT_MICROS:
        raise InvalidRequest("the price is 0 to 1,000,000 dollars a unit", param="micros")
    if price.effective_from < today:
        raise InvalidRequest(
            "a price takes effect today or later; past calls keep the price they were made at",
            param="effective_from",
        )
    kinds = {p.kind for p in ctx.prices.unit_prices().all() if p.model == model}
    if kinds - {price.kind}:
        raise InvalidRequest(
            f"{model} is priced by {', '.join(sorted(kinds))}, not {price.kind}", param="kind"
        )
    return replace(price, model=model, variant=variant)


def set_unit_price(
    ctx: AppContext, actor: Actor, price: UnitPrice, *, today: date | None = None
) -> UnitPrice:
    """A dated unit price from today or later (never retroactive), audited; every server
    prices calls from its date on with it."""
    price = check_unit_price(ctx, price, today=today or datetime.now(UTC).date())
    if not ctx.prices.add_units([price]):
        raise InvalidRequest(
            f"{price.model} {price.variant or price.kind} already has a price from "
            f"{price.effective_from.isoformat()}",
            param="effective_from",
        )
    ctx.changes.bump()
    ctx.audit.record(
        None,
        actor,
        "unit_price.added",
        price.model,
        {
            "kind": price.kind,
            "variant": price.variant,
            "effective_from": price.effective_from.isoformat(),
            "micros": price.micros,
        },
    )
    return price
