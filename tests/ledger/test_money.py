from datetime import date
from decimal import ROUND_HALF_UP, Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chatgrid.ledger.defaults import default_prices
from chatgrid.ledger.money import apply_markup, format_dollars, round_half_up
from chatgrid.ledger.pricing import Price, PriceBook, Usage, cost_of

GPT4O = Price("gpt-4o", date(2025, 1, 1), 2_500_000, 1_250_000, 10_000_000)


def test_round_half_up_rounds_halves_away_from_zero() -> None:
    assert round_half_up(5, 10) == 1
    assert round_half_up(4, 10) == 0
    assert round_half_up(15, 10) == 2
    assert round_half_up(0, 7) == 0


@given(st.integers(0, 10**15), st.integers(1, 10**9))
def test_round_half_up_matches_decimal(numerator: int, denominator: int) -> None:
    expected = (Decimal(numerator) / Decimal(denominator)).quantize(
        Decimal(1), rounding=ROUND_HALF_UP
    )
    assert round_half_up(numerator, denominator) == int(expected)


def test_cost_of_a_gpt4o_call_at_list_price() -> None:
    usage = Usage(prompt_tokens=1_000, cached_tokens=200, completion_tokens=500)
    cost = cost_of(usage, GPT4O, markup_bps=2_000, charge_tokens=True)
    # 800 × $2.50/M + 200 × $1.25/M + 500 × $10/M = $0.002 + $0.00025 + $0.005
    assert cost.list_micros == 7_250
    assert cost.charged_micros == 8_700


def test_byok_calls_are_never_charged_for_tokens() -> None:
    usage = Usage(prompt_tokens=10_000, cached_tokens=0, completion_tokens=10_000)
    cost = cost_of(usage, GPT4O, markup_bps=5_000, charge_tokens=False)
    assert cost.list_micros == 125_000
    assert cost.charged_micros == 0


@given(
    st.integers(0, 2_000_000),
    st.integers(0, 2_000_000),
    st.integers(0, 2_000_000),
    st.integers(0, 100_000),
)
def test_charge_is_rounded_once_from_the_exact_amount(
    prompt: int, cached: int, completion: int, markup: int
) -> None:
    cached = min(cached, prompt)
    usage = Usage(prompt, cached, completion)
    cost = cost_of(usage, GPT4O, markup_bps=markup, charge_tokens=True)
    exact = (
        Decimal(prompt - cached) * Decimal("2.5")
        + Decimal(cached) * Decimal("1.25")
        + Decimal(completion) * Decimal(10)
    )
    charged = (exact * (1 + Decimal(markup) / 10_000)).quantize(Decimal(1), rounding=ROUND_HALF_UP)
    assert cost.charged_micros == int(charged)
    assert cost.list_micros == int(exact.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def test_apply_markup_of_zero_is_the_rounded_list_cost() -> None:
    assert apply_markup(1_500_000, 1_000_000, 0) == 2


def test_a_new_price_applies_from_its_date_never_before() -> None:
    newer = Price("gpt-4o", date(2026, 1, 1), 1_000_000, 500_000, 4_000_000)
    book = PriceBook([GPT4O, newer])
    assert book.price_for("gpt-4o", date(2025, 12, 31)) == GPT4O
    assert book.price_for("gpt-4o", date(2026, 1, 1)) == newer
    assert book.price_for("gpt-4o", date(2024, 12, 31)) is None


def test_dated_model_names_use_their_family_price() -> None:
    book = PriceBook([GPT4O])
    assert book.price_for("gpt-4o-2024-08-06", date(2025, 6, 1)) == GPT4O
    assert book.price_for("unknown-model", date(2025, 6, 1)) is None


def test_shipped_price_book_is_exact_in_micros() -> None:
    prices = {p.model: p for p in default_prices()}
    assert prices["gpt-4o-mini"].input_per_mtok == 150_000
    assert prices["gpt-4.1-nano"].cached_input_per_mtok == 25_000
    assert prices["text-embedding-3-small"].output_per_mtok == 0


@pytest.mark.parametrize(
    ("micros", "text"), [(0, "0.000000"), (1_234_567, "1.234567"), (-5, "-0.000005")]
)
def test_format_dollars(micros: int, text: str) -> None:
    assert format_dollars(micros) == text
