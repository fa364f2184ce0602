"""The translation against the simulated Messages API, over real HTTP.

The simulator refuses what Anthropic refuses (unknown fields, a ``tool_use``
without its ``tool_result``, a missing ``max_tokens``) and answers as
Anthropic answers, so a chat completions request translated here, sent to it,
and its answer translated back, must come out as a chat.completion (or chunks)
that OpenAI's types accept. Nothing of the gateway is involved: these are the
functions the relay will call, with a real upstream on the other side.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import orjson
import pytest
from openai.types.chat import ChatCompletion, ChatCompletionChunk

from chatgrid.ledger.pricing import Usage
from chatgrid.providers.anthropic_answer import translate_answer
from chatgrid.providers.anthropic_errors import anthropic_error_object, error_from_anthropic
from chatgrid.providers.anthropic_stream import AnthropicStream
from chatgrid.providers.anthropic_translate import anthropic_request
from chatgrid.simulator.testing import TEST_KEY, RunningSimulator

CREATED = 1_767_225_600  # a fixed instant: nothing here reads the clock
MODEL = "claude-sonnet-4-5-20250929"
PNG = (  # a 1×1 pixel
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="
)
WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "The weather in a city.",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
    },
}


@pytest.fixture(scope="module")
def simulator() -> Iterator[RunningSimulator]:
    with RunningSimulator() as running:
        yield running


@pytest.fixture
def upstream(simulator: RunningSimulator) -> Iterator[httpx.Client]:
    simulator.app.state.reset()
    headers = {"x-api-key": TEST_KEY, "anthropic-version": "2023-06-01"}
    with httpx.Client(base_url=simulator.base_url, headers=headers, timeout=10) as client:
        yield client


def ask(upstream: httpx.Client, openai_body: dict[str, Any]) -> httpx.Response:
    return upstream.post("/v1/messages", content=orjson.dumps(anthropic_request(openai_body)))


def stream_into(translator: AnthropicStream, upstream: httpx.Client, body: dict[str, Any]) -> bytes:
    """Stream the translated request, feeding every read to ``translator``; what it sent."""
    out = b""
    raw = orjson.dumps(anthropic_request(body))
    with upstream.stream("POST", "/v1/messages", content=raw) as answer:
        assert answer.status_code == 200
        for data in answer.iter_raw():
            out += translator.feed(data)
    return out


def completion(upstream: httpx.Client, openai_body: dict[str, Any]) -> tuple[ChatCompletion, Usage]:
    answer = ask(upstream, openai_body)
    assert answer.status_code == 200, answer.text
    translated = translate_answer(answer.content, created=CREATED)
    assert translated is not None and translated.usage is not None
    return ChatCompletion.model_validate_json(translated.body), translated.usage.ledger_usage()


def test_a_conversation_with_a_system_prompt_an_image_and_stop_is_answered(
    upstream: httpx.Client,
) -> None:
    done, usage = completion(
        upstream,
        {
            "model": MODEL,
            "messages": [
                {"role": "system", "content": "Be brief."},
                {"role": "developer", "content": "Answer in English."},
                {"role": "user", "content": "Hello"},
                {"role": "assistant", "content": "Hi! What can I do?"},
                {
                    "role": "user",
                    "content": [
                        {"type": "text", "text": "What is in this picture?"},
                        {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{PNG}"}},
                    ],
                },
            ],
            "stop": ["zzz-never"],
            "temperature": 0.4,
            "user": "cg-0123456789abcdef01234567",
        },
    )
    assert done.model == MODEL
    assert done.choices[0].message.content
    assert done.choices[0].finish_reason == "stop"
    assert done.usage is not None and done.usage.prompt_tokens == usage.prompt_tokens > 0


def test_a_tool_call_comes_back_as_tool_calls_and_its_result_is_accepted(
    upstream: httpx.Client,
) -> None:
    messages: list[dict[str, Any]] = [{"role": "user", "content": "Weather in Paris?"}]
    body = {"model": MODEL, "messages": messages, "tools": [WEATHER], "tool_choice": "required"}
    first, _ = completion(upstream, body)
    assert first.choices[0].finish_reason == "tool_calls"
    calls = first.choices[0].message.tool_calls
    assert calls is not None and calls[0].function.name == "get_weather"  # type: ignore[union-attr]

    # The simulator holds Anthropic's pairing rule: the result must answer that call.
    messages.append(first.choices[0].message.model_dump(exclude_none=True))
    messages.append({"role": "tool", "tool_call_id": calls[0].id, "content": "18°C, sunny"})
    messages.append({"role": "user", "content": "So, a jacket?"})
    second, _ = completion(upstream, {**body, "tool_choice": "none"})
    assert second.choices[0].finish_reason == "stop"
    assert second.choices[0].message.content


def test_a_stream_translates_to_chunks_with_the_usage_of_the_whole_answer(
    upstream: httpx.Client,
) -> None:
    body = {
        "model": MODEL,
        "messages": [{"role": "user", "content": "Tell me something. [sim:tokens=20]"}],
        "stream": True,
    }
    whole, whole_usage = completion(upstream, {**body, "stream": False})
    translator = AnthropicStream(forward_usage=True, created=CREATED)
    out = stream_into(translator, upstream, body)
    read = [ChatCompletionChunk.model_validate_json(e[6:]) for e in out[:-2].split(b"\n\n")]
    text = "".join(c.choices[0].delta.content or "" for c in read if c.choices)
    assert text == whole.choices[0].message.content
    assert read[-1].usage is not None and read[-1].usage.completion_tokens == 20
    assert translator.done
    assert translator.usage == whole_usage


def test_a_stream_cut_short_is_not_done_and_is_estimated(upstream: httpx.Client) -> None:
    body = {
        "model": MODEL,
        "messages": [{"role": "user", "content": "Go on. [sim:cut=3]"}],
        "stream": True,
    }
    translator = AnthropicStream(forward_usage=False, created=CREATED)
    with pytest.raises(httpx.HTTPError):  # the simulator drops the connection
        stream_into(translator, upstream, body)
    assert not translator.done
    assert translator.usage is None
    estimate = translator.estimate()
    assert estimate is not None and estimate.prompt_tokens > 0 and estimate.completion_tokens == 3


def test_cache_writes_then_reads_reach_the_ledger_apart(upstream: httpx.Client) -> None:
    manual = {
        "type": "text",
        "text": "A long manual. " * 40,
        "cache_control": {"type": "ephemeral"},
    }
    body = {
        "model": MODEL,
        "messages": [
            {"role": "system", "content": [manual]},
            {"role": "user", "content": "Question one?"},
        ],
    }
    _, first = completion(upstream, body)
    done, second = completion(upstream, body)
    assert first.cache_write_tokens > 0 and first.cached_tokens == 0
    assert second.cached_tokens == first.cache_write_tokens and second.cache_write_tokens == 0
    assert done.usage is not None and done.usage.prompt_tokens_details is not None
    assert done.usage.prompt_tokens_details.cached_tokens == second.cached_tokens
    assert second.prompt_tokens == first.prompt_tokens


def test_an_unknown_model_is_openais_model_not_found(upstream: httpx.Client) -> None:
    answer = ask(upstream, {"model": "claude-nope", "messages": [{"role": "user", "content": "x"}]})
    error_object = anthropic_error_object(answer.content)
    assert answer.status_code == 404 and error_object is not None
    error = error_from_anthropic(error_object, answer.status_code)
    assert (error.status, error.code) == (404, "model_not_found")
    assert "claude-nope" in error.message


def test_cache_writes_kept_an_hour_reach_the_ledger_as_such(upstream: httpx.Client) -> None:
    marker = {"type": "ephemeral", "ttl": "1h"}
    manual = {"type": "text", "text": "A long manual. " * 40, "cache_control": marker}
    body = {
        "model": MODEL,
        "messages": [
            {"role": "system", "content": [manual]},
            {"role": "user", "content": "Question one?"},
        ],
    }
    _, usage = completion(upstream, body)
    assert usage.cache_write_tokens > 0
    assert usage.cache_write_1h_tokens == usage.cache_write_tokens
