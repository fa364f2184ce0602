"""The most a Claude call can cost (pure), for ``worst_case.worst_case_charge``.

Anthropic bills a prompt token at one of four rates: plain input, a cache
read, a cache write kept 5 minutes (1.25× input) or an hour (2×). Which
ones a call pays is known only afterwards, so the bound prices every
prompt token at the dearest of them. The prompt is bounded as chat's is
(a token is at least one byte); a native Messages body adds its top-level
``system`` and ``tools``. The output is bounded by ``max_tokens``, which
every Messages call carries (a translated chat completion: the same number
``providers.anthropic_translate.max_output_tokens`` puts there, or less).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import orjson

from chatgrid.ledger.pricing import Price, Usage, cost_of


def messages_usage_bound(request: dict[str, Any], output_limit: int) -> Usage:
    """A native ``/v1/messages`` body: system, messages and tools bound the prompt."""
    prompt = 8
    for part in ("system", "messages", "tools", "tool_choice"):
        if part in request:
            prompt += len(orjson.dumps(request[part]))
    cap = request.get("max_tokens")
    completion = cap if isinstance(cap, int) and not isinstance(cap, bool) and cap > 0 else 0
    return Usage(
        prompt_tokens=prompt,
        cached_tokens=0,
        completion_tokens=completion or output_limit,
    )


def dearest_prompt(usage: Usage, price: Price, request: dict[str, Any]) -> Usage:
    """``usage`` with every prompt token at the dearest of the price's prompt rates, and
    the output at least the cap the call carries (Claude's may pass OpenAI's limits)."""
    prompt = usage.prompt_tokens
    cap = request.get("max_completion_tokens") or request.get("max_tokens")
    if isinstance(cap, int) and not isinstance(cap, bool) and cap > usage.completion_tokens:
        usage = replace(usage, completion_tokens=cap)
    candidates = [
        usage,
        replace(usage, cache_write_tokens=prompt, cache_write_1h_tokens=0),
        replace(usage, cache_write_tokens=prompt, cache_write_1h_tokens=prompt),
    ]
    return max(
        candidates, key=lambda u: cost_of(u, price, markup_bps=0, charge_tokens=False).list_micros
    )
