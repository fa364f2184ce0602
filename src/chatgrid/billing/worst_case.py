"""The most a call can cost, computed before it goes upstream (pure).

The reservation must never be below the real cost, or concurrent calls
could pass a cap together. Bounds, without a tokenizer:

* prompt: a BPE token is at least one UTF-8 byte, so a text's byte length
  bounds its tokens; each message adds a few tokens of framing; an image
  part is bounded by the largest image cost (high detail, ~1,105 tokens for
  gpt-4o; 2,000 here to leave room);
* completion: ``max_completion_tokens`` / ``max_tokens`` if given, else the
  model's output limit; times ``n``;
* embeddings: the byte length of each string, or the length of each token array;
* responses: ``input`` and ``instructions`` as chat's messages, and
  ``max_output_tokens`` (else the model's output limit) as the completion.
  A ``previous_response_id`` conversation is not bounded by its stored turns.
"""

from __future__ import annotations

from typing import Any

import orjson

from chatgrid.billing.claude_bound import dearest_prompt, messages_usage_bound
from chatgrid.ledger.pricing import Price, Usage, cost_of
from chatgrid.ledger.units import DEFAULT_BOOK, UnitPriceBook, Units, units_cost

IMAGE_TOKEN_BOUND = 2_000
MESSAGE_FRAMING_TOKENS = 8
DEFAULT_OUTPUT_LIMIT = 32_768
OUTPUT_LIMITS = {
    "gpt-4o": 16_384,
    "gpt-4o-mini": 16_384,
    "gpt-4.1": 32_768,
    "gpt-4.1-mini": 32_768,
    "gpt-4.1-nano": 32_768,
    "gpt-5": 128_000,
    "gpt-5-mini": 128_000,
    "gpt-5-nano": 128_000,
    "o3": 100_000,
    "o4-mini": 100_000,
}


def _text_bytes(value: Any) -> int:
    """Bytes of every string inside a message (content, names, tool calls...)."""
    if isinstance(value, str):
        return len(value.encode())
    if isinstance(value, dict):
        if value.get("type") in {"image_url", "input_image", "image"}:
            return IMAGE_TOKEN_BOUND
        return sum(_text_bytes(v) for v in value.values())
    if isinstance(value, list):
        return sum(_text_bytes(v) for v in value)
    return 0


def chat_prompt_bound(request: dict[str, Any]) -> int:
    messages = request.get("messages") or []
    bound = sum(_text_bytes(m) + MESSAGE_FRAMING_TOKENS for m in messages)
    for extra in ("tools", "functions", "response_format"):
        if extra in request:
            bound += len(orjson.dumps(request[extra]))
    return bound + MESSAGE_FRAMING_TOKENS


def completion_bound(request: dict[str, Any], model: str) -> int:
    cap = request.get("max_completion_tokens") or request.get("max_tokens")
    limit = OUTPUT_LIMITS.get(model, DEFAULT_OUTPUT_LIMIT)
    per_choice = min(cap, limit) if isinstance(cap, int) and cap > 0 else limit
    choices = request.get("n") or 1
    return per_choice * (choices if isinstance(choices, int) and choices > 0 else 1)


def embedding_bound(request: dict[str, Any]) -> int:
    value = request.get("input")
    if isinstance(value, str):
        return len(value.encode())
    if isinstance(value, list):
        total = 0
        for item in value:
            if isinstance(item, str):
                total += len(item.encode())
            elif isinstance(item, list):
                total += len(item)
            else:
                total += 1
        return total
    return 0


def responses_prompt_bound(request: dict[str, Any]) -> int:
    """``input`` (a string or items), ``instructions`` and tools, as chat's messages are bound."""
    value = request.get("input")
    items = value if isinstance(value, list) else [value]
    bound = sum(_text_bytes(item) + MESSAGE_FRAMING_TOKENS for item in items)
    bound += _text_bytes(request.get("instructions"))
    for extra in ("tools", "text"):
        if extra in request:
            bound += len(orjson.dumps(request[extra]))
    return bound + MESSAGE_FRAMING_TOKENS


def worst_case_usage(endpoint: str, request: dict[str, Any], model: str) -> Usage:
    if endpoint == "responses":
        cap = request.get("max_output_tokens")
        limit = OUTPUT_LIMITS.get(model, DEFAULT_OUTPUT_LIMIT)
        return Usage(
            prompt_tokens=responses_prompt_bound(request),
            cached_tokens=0,
            completion_tokens=min(cap, limit) if isinstance(cap, int) and cap > 0 else limit,
        )
    if endpoint == "embeddings":
        return Usage(prompt_tokens=embedding_bound(request), cached_tokens=0, completion_tokens=0)
    return Usage(
        prompt_tokens=chat_prompt_bound(request),
        cached_tokens=0,
        completion_tokens=completion_bound(request, model),
    )


def worst_case_charge(
    endpoint: str,
    request: dict[str, Any],
    price: Price,
    markup_bps: int,
    units: Units | None = None,
    *,
    unit_prices: UnitPriceBook = DEFAULT_BOOK,
) -> int:
    """The most this call can be charged, in micro-dollars (no cached discount assumed).

    A call priced by ``units`` (their bound, known before the call) is charged by
    them alone, at the variant's price (else the model's dearest) in ``unit_prices``:
    the gateway passes the book in force when the call started, as its entry is priced.
    """
    if units is not None:
        unit_price = unit_prices.price_for(price.model, units.variant)
        unit_price = unit_price or unit_prices.dearest(price.model)
        if unit_price is not None:
            return units_cost(units, unit_price, markup_bps=markup_bps, charge=True).charged_micros
    if endpoint == "messages":
        limit = OUTPUT_LIMITS.get(price.model, DEFAULT_OUTPUT_LIMIT)
        usage = messages_usage_bound(request, limit)
    else:
        usage = worst_case_usage(endpoint, request, price.model)
    if price.cache_write_per_mtok is not None or price.cache_write_1h_per_mtok is not None:
        usage = dearest_prompt(usage, price, request)  # Anthropic: writing the cache costs more
    return cost_of(usage, price, markup_bps=markup_bps, charge_tokens=True).charged_micros
