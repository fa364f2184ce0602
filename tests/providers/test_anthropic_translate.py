"""A chat completions request becomes a Messages request Anthropic accepts, and its answer
comes back as a chat.completion OpenAI's SDK reads.

Requests are checked strictly against the official ``anthropic`` SDK's
``MessageCreateParams`` TypedDicts (no unknown key anywhere, every required
key present, every literal right), as Anthropic's API itself refuses extra
inputs. Answers are built from the SDK's own ``anthropic.types.Message`` and
read back with ``openai.types.chat.ChatCompletion``.
"""

from __future__ import annotations

import collections.abc
import copy
import itertools
import types
import typing
from typing import Any

import orjson
import pytest
import typing_extensions
from anthropic.types import Message
from anthropic.types.message_create_params import (
    MessageCreateParamsNonStreaming,
    MessageCreateParamsStreaming,
)
from openai.types.chat import ChatCompletion
from openai.types.shared import ErrorObject

from chatgrid.errors import InvalidRequest
from chatgrid.ledger.pricing import Usage
from chatgrid.providers.anthropic_answer import (
    AnthropicUsage,
    openai_completion,
    translate_answer,
)
from chatgrid.providers.anthropic_translate import (
    DEFAULT_MAX_TOKENS,
    anthropic_request,
    max_output_tokens,
)

CREATED = 1_767_225_600  # a fixed instant: nothing here reads the clock
MODEL = "claude-sonnet-4-5"
PNG = (  # a 1×1 pixel
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="
)
WEATHER_TOOL = {"type": "function", "function": {"name": "get_weather"}}
#: Sampling parameters the API still takes on the models that support sampling, though the
#: SDK's types (1.0 on) no longer list them: its MIGRATION.md sends them via ``extra_body``.
WIRE_ONLY = frozenset({"temperature", "top_p"})
_SEQUENCES = {list, collections.abc.Iterable, collections.abc.Sequence}


def mismatch(value: Any, hint: Any, where: str = "body") -> str | None:
    """Why ``value`` is not what the SDK's type ``hint`` allows (None: it is)."""
    origin = typing.get_origin(hint)
    if origin in (typing_extensions.Required, typing_extensions.NotRequired, typing.Annotated):
        return mismatch(value, typing.get_args(hint)[0], where)
    if hint is Any or hint is object:
        return None
    if typing_extensions.is_typeddict(hint):
        if not isinstance(value, dict):
            return f"{where}: expected an object for {hint.__name__}"
        hints = typing_extensions.get_type_hints(hint, include_extras=True)
        extra = set(value) - set(hints)
        if extra:
            return f"{where}: {hint.__name__} has no {sorted(extra)}"
        required = {
            k for k, h in hints.items() if typing.get_origin(h) is typing_extensions.Required
        }
        if missing := required - set(value):
            return f"{where}: {hint.__name__} needs {sorted(missing)}"
        for key, item in value.items():
            if (problem := mismatch(item, hints[key], f"{where}.{key}")) is not None:
                return problem
        return None
    if origin in (typing.Union, types.UnionType):
        problems = [mismatch(value, option, where) for option in typing.get_args(hint)]
        if None in problems:
            return None
        return min(problems, key=lambda p: -len(p or ""))  # the one that got deepest
    if origin is typing.Literal:
        return None if value in typing.get_args(hint) else f"{where}: {value!r} not allowed"
    if origin in _SEQUENCES:
        if not isinstance(value, list):
            return f"{where}: expected an array"
        (item_hint,) = typing.get_args(hint)
        for index, item in enumerate(value):
            if (problem := mismatch(item, item_hint, f"{where}[{index}]")) is not None:
                return problem
        return None
    if origin is dict:
        return None if isinstance(value, dict) else f"{where}: expected an object"
    if hint is type(None):
        return None if value is None else f"{where}: expected null"
    if hint is int:
        ok = isinstance(value, int) and not isinstance(value, bool)
        return None if ok else f"{where}: expected an integer"
    if hint is float:
        ok = isinstance(value, int | float) and not isinstance(value, bool)
        return None if ok else f"{where}: expected a number"
    kind = origin or hint  # a class, or a generic one such as IO[bytes]
    return None if isinstance(value, kind) else f"{where}: expected {hint}"


def to_anthropic(data: dict[str, Any]) -> dict[str, Any]:
    """Translate, and check the result is a body Anthropic's SDK types allow."""
    before = copy.deepcopy(data)
    body = anthropic_request(data)
    assert data == before, "the OpenAI request must not be changed"
    params = MessageCreateParamsStreaming if body.get("stream") else MessageCreateParamsNonStreaming
    typed = {k: v for k, v in body.items() if k not in WIRE_ONLY}
    for name, value in body.items():
        if name in WIRE_ONLY:
            assert isinstance(value, int | float) and 0 <= value <= 1, (name, value)
    problem = mismatch(typed, params)
    assert problem is None, problem
    roles = [m["role"] for m in body["messages"]]
    assert all(a != b for a, b in itertools.pairwise(roles)), f"roles alternate: {roles}"
    return body


def chat(*messages: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"model": MODEL, "messages": list(messages), **extra}


def user(content: Any) -> dict[str, Any]:
    return {"role": "user", "content": content}


def test_a_plain_question_becomes_one_user_turn_with_the_default_max_tokens() -> None:
    body = to_anthropic(chat(user("Hello")))
    assert body == {
        "model": MODEL,
        "max_tokens": DEFAULT_MAX_TOKENS,
        "messages": [{"role": "user", "content": [{"type": "text", "text": "Hello"}]}],
    }


def test_system_and_developer_messages_all_become_the_system_prompt_in_order() -> None:
    body = to_anthropic(
        chat(
            {"role": "system", "content": "Be brief."},
            {"role": "developer", "content": [{"type": "text", "text": "Answer in French."}]},
            user("Hi"),
            {"role": "system", "content": "Never mention cheese."},
        )
    )
    assert body["system"] == [
        {"type": "text", "text": "Be brief."},
        {"type": "text", "text": "Answer in French."},
        {"type": "text", "text": "Never mention cheese."},
    ]
    assert [m["role"] for m in body["messages"]] == ["user"]


def test_consecutive_turns_of_one_role_are_merged_so_roles_alternate() -> None:
    body = to_anthropic(
        chat(
            user("one"),
            user([{"type": "text", "text": "two"}]),
            {"role": "assistant", "content": "three"},
            {"role": "assistant", "content": [{"type": "text", "text": "four"}]},
            user("five"),
        )
    )
    assert body["messages"] == [
        {
            "role": "user",
            "content": [{"type": "text", "text": "one"}, {"type": "text", "text": "two"}],
        },
        {
            "role": "assistant",
            "content": [{"type": "text", "text": "three"}, {"type": "text", "text": "four"}],
        },
        {"role": "user", "content": [{"type": "text", "text": "five"}]},
    ]


def test_a_last_assistant_message_stays_last_as_claudes_prefill() -> None:
    body = to_anthropic(chat(user("Name a colour."), {"role": "assistant", "content": "It is"}))
    assert body["messages"][-1] == {
        "role": "assistant",
        "content": [{"type": "text", "text": "It is"}],
    }


def test_a_prefills_trailing_whitespace_is_cut_as_anthropic_refuses_it() -> None:
    trailing = to_anthropic(chat(user("Hi"), {"role": "assistant", "content": "Sure, \n"}))
    assert trailing["messages"][-1]["content"] == [{"type": "text", "text": "Sure,"}]
    parts = [{"type": "text", "text": "A"}, {"type": "text", "text": "  "}]
    blank_last = to_anthropic(chat(user("Hi"), {"role": "assistant", "content": parts}))
    assert blank_last["messages"][-1]["content"] == [{"type": "text", "text": "A"}]
    only_blank = to_anthropic(chat(user("Hi"), {"role": "assistant", "content": " "}))
    assert [m["role"] for m in only_blank["messages"]] == ["user"]
    earlier = to_anthropic(chat(user("Hi"), {"role": "assistant", "content": "a "}, user("b")))
    assert earlier["messages"][1]["content"] == [{"type": "text", "text": "a "}]


def test_images_as_data_urls_go_as_base64_and_web_images_as_urls() -> None:
    body = to_anthropic(
        chat(
            user(
                [
                    {"type": "text", "text": "Compare these"},
                    {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{PNG}"}},
                    {
                        "type": "image_url",
                        "image_url": {"url": "https://example.com/cat.jpg", "detail": "high"},
                    },
                ]
            )
        )
    )
    assert body["messages"][0]["content"][1:] == [
        {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": PNG}},
        {"type": "image", "source": {"type": "url", "url": "https://example.com/cat.jpg"}},
    ]


def test_an_inline_pdf_file_becomes_a_document_block() -> None:
    part = {
        "type": "file",
        "file": {"filename": "a.pdf", "file_data": "data:application/pdf;base64,JVBERi0="},
    }
    body = to_anthropic(chat(user([part, {"type": "text", "text": "Summarize"}])))
    assert body["messages"][0]["content"][0] == {
        "type": "document",
        "source": {"type": "base64", "media_type": "application/pdf", "data": "JVBERi0="},
    }


@pytest.mark.parametrize(
    ("url", "code"),
    [
        ("data:image/bmp;base64,Qk0=", "unsupported_parameter"),
        ("data:image/png,rawbytes", None),
        ("ftp://example.com/cat.png", None),
    ],
)
def test_images_claude_cannot_take_are_refused_with_the_part_named(
    url: str, code: str | None
) -> None:
    part = {"type": "image_url", "image_url": {"url": url}}
    with pytest.raises(InvalidRequest) as refused:
        anthropic_request(chat(user([part])))
    assert refused.value.param == "messages[0].content[0]"
    assert refused.value.code == code


def test_function_tools_become_anthropic_tools() -> None:
    weather = {
        "type": "object",
        "properties": {"city": {"type": "string"}},
        "required": ["city"],
    }
    body = to_anthropic(
        chat(
            user("Weather in Paris?"),
            tools=[
                {
                    "type": "function",
                    "function": {
                        "name": "get_weather",
                        "description": "Weather now",
                        "parameters": weather,
                    },
                },
                {"type": "function", "function": {"name": "now"}},
            ],
        )
    )
    assert body["tools"] == [
        {"name": "get_weather", "description": "Weather now", "input_schema": weather},
        {"name": "now", "input_schema": {"type": "object", "properties": {}}},
    ]
    assert "tool_choice" not in body


@pytest.mark.parametrize(
    ("choice", "parallel", "expected"),
    [
        ("auto", None, {"type": "auto"}),
        ("none", None, {"type": "none"}),
        ("required", None, {"type": "any"}),
        ({"type": "function", "function": {"name": "now"}}, None, {"type": "tool", "name": "now"}),
        (None, False, {"type": "auto", "disable_parallel_tool_use": True}),
        ("required", False, {"type": "any", "disable_parallel_tool_use": True}),
        ("none", False, {"type": "none"}),
    ],
)
def test_tool_choice_maps_to_its_anthropic_equivalent(
    choice: Any, parallel: bool | None, expected: dict[str, Any]
) -> None:
    extra: dict[str, Any] = {"tools": [{"type": "function", "function": {"name": "now"}}]}
    if choice is not None:
        extra["tool_choice"] = choice
    if parallel is not None:
        extra["parallel_tool_calls"] = parallel
    assert to_anthropic(chat(user("time?"), **extra))["tool_choice"] == expected


def test_a_tool_round_trip_becomes_tool_use_and_one_user_turn_of_results() -> None:
    body = to_anthropic(
        chat(
            user("Weather in Paris and Rome?"),
            {
                "role": "assistant",
                "content": "",
                "tool_calls": [
                    {
                        "id": "toolu_01",
                        "type": "function",
                        "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'},
                    },
                    {
                        "id": "toolu_02",
                        "type": "function",
                        "function": {"name": "now", "arguments": ""},
                    },
                ],
            },
            {"role": "tool", "tool_call_id": "toolu_01", "content": "18°C, sunny"},
            {
                "role": "tool",
                "tool_call_id": "toolu_02",
                "content": [{"type": "text", "text": "noon"}],
            },
            user("Thanks. Which is warmer?"),
            tools=[
                {"type": "function", "function": {"name": "get_weather"}},
                {"type": "function", "function": {"name": "now"}},
            ],
        )
    )
    assert body["messages"][1:] == [
        {
            "role": "assistant",
            "content": [
                {
                    "type": "tool_use",
                    "id": "toolu_01",
                    "name": "get_weather",
                    "input": {"city": "Paris"},
                },
                {"type": "tool_use", "id": "toolu_02", "name": "now", "input": {}},
            ],
        },
        {
            "role": "user",
            "content": [
                {"type": "tool_result", "tool_use_id": "toolu_01", "content": "18°C, sunny"},
                {
                    "type": "tool_result",
                    "tool_use_id": "toolu_02",
                    "content": [{"type": "text", "text": "noon"}],
                },
                {"type": "text", "text": "Thanks. Which is warmer?"},
            ],
        },
    ]


@pytest.mark.parametrize("arguments", ["{not json", "[1, 2]"])
def test_tool_call_arguments_that_are_not_a_json_object_are_refused(arguments: str) -> None:
    call = {"id": "t1", "type": "function", "function": {"name": "f", "arguments": arguments}}
    with pytest.raises(InvalidRequest) as refused:
        anthropic_request(chat(user("x"), {"role": "assistant", "tool_calls": [call]}))
    assert refused.value.param == "messages[1].tool_calls[0]"


@pytest.mark.parametrize(("stop", "expected"), [("END", ["END"]), (["a", "b"], ["a", "b"])])
def test_stop_becomes_stop_sequences(stop: Any, expected: list[str]) -> None:
    assert to_anthropic(chat(user("x"), stop=stop))["stop_sequences"] == expected


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        ({}, DEFAULT_MAX_TOKENS),
        ({"max_tokens": 100}, 100),
        ({"max_completion_tokens": 200}, 200),
        ({"max_tokens": 100, "max_completion_tokens": 200}, 200),
    ],
)
def test_max_tokens_prefers_max_completion_tokens_and_always_has_a_value(
    extra: dict[str, int], expected: int
) -> None:
    data = chat(user("x"), **extra)
    assert to_anthropic(data)["max_tokens"] == expected == max_output_tokens(data)


def test_sampling_user_and_stream_carry_over() -> None:
    body = to_anthropic(
        chat(
            user("x"),
            temperature=0.2,
            top_p=0.9,
            user="member-7f3a",
            stream=True,
            stream_options={"include_usage": True},
            seed=4,
        )
    )
    assert body["temperature"] == 0.2
    assert body["top_p"] == 0.9
    assert body["metadata"] == {"user_id": "member-7f3a"}
    assert body["stream"] is True
    assert "stream_options" not in body and "seed" not in body


def test_sampling_at_its_default_is_left_out_as_newer_claude_models_take_no_other() -> None:
    body = to_anthropic(chat(user("x"), temperature=1, top_p=1.0))
    assert "temperature" not in body and "top_p" not in body


@pytest.mark.parametrize(
    ("name", "value"), [("temperature", 1.5), ("top_p", -0.1), ("top_p", True)]
)
def test_sampling_outside_claudes_range_is_refused(name: str, value: Any) -> None:
    with pytest.raises(InvalidRequest) as refused:
        anthropic_request(chat(user("x"), **{name: value}))
    assert refused.value.param == name


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("n", 2),
        ("logprobs", True),
        ("top_logprobs", 3),
        ("response_format", {"type": "json_schema", "json_schema": {"name": "x", "schema": {}}}),
        ("response_format", {"type": "json_object"}),
        ("logit_bias", {"50256": -100}),
        ("presence_penalty", 0.5),
        ("frequency_penalty", 1),
        ("audio", {"voice": "alloy", "format": "mp3"}),
        ("modalities", ["text", "audio"]),
        ("functions", [{"name": "f"}]),
        ("reasoning_effort", "high"),
    ],
)
def test_what_claude_cannot_do_is_refused_in_openais_shape(name: str, value: Any) -> None:
    with pytest.raises(InvalidRequest) as refused:
        anthropic_request(chat(user("x"), **{name: value}))
    error = refused.value
    assert (error.status, error.code, error.param) == (400, "unsupported_parameter", name)
    shaped = ErrorObject.model_validate(orjson.loads(error.to_json())["error"])
    assert shaped.type == "invalid_request_error"
    assert "Claude" in shaped.message


def test_neutral_values_of_unsupported_parameters_are_accepted() -> None:
    to_anthropic(
        chat(
            user("x"),
            n=1,
            logprobs=False,
            presence_penalty=0,
            frequency_penalty=0.0,
            logit_bias={},
            response_format={"type": "text"},
            modalities=["text"],
        )
    )


def test_legacy_function_messages_and_unknown_parts_are_refused() -> None:
    with pytest.raises(InvalidRequest, match="function messages"):
        anthropic_request(chat(user("x"), {"role": "function", "name": "f", "content": "1"}))
    audio = {"type": "input_audio", "input_audio": {"data": "AA==", "format": "wav"}}
    with pytest.raises(InvalidRequest, match="input_audio"):
        anthropic_request(chat(user([audio])))
    with pytest.raises(InvalidRequest, match="function tool"):
        anthropic_request(chat(user("x"), tools=[{"type": "custom", "custom": {"name": "g"}}]))


@pytest.mark.parametrize(
    ("data", "param"),
    [
        (chat({"role": "system", "content": "Only a system prompt."}), "messages"),
        (chat(user("x"), tools={"type": "function"}), "tools"),
        (chat(user("x"), tools=["get_weather"]), "tools[0]"),
        (
            chat(user("x"), {"role": "assistant", "tool_calls": [{"id": "t1", "function": {}}]}),
            "messages[1].tool_calls[0]",
        ),
        (chat(user("x"), {"role": "tool", "content": "18°C"}), "messages[1].tool_call_id"),
        (chat(user(None)), "messages[0].content"),
        (chat(user("x"), tools=[WEATHER_TOOL], tool_choice="sometimes"), "tool_choice"),
    ],
)
def test_malformed_requests_are_refused_with_the_field_named(
    data: dict[str, Any], param: str
) -> None:
    with pytest.raises(InvalidRequest) as refused:
        anthropic_request(data)
    assert refused.value.param == param


# --- answers -------------------------------------------------------------------------------


def message(
    content: list[dict[str, Any]], stop_reason: str = "end_turn", **usage: Any
) -> dict[str, Any]:
    """An answer as Anthropic sends it, built with the SDK's own type."""
    counts = {"input_tokens": 12, "output_tokens": 7, **usage}
    built = Message.model_validate(
        {
            "id": "msg_01XFDUDYJgAACzvnptvVoYEL",
            "type": "message",
            "role": "assistant",
            "model": MODEL,
            "content": content,
            "stop_reason": stop_reason,
            "stop_sequence": None,
            "usage": counts,
        }
    )
    return built.model_dump(mode="json", exclude_none=True)


def completion(answer: dict[str, Any]) -> ChatCompletion:
    return ChatCompletion.model_validate(openai_completion(answer, created=CREATED))


def test_a_text_answer_becomes_a_chat_completion() -> None:
    done = completion(
        message([{"type": "text", "text": "Hello! "}, {"type": "text", "text": "Hi."}])
    )
    assert done.id == "msg_01XFDUDYJgAACzvnptvVoYEL"
    assert done.created == CREATED
    assert done.model == MODEL
    choice = done.choices[0]
    assert choice.message.role == "assistant"
    assert choice.message.content == "Hello! Hi."
    assert choice.message.tool_calls is None
    assert choice.finish_reason == "stop"


@pytest.mark.parametrize(
    ("stop_reason", "finish_reason"),
    [
        ("end_turn", "stop"),
        ("stop_sequence", "stop"),
        ("max_tokens", "length"),
        ("tool_use", "tool_calls"),
        ("refusal", "content_filter"),
        ("pause_turn", "stop"),
        ("model_context_window_exceeded", "length"),
    ],
)
def test_stop_reasons_become_finish_reasons(stop_reason: str, finish_reason: str) -> None:
    done = completion(message([{"type": "text", "text": "x"}], stop_reason))
    assert done.choices[0].finish_reason == finish_reason


def test_tool_use_blocks_become_tool_calls_with_json_arguments() -> None:
    done = completion(
        message(
            [
                {
                    "type": "tool_use",
                    "id": "toolu_01",
                    "name": "get_weather",
                    "input": {"city": "Paris"},
                },
                {"type": "tool_use", "id": "toolu_02", "name": "now", "input": {}},
            ],
            "tool_use",
        )
    )
    reply = done.choices[0].message
    assert reply.content is None
    assert reply.tool_calls is not None
    assert [
        (c.id, c.function.name, orjson.loads(c.function.arguments)) for c in reply.tool_calls
    ] == [  # type: ignore[union-attr]
        ("toolu_01", "get_weather", {"city": "Paris"}),
        ("toolu_02", "now", {}),
    ]
    assert done.choices[0].finish_reason == "tool_calls"


def test_text_beside_a_tool_call_is_kept_and_thinking_is_left_out() -> None:
    done = completion(
        message(
            [
                {"type": "thinking", "thinking": "hmm", "signature": "sig"},
                {"type": "text", "text": "Let me check."},
                {"type": "tool_use", "id": "toolu_01", "name": "now", "input": {}},
            ],
            "tool_use",
        )
    )
    assert done.choices[0].message.content == "Let me check."
    assert done.choices[0].message.tool_calls is not None


def test_usage_counts_cache_reads_and_writes_in_the_prompt() -> None:
    answer = message(
        [{"type": "text", "text": "x"}],
        input_tokens=20,
        output_tokens=9,
        cache_read_input_tokens=1000,
        cache_creation_input_tokens=300,
    )
    usage = completion(answer).usage
    assert usage is not None
    assert (usage.prompt_tokens, usage.completion_tokens, usage.total_tokens) == (1320, 9, 1329)
    assert usage.prompt_tokens_details is not None
    assert usage.prompt_tokens_details.cached_tokens == 1000


def test_translate_answer_hands_the_ledger_all_four_counts() -> None:
    answer = message(
        [{"type": "text", "text": "x"}],
        input_tokens=20,
        output_tokens=9,
        cache_read_input_tokens=1000,
        cache_creation_input_tokens=300,
    )
    translated = translate_answer(orjson.dumps(answer), created=CREATED)
    assert translated is not None
    ChatCompletion.model_validate_json(translated.body)
    assert translated.usage == AnthropicUsage(
        input_tokens=20, output_tokens=9, cache_read_tokens=1000, cache_write_tokens=300
    )
    assert translated.usage.ledger_usage() == Usage(
        prompt_tokens=1320, cached_tokens=1000, completion_tokens=9, cache_write_tokens=300
    )


@pytest.mark.parametrize("payload", [b"not json", b"[]", b'{"type": "error", "error": {}}'])
def test_a_body_that_is_not_a_message_is_not_translated(payload: bytes) -> None:
    assert translate_answer(payload, created=CREATED) is None


def test_cache_writes_kept_an_hour_are_told_apart_for_the_ledger() -> None:
    answer = message(
        [{"type": "text", "text": "x"}],
        input_tokens=5,
        cache_creation_input_tokens=300,
        cache_creation={"ephemeral_5m_input_tokens": 100, "ephemeral_1h_input_tokens": 200},
    )
    translated = translate_answer(orjson.dumps(answer), created=CREATED)
    assert translated is not None and translated.usage is not None
    ledger = translated.usage.ledger_usage()
    assert (ledger.prompt_tokens, ledger.cache_write_tokens, ledger.cache_write_1h_tokens) == (
        305,
        300,
        200,
    )
