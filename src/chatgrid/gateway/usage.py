"""Read token usage out of upstream responses without parsing whole bodies.

An embeddings response can be megabytes of floats with ``usage`` at the end;
parsing just that object keeps the ledger's cost independent of body size.
"""

from __future__ import annotations

from typing import Any

import orjson

from chatgrid.ledger.pricing import Usage

_USAGE_KEY = b'"usage"'


def usage_from_mapping(usage: Any) -> Usage | None:
    """Chat's and embeddings' ``prompt_tokens``, or the Responses API's ``input_tokens``."""
    if not isinstance(usage, dict):
        return None
    if "input_tokens" in usage and "prompt_tokens" not in usage:
        prompt = usage.get("input_tokens")
        completion = usage.get("output_tokens", 0) or 0
        details = usage.get("input_tokens_details")
    else:
        prompt = usage.get("prompt_tokens")
        completion = usage.get("completion_tokens", 0) or 0
        details = usage.get("prompt_tokens_details")
    if not isinstance(prompt, int) or not isinstance(completion, int):
        return None
    cached = details.get("cached_tokens", 0) if isinstance(details, dict) else 0
    return Usage(
        prompt_tokens=prompt,
        cached_tokens=cached if isinstance(cached, int) else 0,
        completion_tokens=completion,
    )


def _object_at(payload: bytes, start: int) -> bytes | None:
    """The balanced ``{...}`` starting at ``start`` (usage objects hold no strings with braces).

    Jumps between braces with ``bytes.find`` (C speed) instead of walking bytes.
    """
    depth = 0
    position = start
    while True:
        close = payload.find(b"}", position)
        if close < 0:
            return None
        opening = payload.find(b"{", position, close)
        if opening >= 0:
            depth += 1
            position = opening + 1
            continue
        depth -= 1
        position = close + 1
        if depth == 0:
            return payload[start:position]


def usage_from_body(payload: bytes) -> Usage | None:
    key = payload.rfind(_USAGE_KEY)
    if key >= 0:
        brace = payload.find(b"{", key, key + 32)
        if brace >= 0:
            snippet = _object_at(payload, brace)
            if snippet is not None:
                try:
                    found = usage_from_mapping(orjson.loads(snippet))
                except orjson.JSONDecodeError:
                    found = None
                if found is not None:
                    return found
    try:
        data = orjson.loads(payload)
    except orjson.JSONDecodeError:
        return None
    return usage_from_mapping(data.get("usage")) if isinstance(data, dict) else None
