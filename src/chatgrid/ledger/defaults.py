"""The price book ChatGrid ships with (``default_prices.json``)."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from importlib import resources

from chatgrid.ledger.money import MICROS_PER_DOLLAR
from chatgrid.ledger.pricing import Price


def _micros(dollars: str) -> int:
    exact = Decimal(dollars) * MICROS_PER_DOLLAR
    if exact != exact.to_integral_value():
        raise ValueError(f"price {dollars} is finer than a micro-dollar per 1M tokens")
    return int(exact)


def default_prices() -> list[Price]:
    raw = json.loads(resources.files("chatgrid.ledger").joinpath("default_prices.json").read_text())
    effective = date.fromisoformat(raw["effective_from"])
    return [
        Price(
            model=model,
            effective_from=effective,
            input_per_mtok=_micros(p["input"]),
            cached_input_per_mtok=_micros(p["cached_input"]),
            output_per_mtok=_micros(p["output"]),
            cache_write_per_mtok=_micros(p["cache_write"]) if "cache_write" in p else None,
            cache_write_1h_per_mtok=_micros(p["cache_write_1h"]) if "cache_write_1h" in p else None,
        )
        for model, p in raw["models"].items()
    ]
