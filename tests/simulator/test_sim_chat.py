"""Non-streaming chat completions: shape, determinism, usage rules, tools, JSON, validation."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import orjson
import pytest

from chatgrid.simulator.testing import AsgiResponse, InProcessClient, bearer
from chatgrid.simulator.tokens import count_text

Chat = Callable[..., AsgiResponse]
Validate = Callable[[str, Any], None]
AUTH = bearer()
WEATHER_TOOL = {"type": "function", "function": {"name": "get_weather", "parameters": {}}}
CLOCK_TOOL = {"type": "function", "function": {"name": "get_time"}}


def test_reply_matches_openai_schema_and_headers(chat: Chat, openapi_validate: Validate) -> None:
    response = chat()
    assert response.status == 200
    body = response.json()
    openapi_validate("CreateChatCompletionResponse", body)
    assert re.fullmatch(r"chatcmpl-[0-9a-f]+", body["id"])
    assert body["object"] == "chat.completion"
    assert body["model"] == "gpt-4o-mini"
    assert body["system_fingerprint"].startswith("fp_")
    assert body["service_tier"] == "default"
    assert body["choices"][0]["finish_reason"] == "stop"
    assert body["choices"][0]["message"]["role"] == "assistant"
    assert re.fullmatch(r"req_[0-9a-f]{32}", response.headers["x-request-id"])
    assert response.headers["openai-processing-ms"].isdigit()
    assert response.headers["content-type"] == "application/json"


def test_same_request_gives_same_reply_and_usage(chat: Chat) -> None:
    first, second = chat("Tell me a story").json(), chat("Tell me a story").json()
    assert first["choices"] == second["choices"]
    assert first["usage"] == second["usage"]
    assert first["id"] != second["id"]
    assert chat("Tell me another").json()["choices"] != first["choices"]


def test_usage_follows_the_documented_counting_rule(client: InProcessClient) -> None:
    messages = [
        {"role": "system", "content": "Be brief."},  # 3 tokens
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "What's in this image?"},  # 7 tokens
                {"type": "image_url", "image_url": {"url": "https://example.com/a.png"}},
            ],
        },
    ]
    body = {"model": "gpt-4o", "messages": messages}
    usage = client.request("POST", "/v1/chat/completions", json=body, headers=AUTH).json()["usage"]
    assert usage["prompt_tokens"] == 3 + (3 + 3) + (3 + 7 + 85)
    assert usage["completion_tokens"] == 16
    assert usage["total_tokens"] == usage["prompt_tokens"] + 16
    assert usage["prompt_tokens_details"]["cached_tokens"] == 0
    assert usage["completion_tokens_details"]["reasoning_tokens"] == 0


def test_reply_text_counts_exactly_its_completion_tokens(chat: Chat) -> None:
    body = chat("Count me [sim:tokens=40]").json()
    content = body["choices"][0]["message"]["content"]
    assert body["usage"]["completion_tokens"] == 40
    assert count_text(content) == 40
    assert len(content.split(" ")) == 40


def test_max_tokens_caps_the_reply_with_finish_reason_length(chat: Chat) -> None:
    for cap_field in ("max_tokens", "max_completion_tokens"):
        body = chat("Hello", **{cap_field: 5}).json()
        assert body["usage"]["completion_tokens"] == 5
        assert body["choices"][0]["finish_reason"] == "length"
    body = chat("Hello [sim:tokens=3]", max_tokens=5).json()
    assert body["usage"]["completion_tokens"] == 3
    assert body["choices"][0]["finish_reason"] == "stop"


def test_cached_directive_is_capped_at_prompt_tokens(chat: Chat) -> None:
    usage = chat("Hello there [sim:cached=4]").json()["usage"]
    assert usage["prompt_tokens_details"]["cached_tokens"] == 4
    usage = chat("Hi [sim:cached=100000]").json()["usage"]
    assert usage["prompt_tokens_details"]["cached_tokens"] == usage["prompt_tokens"]


def test_n_choices_each_differ_and_all_count(chat: Chat, openapi_validate: Validate) -> None:
    body = chat("Hello", n=3).json()
    openapi_validate("CreateChatCompletionResponse", body)
    assert [choice["index"] for choice in body["choices"]] == [0, 1, 2]
    assert len({choice["message"]["content"] for choice in body["choices"]}) == 3
    assert body["usage"]["completion_tokens"] == 48


@pytest.mark.parametrize(
    ("text", "tool_choice", "called"),
    [
        ("What's the weather? [sim:tool]", None, "get_weather"),
        ("What's the weather?", "required", "get_weather"),
        ("What's the weather?", {"type": "function", "function": {"name": "get_time"}}, "get_time"),
        ("What's the weather?", None, None),
        ("What's the weather? [sim:tool]", "none", None),
    ],
)
def test_tool_calls_follow_tool_choice_and_directive(
    chat: Chat, openapi_validate: Validate, text: str, tool_choice: Any, called: str | None
) -> None:
    fields: dict[str, Any] = {"tools": [WEATHER_TOOL, CLOCK_TOOL]}
    if tool_choice is not None:
        fields["tool_choice"] = tool_choice
    body = chat(text, **fields).json()
    openapi_validate("CreateChatCompletionResponse", body)
    choice = body["choices"][0]
    if called is None:
        assert choice["finish_reason"] == "stop"
        assert "tool_calls" not in choice["message"]
        return
    assert choice["finish_reason"] == "tool_calls"
    assert choice["message"]["content"] is None
    (call,) = choice["message"]["tool_calls"]
    assert call["type"] == "function"
    assert call["function"] == {"name": called, "arguments": "{}"}
    assert call["id"].startswith("call_")
    assert body["usage"]["completion_tokens"] == count_text(called) + 2


@pytest.mark.parametrize(
    "response_format",
    [
        {"type": "json_object"},
        {"type": "json_schema", "json_schema": {"name": "reply", "schema": {"type": "object"}}},
    ],
)
def test_json_response_formats_give_a_json_object(chat: Chat, response_format: Any) -> None:
    for text in ("Answer in JSON", "Answer in JSON [sim:tokens=1]"):
        content = chat(text, response_format=response_format).json()["choices"][0]["message"]
        assert isinstance(orjson.loads(content["content"]), dict)


def _with(**fields: Any) -> dict[str, Any]:
    """A valid body with ``fields`` replaced (``None`` removes the field)."""
    body: dict[str, Any] = {"model": "gpt-4o", "messages": [{"role": "user", "content": "x"}]}
    body.update(fields)
    return {key: value for key, value in body.items() if value is not None}


@pytest.mark.parametrize(
    ("body", "param", "code"),
    [
        (_with(messages=None), "messages", "missing_required_parameter"),
        (_with(messages=[]), "messages", "empty_array"),
        (_with(messages="hi"), "messages", "invalid_type"),
        (_with(messages=["hi"]), "messages[0]", "invalid_type"),
        (_with(messages=[{"content": "hi"}]), "messages[0].role", "missing_required_parameter"),
        (_with(messages=[{"role": "bot", "content": "x"}]), "messages[0].role", "invalid_value"),
        (_with(messages=[{"role": "user"}]), "messages[0].content", "missing_required_parameter"),
        (_with(messages=[{"role": "user", "content": 3}]), "messages[0].content", "invalid_type"),
        (_with(model=None), "model", "missing_required_parameter"),
        (_with(model=4), "model", "invalid_type"),
        (_with(n=0), "n", "integer_below_min_value"),
        (_with(max_tokens="5"), "max_tokens", "invalid_type"),
        (_with(temperature=3), "temperature", "decimal_above_max_value"),
        (_with(stream_options={"include_usage": True}), "stream_options", "invalid_value"),
        (_with(tool_choice="auto"), "tool_choice", None),
        (_with(response_format={"type": "yaml"}), "response_format.type", "invalid_value"),
    ],
)
def test_invalid_requests_get_400_naming_the_param(
    client: InProcessClient, openapi_validate: Validate, body: Any, param: str, code: str | None
) -> None:
    response = client.request("POST", "/v1/chat/completions", json=body, headers=AUTH)
    assert response.status == 400
    error = response.json()
    openapi_validate("ErrorResponse", error)
    assert error["error"]["type"] == "invalid_request_error"
    assert error["error"]["param"] == param
    assert error["error"]["code"] == code


@pytest.mark.parametrize("content", [b"not json", b"", b"{", b"[1, 2"])
def test_unparsable_body_is_a_400(client: InProcessClient, content: bytes) -> None:
    response = client.request("POST", "/v1/chat/completions", content=content, headers=AUTH)
    assert response.status == 400
    assert "could not parse the JSON body" in response.json()["error"]["message"]


def test_unknown_model_is_404_model_not_found(chat: Chat, openapi_validate: Validate) -> None:
    response = chat(model="gpt-9")
    assert response.status == 404
    openapi_validate("ErrorResponse", response.json())
    assert response.json()["error"]["code"] == "model_not_found"
    assert "`gpt-9`" in response.json()["error"]["message"]


def test_embedding_model_is_not_a_chat_model(chat: Chat) -> None:
    response = chat(model="text-embedding-3-small")
    assert response.status == 404
    assert response.json()["error"]["param"] == "model"


def test_body_over_8_mib_is_refused_with_413(client: InProcessClient) -> None:
    huge = b'{"model": "gpt-4o", "messages": [], "pad": "' + b"x" * (8 * 1024 * 1024) + b'"}'
    response = client.request("POST", "/v1/chat/completions", content=huge, headers=AUTH)
    assert response.status == 413
    assert response.json()["error"]["code"] == "request_too_large"


def test_service_tier_is_echoed_as_served(chat: Chat) -> None:
    assert chat(service_tier="flex").json()["service_tier"] == "flex"
    assert chat(service_tier="auto").json()["service_tier"] == "default"


def test_echo_directive_replies_with_the_message_text(chat: Chat) -> None:
    text = "Say <b>this</b>\n\n| a | b |\n|---|---|\n| 1 | 2 |"
    body = chat(f"[sim:echo]{text}").json()
    assert body["choices"][0]["message"]["content"] == text
    assert body["usage"]["completion_tokens"] == len(re.findall(r"\s*(?:\w+|[^\w\s])|\s+", text))


def test_echo_directive_reports_the_image_parts_that_arrived(chat: Chat) -> None:
    image = {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="}}
    content = [{"type": "text", "text": "[sim:echo]What is this?"}, image, image]
    body = chat(messages=[{"role": "user", "content": content}]).json()
    assert body["choices"][0]["message"]["content"] == "What is this? [images: 2]"
    plain = chat(messages=[{"role": "user", "content": "[sim:echo]What is this?"}]).json()
    assert plain["choices"][0]["message"]["content"] == "What is this?"
    # Each image part counts in the prompt's tokens.
    assert body["usage"]["prompt_tokens"] - plain["usage"]["prompt_tokens"] == 2 * 85


def test_cite_directive_cites_each_numbered_excerpt_once(chat: Chat) -> None:
    excerpts = "Excerpts:\n\n[1] a.md\n<<<\nalpha\n>>>\n\n[2] b.md\n<<<\n[1] again\n>>>"
    messages = [
        {"role": "user", "content": excerpts},
        {"role": "user", "content": "[sim:echo]Which one? [sim:cite]"},
    ]
    body = chat(messages=messages).json()
    assert body["choices"][0]["message"]["content"] == "Which one? [1] [2]"
    cut = chat(messages=messages, max_completion_tokens=2).json()
    assert "[" not in cut["choices"][0]["message"]["content"]  # cut short: no citations
