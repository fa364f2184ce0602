"""The dated price book and the cost of one call.

Prices are micro-dollars per million tokens. A price applies from its
``effective_from`` date on; a later price never changes the cost of an
earlier call.

Prompt tokens come in three kinds: plain input, cache reads (OpenAI's
``cached_tokens``, Anthropic's ``cache_read_input_tokens``) and cache writes
(Anthropic's ``cache_creation_input_tokens``, which OpenAI does not have;
those kept an hour cost more than those kept 5 minutes). A price without a
cache-write rate charges writes as plain input, so OpenAI's prices and costs
are what they always were.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date

from chatgrid.ledger.money import BPS_DENOMINATOR, apply_markup, round_half_up

TOKENS_PER_PRICE_UNIT = 1_000_000
#: Anthropic's cache prices relative to the model's input price, in basis points:
#: a read costs 0.1×, a write 1.25× (kept 5 minutes) or 2× (kept an hour).
ANTHROPIC_CACHE_READ_BPS = 1_000
ANTHROPIC_CACHE_WRITE_BPS = 12_500
ANTHROPIC_CACHE_WRITE_1H_BPS = 20_000
_DATED_SUFFIX = re.compile(r"-\d{4}-\d{2}-\d{2}$")


@dataclass(frozen=True)
class Price:
    model: str
    effective_from: date
    input_per_mtok: int
    cached_input_per_mtok: int
    output_per_mtok: int
    #: Writing the prompt cache (Anthropic); None: charged as plain input.
    cache_write_per_mtok: int | None = None
    #: Writing it for an hour instead of 5 minutes; None: at ``cache_write_per_mtok``.
    cache_write_1h_per_mtok: int | None = None


def scaled_price(per_mtok: int, bps: int) -> int:
    """``per_mtok × bps / 10,000``, rounded half up to a micro-dollar (exact for the
    cache rates of any price in whole cents per 1M tokens)."""
    return round_half_up(per_mtok * bps, BPS_DENOMINATOR)


@dataclass(frozen=True)
class Usage:
    """Token counts as the upstream reported them (``cached`` and ``cache_write``
    are parts of ``prompt``)."""

    prompt_tokens: int
    cached_tokens: int
    completion_tokens: int
    cache_write_tokens: int = 0
    cache_write_1h_tokens: int = 0  # of cache_write_tokens, those kept an hour

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


@dataclass(frozen=True)
class Cost:
    list_micros: int
    charged_micros: int


def cost_of(usage: Usage, price: Price, *, markup_bps: int, charge_tokens: bool) -> Cost:
    """List cost and what ChatGrid charges for one call.

    BYOK calls (``charge_tokens=False``) are billed by OpenAI to the org, so
    ChatGrid charges nothing for their tokens but still reports list cost.
    """
    cached = min(usage.cached_tokens, usage.prompt_tokens)
    written = min(usage.cache_write_tokens, usage.prompt_tokens - cached)
    written_1h = min(usage.cache_write_1h_tokens, written)
    write_rate = price.input_per_mtok
    if price.cache_write_per_mtok is not None:
        write_rate = price.cache_write_per_mtok
    write_1h_rate = write_rate
    if price.cache_write_1h_per_mtok is not None:
        write_1h_rate = price.cache_write_1h_per_mtok
    exact = (
        (usage.prompt_tokens - cached - written) * price.input_per_mtok
        + cached * price.cached_input_per_mtok
        + (written - written_1h) * write_rate
        + written_1h * write_1h_rate
        + usage.completion_tokens * price.output_per_mtok
    )
    list_micros = round_half_up(exact, TOKENS_PER_PRICE_UNIT)
    charged = apply_markup(exact, TOKENS_PER_PRICE_UNIT, markup_bps) if charge_tokens else 0
    return Cost(list_micros=list_micros, charged_micros=charged)


def with_anthropic_cache_rates(price: Price) -> Price:
    """A Claude model's price with its cache-write rates (1.25× and 2× its input price)
    where the stored price leaves them out; any other price as it is."""
    if not price.model.startswith("claude-"):
        return price
    write = price.cache_write_per_mtok
    write_1h = price.cache_write_1h_per_mtok
    return replace(
        price,
        cache_write_per_mtok=(
            scaled_price(price.input_per_mtok, ANTHROPIC_CACHE_WRITE_BPS)
            if write is None
            else write
        ),
        cache_write_1h_per_mtok=(
            scaled_price(price.input_per_mtok, ANTHROPIC_CACHE_WRITE_1H_BPS)
            if write_1h is None
            else write_1h
        ),
    )


class PriceBook:
    """All known prices, answering "what did model M cost on day D"."""

    def __init__(self, prices: Iterable[Price]) -> None:
        by_model: dict[str, list[Price]] = {}
        for stored in prices:
            price = with_anthropic_cache_rates(stored)
            by_model.setdefault(price.model, []).append(price)
        self._by_model = {m: sorted(p, key=lambda x: x.effective_from) for m, p in by_model.items()}
        self._dates = {m: [p.effective_from for p in ps] for m, ps in self._by_model.items()}

    def price_for(self, model: str, on: date) -> Price | None:
        name = model if model in self._by_model else _DATED_SUFFIX.sub("", model)
        dates = self._dates.get(name)
        if not dates:
            return None
        index = bisect.bisect_right(dates, on) - 1
        return self._by_model[name][index] if index >= 0 else None

    def models(self) -> list[str]:
        return sorted(self._by_model)
