"""The price book (operator)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated

import typer

from chatgrid.admin import operator
from chatgrid.admin.prices import dollars_per_mtok, set_unit_price
from chatgrid.audit import Actor
from chatgrid.cli.common import admin_context, emit
from chatgrid.ledger.money import format_dollars
from chatgrid.ledger.pricing import Price
from chatgrid.ledger.units import UNIT_NAMES, UnitPrice

price_app = typer.Typer(
    help="The dated price book (USD per 1M tokens, or per image, audio minute, 1M characters).",
    no_args_is_help=True,
)


def _public(price: Price) -> dict[str, str]:
    return {
        "model": price.model,
        "effective_from": price.effective_from.isoformat(),
        "input_per_mtok": format_dollars(price.input_per_mtok),
        "cached_input_per_mtok": format_dollars(price.cached_input_per_mtok),
        "output_per_mtok": format_dollars(price.output_per_mtok),
    }


def _unit_public(price: UnitPrice) -> dict[str, str | int]:
    return {
        "model": price.model,
        "effective_from": price.effective_from.isoformat(),
        "kind": price.kind,
        "variant": price.variant,
        "per": UNIT_NAMES[price.kind],
        "usd": format_dollars(price.micros),
        "micros": price.micros,
    }


@price_app.command("list")
def price_list(
    on: Annotated[
        str | None, typer.Option(help="Prices in force on this date (YYYY-MM-DD).")
    ] = None,
) -> None:
    """The price of every model on a day (today by default): per token, then per unit."""
    day = date.fromisoformat(on) if on else datetime.now(UTC).date()
    with admin_context() as ctx:
        book = ctx.prices.book()
        prices = [book.price_for(model, day) for model in book.models()]
        units = ctx.prices.unit_prices().on(day).all()
        emit([_public(p) for p in prices if p is not None] + [_unit_public(u) for u in units])


@price_app.command("set")
def price_set(
    model: str,
    input: Annotated[str, typer.Option("--input", help="USD per 1M input tokens.")],
    output: Annotated[str, typer.Option("--output", help="USD per 1M output tokens.")],
    cached_input: Annotated[
        str | None, typer.Option(help="USD per 1M cached input tokens (default: input).")
    ] = None,
    effective_from: Annotated[
        str | None, typer.Option("--from", help="First day it applies (default today).")
    ] = None,
) -> None:
    """Add a price from a date on (today or later: the past keeps its prices)."""
    day = date.fromisoformat(effective_from) if effective_from else datetime.now(UTC).date()
    price = Price(
        model=model,
        effective_from=day,
        input_per_mtok=dollars_per_mtok(input, "input"),
        cached_input_per_mtok=dollars_per_mtok(cached_input or input, "cached_input"),
        output_per_mtok=dollars_per_mtok(output, "output"),
    )
    with admin_context() as ctx:
        operator.set_price(ctx, Actor.cli(), price)
        emit(_public(price))


@price_app.command("set-unit")
def price_set_unit(
    model: str,
    kind: Annotated[
        str, typer.Option(help="images, audio_ms (per minute), characters (per 1M), inputs.")
    ],
    micros: Annotated[
        int, typer.Option(help="Micro-dollars per image, minute, 1M characters or input.")
    ],
    variant: Annotated[
        str, typer.Option(help="An image's SIZE/QUALITY, as 1024x1024/high (images only).")
    ] = "",
    effective_from: Annotated[
        str | None,
        typer.Option("--from", "--effective-from", help="First day it applies (default today)."),
    ] = None,
) -> None:
    """Add a unit price from a date on (today or later: the past keeps its prices)."""
    day = date.fromisoformat(effective_from) if effective_from else datetime.now(UTC).date()
    price = UnitPrice(model=model, kind=kind, micros=micros, variant=variant, effective_from=day)
    with admin_context() as ctx:
        added = set_unit_price(ctx, Actor.cli(), price)
        emit(_unit_public(added))
