"""``GET /v1/organization/costs``: what the simulator's answers would have cost, as OpenAI's
Costs API reports it.

The same calls the Usage API counts (:mod:`chatgrid.simulator.usage`), priced
with ChatGrid's own shipped price book (``ledger/default_prices.json``, the
newest price of each model), so a test can hold the two sides against each
other: calls made through ChatGrid cost what its ledger says, to the
micro-dollar per call. Amounts are US dollars, exact (written as JSON
numbers without a float in between: a reader that parses them as decimals
gets every digit). Results group by ``line_item`` (``"gpt-4o, input"``,
``"…, cached input"``, ``"…, output"``), ``project_id`` (one project,
``proj_simulator``: the simulator has no projects) and ``api_key_id``; an
admin key only; pages follow ``next_page`` as the usage pages do.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import date
from decimal import Decimal
from functools import cache

import orjson

from chatgrid.ledger.defaults import default_prices
from chatgrid.ledger.pricing import TOKENS_PER_PRICE_UNIT, PriceBook
from chatgrid.simulator.records import RequestRecord
from chatgrid.simulator.usage import _counted, _listed, page_window

MAX_LIMIT = 180
PROJECT_ID = "proj_simulator"
_GROUPS = ("project_id", "line_item", "api_key_id")
#: Micro-dollars per dollar × tokens per price unit: an exact sum's denominator.
_PER_DOLLAR = 1_000_000 * TOKENS_PER_PRICE_UNIT

Group = tuple[int, str | None, str | None, str | None]


@cache
def price_book() -> PriceBook:
    return PriceBook(default_prices())


def costs_page(records: Iterable[RequestRecord], query: bytes, now: float) -> bytes:
    """One page of daily cost buckets, priced by ChatGrid's price book."""
    window = page_window(query, now, _GROUPS, MAX_LIMIT)
    projects = set(_listed(window.params, "project_ids"))
    groups = window.groups
    # group → [exact cost in 1e-12 dollars, tokens]
    totals: dict[Group, list[int]] = defaultdict(lambda: [0, 0])
    if projects and PROJECT_ID not in projects:
        records = ()
    for record in records:
        counted = _counted(record)
        if counted is None:
            continue
        day, model, key_id = counted
        if not window.holds(day, key_id) or model is None:
            continue
        price = price_book().price_for(model, date.max)
        usage = record.usage
        if price is None or usage is None:
            continue  # a model the book does not price costs nothing here
        cached = min(usage.cached_tokens, usage.prompt_tokens)
        items = (
            ("input", usage.prompt_tokens - cached, price.input_per_mtok),
            ("cached input", cached, price.cached_input_per_mtok),
            ("output", usage.completion_tokens, price.output_per_mtok),
        )
        for item, tokens, rate in items:
            bucket = totals[
                (
                    day,
                    f"{model}, {item}" if "line_item" in groups else None,
                    PROJECT_ID if "project_id" in groups else None,
                    key_id if "api_key_id" in groups else None,
                )
            ]
            bucket[0] += tokens * rate
            bucket[1] += tokens
    ordered = sorted(totals.items(), key=_order)
    return window.page(
        lambda day: [_result(i, p, k, amounts) for (at, i, p, k), amounts in ordered if at == day]
    )


def dollars(exact: int) -> str:
    """``exact`` (in 10⁻¹² dollars) as a plain decimal number: no float, no exponent."""
    text = format(Decimal(exact) / _PER_DOLLAR, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def _order(item: tuple[Group, list[int]]) -> tuple[int, str, str, str]:
    (day, line_item, project, key_id), _ = item
    return day, line_item or "", project or "", key_id or ""


def _result(
    line_item: str | None, project: str | None, key_id: str | None, amounts: list[int]
) -> dict[str, object]:
    exact, tokens = amounts
    return {
        "object": "organization.costs.result",
        "amount": {"value": orjson.Fragment(dollars(exact)), "currency": "usd"},
        "line_item": line_item,
        "project_id": project,
        "api_key_id": key_id,
        "quantity": tokens if line_item is not None else None,
        "quantity_unit": "tokens" if line_item is not None else None,
    }
