"""A Claude call's reservation bounds what Anthropic can charge for it (pure)."""

from __future__ import annotations

from datetime import date
from typing import Any

from chatgrid.billing.worst_case import chat_prompt_bound, worst_case_charge
from chatgrid.ledger.pricing import Price, Usage, cost_of

SONNET = Price(
    "claude-sonnet-4-5",
    date(2025, 8, 7),
    input_per_mtok=3_000_000,
    cached_input_per_mtok=300_000,
    output_per_mtok=15_000_000,
    cache_write_per_mtok=3_750_000,
    cache_write_1h_per_mtok=6_000_000,
)
CHAT: dict[str, Any] = {
    "model": "claude-sonnet-4-5",
    "max_tokens": 200,
    "messages": [{"role": "user", "content": "a question " * 40}],
}


def charged(usage: Usage) -> int:
    return cost_of(usage, SONNET, markup_bps=2_000, charge_tokens=True).charged_micros


def test_a_chat_call_is_bound_with_its_whole_prompt_written_for_an_hour() -> None:
    prompt = chat_prompt_bound(CHAT)
    bound = worst_case_charge("chat", CHAT, SONNET, 2_000)
    written = Usage(prompt, 0, 200, cache_write_tokens=prompt, cache_write_1h_tokens=prompt)
    assert bound == charged(written)
    assert bound > charged(Usage(prompt, 0, 200))  # above the plain-input price


def test_a_cap_above_openais_output_limits_is_bound_in_full() -> None:
    request = {**CHAT, "max_tokens": 60_000}
    prompt = chat_prompt_bound(request)
    written = Usage(prompt, 0, 60_000, cache_write_tokens=prompt, cache_write_1h_tokens=prompt)
    assert worst_case_charge("chat", request, SONNET, 2_000) == charged(written)


def test_a_native_messages_call_counts_its_system_prompt_and_tools() -> None:
    request: dict[str, Any] = {
        "model": "claude-sonnet-4-5",
        "max_tokens": 100,
        "system": "s" * 5_000,
        "messages": [{"role": "user", "content": "hi"}],
    }
    bound = worst_case_charge("messages", request, SONNET, 0)
    # 5,000 system bytes at the 1-hour write rate alone, and 100 output tokens.
    assert bound > (5_000 * 6_000_000 + 100 * 15_000_000) // 1_000_000
