"""Anthropic's Message → OpenAI's chat.completion, and its usage for the ledger (pure).

Anthropic counts a prompt in three parts: ``input_tokens`` (not cached),
``cache_read_input_tokens`` and ``cache_creation_input_tokens``. OpenAI's
``prompt_tokens`` is the whole prompt, with reads as
``prompt_tokens_details.cached_tokens``; cache writes have no OpenAI field,
so the client sees them inside ``prompt_tokens`` and the ledger gets them
apart (:meth:`AnthropicUsage.ledger_usage`) to price them as Anthropic does.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

import orjson

from chatgrid.ledger.pricing import Usage

#: Anthropic's ``stop_reason`` → OpenAI's ``finish_reason``.
FINISH_REASONS: Final = {
    "end_turn": "stop",
    "stop_sequence": "stop",
    "pause_turn": "stop",
    "max_tokens": "length",
    "model_context_window_exceeded": "length",
    "tool_use": "tool_calls",
    "refusal": "content_filter",
}


def finish_reason(stop_reason: Any) -> str:
    return FINISH_REASONS.get(stop_reason, "stop") if isinstance(stop_reason, str) else "stop"


def _count(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 0


@dataclass(frozen=True, slots=True)
class AnthropicUsage:
    """The four counts Anthropic bills by, as it reported them (and, of the cache writes,
    those kept an hour, which cost more)."""

    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0
    cache_write_1h_tokens: int = 0

    @classmethod
    def from_mapping(cls, usage: Any, base: AnthropicUsage | None = None) -> AnthropicUsage:
        """Counts read from an Anthropic ``usage`` object; a count it leaves out (or null)
        keeps its value from ``base`` (a stream's ``message_start``)."""
        base = base or _ZERO
        if not isinstance(usage, dict):
            return base

        def pick(key: str, default: int) -> int:
            value = usage.get(key)
            return default if value is None else _count(value)

        by_ttl = usage.get("cache_creation")
        hour = by_ttl.get("ephemeral_1h_input_tokens") if isinstance(by_ttl, dict) else None
        return cls(
            input_tokens=pick("input_tokens", base.input_tokens),
            output_tokens=pick("output_tokens", base.output_tokens),
            cache_read_tokens=pick("cache_read_input_tokens", base.cache_read_tokens),
            cache_write_tokens=pick("cache_creation_input_tokens", base.cache_write_tokens),
            cache_write_1h_tokens=base.cache_write_1h_tokens if hour is None else _count(hour),
        )

    @property
    def prompt_tokens(self) -> int:
        return self.input_tokens + self.cache_read_tokens + self.cache_write_tokens

    def openai_usage(self) -> dict[str, Any]:
        prompt = self.prompt_tokens
        return {
            "prompt_tokens": prompt,
            "completion_tokens": self.output_tokens,
            "total_tokens": prompt + self.output_tokens,
            "prompt_tokens_details": {"cached_tokens": self.cache_read_tokens},
        }

    def ledger_usage(self) -> Usage:
        return Usage(
            prompt_tokens=self.prompt_tokens,
            cached_tokens=self.cache_read_tokens,
            completion_tokens=self.output_tokens,
            cache_write_tokens=self.cache_write_tokens,
            cache_write_1h_tokens=self.cache_write_1h_tokens,
        )


_ZERO: Final = AnthropicUsage()


def tool_call(block: dict[str, Any]) -> dict[str, Any]:
    """An OpenAI tool call for a ``tool_use`` block (its input as a JSON string)."""
    return {
        "id": block.get("id"),
        "type": "function",
        "function": {
            "name": block.get("name"),
            "arguments": orjson.dumps(block.get("input") or {}).decode(),
        },
    }


def openai_completion(message: dict[str, Any], *, created: int) -> dict[str, Any]:
    """The chat.completion for an Anthropic Message; ``created`` is the caller's clock
    (Unix seconds), as Anthropic's answer carries no time."""
    texts: list[str] = []
    calls: list[dict[str, Any]] = []
    for block in message.get("content") or ():
        kind = block.get("type")
        if kind == "text":
            texts.append(block.get("text") or "")
        elif kind == "tool_use":
            calls.append(tool_call(block))
        # thinking, redacted_thinking and server-tool blocks have no OpenAI form.
    reply: dict[str, Any] = {
        "role": "assistant",
        "content": "".join(texts) if texts or not calls else None,
        "refusal": None,
    }
    if calls:
        reply["tool_calls"] = calls
    usage = AnthropicUsage.from_mapping(message.get("usage"))
    return {
        "id": message.get("id"),
        "object": "chat.completion",
        "created": created,
        "model": message.get("model"),
        "choices": [
            {
                "index": 0,
                "message": reply,
                "logprobs": None,
                "finish_reason": finish_reason(message.get("stop_reason")),
            }
        ],
        "usage": usage.openai_usage(),
    }


@dataclass(frozen=True, slots=True)
class TranslatedAnswer:
    body: bytes
    """The chat.completion as JSON, for the client."""
    usage: AnthropicUsage | None
    """None when the upstream's body was not a Message with usage (the relay estimates)."""


def translate_answer(payload: bytes, *, created: int) -> TranslatedAnswer | None:
    """A 200 body from ``POST /v1/messages`` as a chat.completion; None if it is not JSON
    holding a Message (the relay then treats it as a broken upstream answer)."""
    try:
        message = orjson.loads(payload)
    except orjson.JSONDecodeError:
        return None
    if not isinstance(message, dict) or message.get("type") != "message":
        return None
    raw_usage = message.get("usage")
    usage = AnthropicUsage.from_mapping(raw_usage) if isinstance(raw_usage, dict) else None
    return TranslatedAnswer(orjson.dumps(openai_completion(message, created=created)), usage)
