"""Claude's cache-write rates are stored with its price and read back exactly."""

from __future__ import annotations

from datetime import date

from chatgrid.context import AppContext
from chatgrid.ledger.defaults import default_prices
from chatgrid.ledger.pricing import Price, PriceBook, Usage, cost_of

DAY = date(2026, 1, 5)


def test_the_default_book_prices_claude_cache_writes_at_anthropics_rates(
    context: AppContext,
) -> None:
    price = context.prices.book().price_for("claude-sonnet-4-5-20250929", DAY)
    assert price is not None
    assert (price.input_per_mtok, price.cached_input_per_mtok, price.output_per_mtok) == (
        3_000_000,
        300_000,
        15_000_000,
    )
    assert (price.cache_write_per_mtok, price.cache_write_1h_per_mtok) == (3_750_000, 6_000_000)
    usage = Usage(
        prompt_tokens=1_000,
        cached_tokens=200,
        completion_tokens=50,
        cache_write_tokens=300,
        cache_write_1h_tokens=100,
    )
    # 500 plain, 200 read, 200 written for 5 minutes, 100 for an hour, 50 out.
    exact = 500 * 3_000_000 + 200 * 300_000 + 200 * 3_750_000 + 100 * 6_000_000 + 50 * 15_000_000
    cost = cost_of(usage, price, markup_bps=0, charge_tokens=False)
    assert cost.list_micros == exact // 1_000_000 == 3_660


def test_a_stored_claude_price_without_write_rates_derives_them() -> None:
    stored = Price("claude-new-model", DAY, 2_000_000, 200_000, 10_000_000)
    price = PriceBook([stored]).price_for("claude-new-model", DAY)
    assert price is not None
    assert (price.cache_write_per_mtok, price.cache_write_1h_per_mtok) == (2_500_000, 4_000_000)
    openai = PriceBook([Price("gpt-x", DAY, 1_000_000, 500_000, 4_000_000)]).price_for("gpt-x", DAY)
    assert openai is not None and openai.cache_write_per_mtok is None


def test_every_default_claude_price_carries_both_write_rates() -> None:
    claude = [p for p in default_prices() if p.model.startswith("claude-")]
    assert len(claude) == 16
    for price in claude:
        assert price.cache_write_per_mtok == price.input_per_mtok * 5 // 4
        assert price.cache_write_1h_per_mtok == price.input_per_mtok * 2
