"""The pure rules: token counting, reply words and directive parsing."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from jsonschema import ValidationError

from chatgrid.simulator.directives import NONE, parse_directives
from chatgrid.simulator.tokens import count_text, prompt_tokens, reply_words

Validate = Callable[[str, Any], None]


@pytest.mark.parametrize(
    ("text", "count"),
    [
        ("", 0),
        ("Hello", 1),
        ("Hello, world!", 4),
        ("  spaced   out  ", 2),
        ("don't", 3),
        ("snake_case_word 42", 2),
        ("héllo wörld", 2),
        ("a+b=c", 5),
    ],
)
def test_count_text(text: str, count: int) -> None:
    assert count_text(text) == count


def test_prompt_tokens_per_message_and_request_overheads() -> None:
    assert prompt_tokens([{"role": "user", "content": ""}]) == 6
    assert prompt_tokens([{"role": "user", "content": "a b"}, {"role": "assistant"}]) == 11
    parts = [{"type": "text", "text": "a"}, {"type": "text", "text": "b c"}]
    assert prompt_tokens([{"role": "user", "content": parts}]) == 9
    image = [{"type": "image_url", "image_url": {"url": "data:,"}}]
    assert prompt_tokens([{"role": "user", "content": image}]) == 6 + 85


def test_reply_words_are_deterministic_per_seed_and_choice() -> None:
    words = reply_words(b"seed", 0, 50)
    assert words == reply_words(b"seed", 0, 50)
    assert words != reply_words(b"seed", 1, 50)
    assert words[:10] == reply_words(b"seed", 0, 10)
    assert words[0][0].isupper()
    assert all(word.startswith(" ") for word in words[1:])
    assert count_text("".join(words)) == 50
    assert reply_words(b"seed", 0, 0) == []


def test_directives_parse_and_combine() -> None:
    assert parse_directives("plain text") is NONE
    found = parse_directives(
        "[sim:429=9] [sim:delay=10] [sim:slow=5] [sim:cut=2] "
        "[sim:tokens=7] [sim:cached=3] [sim:tool]"
    )
    assert (found.fault, found.retry_after, found.delay_ms, found.slow_ms) == (429, 9, 10, 5)
    assert (found.cut, found.tokens, found.cached, found.tool) == (2, 7, 3, True)
    assert parse_directives("[sim:500] then [sim:503]").fault == 503
    assert parse_directives("[sim:cut]").cut == 0
    assert parse_directives("[sim:418] [sim:whatever=3] [SIM:500]").fault is None
    assert parse_directives("[sim:429]").retry_after == 2


def test_the_schema_check_is_not_a_rubber_stamp(openapi_validate: Validate) -> None:
    with pytest.raises(ValidationError):
        openapi_validate("CreateChatCompletionResponse", {"id": "x", "choices": []})
    with pytest.raises(ValidationError):
        openapi_validate("ErrorResponse", {"error": {"message": "m", "type": "t"}})
    chunk = {
        "id": "c",
        "object": "chat.completion.chunk",
        "created": 1,
        "model": "m",
        "choices": [{"index": 0, "delta": {}, "finish_reason": None}],
        "usage": None,
    }
    openapi_validate("CreateChatCompletionStreamResponse", chunk)
    chunk["usage"] = {"prompt_tokens": 1}
    with pytest.raises(ValidationError):
        openapi_validate("CreateChatCompletionStreamResponse", chunk)
