"""The operator edits the price book; the past keeps its prices."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from chatgrid.admin.prices import add_price, dollars_per_mtok
from chatgrid.context import AppContext
from chatgrid.errors import InvalidRequest
from chatgrid.ledger.pricing import Price


def test_dollar_prices_are_exact_micros() -> None:
    assert dollars_per_mtok("2.50", "input") == 2_500_000
    assert dollars_per_mtok("0.000001", "input") == 1
    for bad in ["-1", "abc", "0.0000001", "NaN", "inf"]:
        with pytest.raises(InvalidRequest):
            dollars_per_mtok(bad, "input")


def test_a_new_price_applies_from_its_date_and_never_to_the_past(context: AppContext) -> None:
    today = date(2026, 11, 26)
    new = Price("gpt-4o-mini", today + timedelta(days=5), 100_000, 50_000, 400_000)
    add_price(context, new, today=today)
    book = context.prices.book()
    assert book.price_for("gpt-4o-mini", today + timedelta(days=5)) == new
    assert book.price_for("gpt-4o-mini", today).input_per_mtok == 150_000  # type: ignore[union-attr]
    with pytest.raises(InvalidRequest, match="past calls keep"):
        add_price(context, Price("gpt-4o-mini", today - timedelta(days=1), 1, 1, 1), today=today)
