"""Anthropic's cache writes are priced at their own rate; OpenAI's costs do not move.

Anthropic charges a cache read at 0.1× and a (5-minute) cache write at 1.25×
the model's input price. The ledger's ``Usage`` carries writes apart
(``cache_write_tokens``, a part of ``prompt_tokens`` like ``cached_tokens``)
and a ``Price`` may carry a write rate; without one a write is plain input.
"""

from __future__ import annotations

from datetime import date

import pytest

from chatgrid.ledger.pricing import (
    ANTHROPIC_CACHE_READ_BPS,
    ANTHROPIC_CACHE_WRITE_1H_BPS,
    ANTHROPIC_CACHE_WRITE_BPS,
    Price,
    Usage,
    cost_of,
    scaled_price,
)
from chatgrid.providers.anthropic_answer import AnthropicUsage

DAY = date(2026, 1, 1)


def claude_price(input_per_mtok: int, output_per_mtok: int) -> Price:
    return Price(
        model="claude-sonnet-4-5",
        effective_from=DAY,
        input_per_mtok=input_per_mtok,
        cached_input_per_mtok=scaled_price(input_per_mtok, ANTHROPIC_CACHE_READ_BPS),
        output_per_mtok=output_per_mtok,
        cache_write_per_mtok=scaled_price(input_per_mtok, ANTHROPIC_CACHE_WRITE_BPS),
        cache_write_1h_per_mtok=scaled_price(input_per_mtok, ANTHROPIC_CACHE_WRITE_1H_BPS),
    )


@pytest.mark.parametrize(
    ("input_per_mtok", "read", "write"),
    [(3_000_000, 300_000, 3_750_000), (800_000, 80_000, 1_000_000), (250_000, 25_000, 312_500)],
)
def test_cache_rates_are_exact_fractions_of_the_input_price(
    input_per_mtok: int, read: int, write: int
) -> None:
    price = claude_price(input_per_mtok, 15_000_000)
    assert (price.cached_input_per_mtok, price.cache_write_per_mtok) == (read, write)
    assert price.cache_write_1h_per_mtok == 2 * input_per_mtok


def test_writes_kept_an_hour_cost_twice_the_input_price() -> None:
    # 100 written for 5 minutes, 200 for an hour, at $3 in: 100×3.75 + 200×6 = 1575
    usage = AnthropicUsage(
        output_tokens=0, cache_write_tokens=300, cache_write_1h_tokens=200
    ).ledger_usage()
    cost = cost_of(usage, claude_price(3_000_000, 15_000_000), markup_bps=0, charge_tokens=True)
    assert cost.list_micros == 1575


def test_a_call_with_cache_reads_and_writes_costs_what_anthropic_charges() -> None:
    # $3 in, $15 out per 1M: 20 plain input, 1,000 read, 300 written, 9 out.
    usage = AnthropicUsage(
        input_tokens=20, output_tokens=9, cache_read_tokens=1000, cache_write_tokens=300
    ).ledger_usage()
    cost = cost_of(usage, claude_price(3_000_000, 15_000_000), markup_bps=0, charge_tokens=True)
    # 20×3 + 1000×0.3 + 300×3.75 + 9×15 = 60 + 300 + 1125 + 135 = 1620 micro-dollars
    assert cost.list_micros == 1620
    assert cost.charged_micros == 1620


def test_a_price_without_a_write_rate_charges_writes_as_input() -> None:
    price = Price("gpt-4o", DAY, 2_500_000, 1_250_000, 10_000_000)
    with_writes = Usage(
        prompt_tokens=1000, cached_tokens=0, completion_tokens=0, cache_write_tokens=400
    )
    plain = Usage(prompt_tokens=1000, cached_tokens=0, completion_tokens=0)
    assert cost_of(with_writes, price, markup_bps=0, charge_tokens=True) == cost_of(
        plain, price, markup_bps=0, charge_tokens=True
    )


def test_openai_usage_costs_exactly_what_it_did() -> None:
    price = Price("gpt-4o", DAY, 2_500_000, 1_250_000, 10_000_000)
    usage = Usage(prompt_tokens=1_000_000, cached_tokens=400_000, completion_tokens=100_000)
    cost = cost_of(usage, price, markup_bps=1_000, charge_tokens=True)
    # 600k×2.5 + 400k×1.25 + 100k×10 = 1.5 + 0.5 + 1.0 dollars
    assert cost.list_micros == 3_000_000
    assert cost.charged_micros == 3_300_000


def test_writes_never_count_beyond_the_prompt() -> None:
    price = claude_price(3_000_000, 15_000_000)
    odd = Usage(prompt_tokens=100, cached_tokens=80, completion_tokens=0, cache_write_tokens=50)
    bounded = Usage(prompt_tokens=100, cached_tokens=80, completion_tokens=0, cache_write_tokens=20)
    assert cost_of(odd, price, markup_bps=0, charge_tokens=False) == cost_of(
        bounded, price, markup_bps=0, charge_tokens=False
    )
