"""A streamed Claude answer reaches an OpenAI client as chat.completion.chunk events.

The Anthropic streams below are written as Anthropic sends them (``event:``
lines, a ``ping``, a first empty ``input_json_delta``), and each is checked
first with the ``anthropic`` SDK: every event validates as its
``RawMessageStreamEvent`` and the SDK's own accumulator rebuilds the answer
we expect. What comes out is read by the ``openai`` SDK's streaming client
exactly as a caller would read it (its SSE parser, chunk types and final
accumulation), over an in-process transport standing in for the gateway.
"""

from __future__ import annotations

from typing import Any

import httpx2
import openai
import orjson
import pytest
from anthropic.lib.streaming._messages import accumulate_event
from anthropic.types import RawMessageStreamEvent
from openai.types.chat import ChatCompletionChunk
from pydantic import TypeAdapter

from chatgrid.errors import UpstreamFailed
from chatgrid.gateway.sse import DONE_EVENT
from chatgrid.ledger.pricing import Usage
from chatgrid.providers.anthropic_stream import AnthropicStream

CREATED = 1_767_225_600  # a fixed instant: nothing here reads the clock
MODEL = "claude-sonnet-4-5"
_EVENT = TypeAdapter(RawMessageStreamEvent)


def sse(kind: str, data: dict[str, Any]) -> bytes:
    return f"event: {kind}\ndata: {orjson.dumps(data).decode()}\n\n".encode()


def start(input_tokens: int = 25, read: int = 0, write: int = 0) -> bytes:
    message = {
        "id": "msg_01ABCdef",
        "type": "message",
        "role": "assistant",
        "content": [],
        "model": MODEL,
        "stop_reason": None,
        "stop_sequence": None,
        "usage": {
            "input_tokens": input_tokens,
            "cache_creation_input_tokens": write,
            "cache_read_input_tokens": read,
            "output_tokens": 1,
        },
    }
    return sse("message_start", {"type": "message_start", "message": message})


def block_start(index: int, block: dict[str, Any]) -> bytes:
    return sse(
        "content_block_start",
        {"type": "content_block_start", "index": index, "content_block": block},
    )


def delta(index: int, body: dict[str, Any]) -> bytes:
    return sse(
        "content_block_delta", {"type": "content_block_delta", "index": index, "delta": body}
    )


def text(index: int, words: str) -> bytes:
    return delta(index, {"type": "text_delta", "text": words})


def json_part(index: int, fragment: str) -> bytes:
    return delta(index, {"type": "input_json_delta", "partial_json": fragment})


def block_stop(index: int) -> bytes:
    return sse("content_block_stop", {"type": "content_block_stop", "index": index})


def end(stop_reason: str, output_tokens: int, **usage: int) -> bytes:
    return sse(
        "message_delta",
        {
            "type": "message_delta",
            "delta": {"stop_reason": stop_reason, "stop_sequence": None},
            "usage": {"output_tokens": output_tokens, **usage},
        },
    ) + sse("message_stop", {"type": "message_stop"})


PING = b'event: ping\ndata: {"type": "ping"}\n\n'

TEXT_STREAM = b"".join(
    [
        start(),
        block_start(0, {"type": "text", "text": ""}),
        PING,
        text(0, "Hello"),
        text(0, "! How can I"),
        text(0, " help?"),
        block_stop(0),
        end("end_turn", 15),
    ]
)

TOOL_STREAM = b"".join(
    [
        start(input_tokens=472, read=1800, write=200),
        block_start(0, {"type": "text", "text": ""}),
        text(0, "Checking both cities."),
        block_stop(0),
        block_start(
            1,
            {
                "type": "tool_use",
                "id": "toolu_01T1x1fJ34qAmk2tNTrN7Up6",
                "name": "get_weather",
                "input": {},
            },
        ),
        json_part(1, ""),
        json_part(1, '{"location":'),
        json_part(1, ' "San Fra'),
        json_part(1, 'ncisco, CA"}'),
        block_stop(1),
        block_start(2, {"type": "tool_use", "id": "toolu_02", "name": "get_time", "input": {}}),
        json_part(2, ""),
        block_stop(2),
        end("tool_use", 89),
    ]
)


def events_of(stream: bytes) -> list[dict[str, Any]]:
    found = []
    for raw in stream.split(b"\n\n"):
        for line in raw.split(b"\n"):
            if line.startswith(b"data:"):
                found.append(orjson.loads(line[5:]))
    return found


@pytest.mark.parametrize("stream", [TEXT_STREAM, TOOL_STREAM])
def test_the_fixtures_are_streams_anthropics_sdk_reads(stream: bytes) -> None:
    snapshot = None
    json_bufs: dict[int, bytes] = {}
    for event in events_of(stream):
        if event["type"] == "ping":
            continue
        snapshot = accumulate_event(
            event=_EVENT.validate_python(event), current_snapshot=snapshot, json_bufs=json_bufs
        )
    assert snapshot is not None
    if stream is TOOL_STREAM:
        assert [b.input for b in snapshot.content if b.type == "tool_use"] == [  # type: ignore[union-attr]
            {"location": "San Francisco, CA"},
            {},
        ]
    else:
        assert snapshot.content[0].text == "Hello! How can I help?"  # type: ignore[union-attr]


def translate(
    stream: bytes, *, forward_usage: bool = False, step: int = 0
) -> tuple[AnthropicStream, bytes]:
    translator = AnthropicStream(forward_usage=forward_usage, created=CREATED)
    if not step:
        return translator, translator.feed(stream)
    out = b"".join(translator.feed(stream[i : i + step]) for i in range(0, len(stream), step))
    return translator, out


def chunks(out: bytes) -> list[ChatCompletionChunk]:
    assert out.endswith(b"\n\n")
    events = out[:-2].split(b"\n\n")
    assert all(e.startswith(b"data: ") for e in events)
    return [ChatCompletionChunk.model_validate_json(e[6:]) for e in events]


def openai_client(out: bytes) -> openai.OpenAI:
    """An OpenAI client whose every call is answered with ``out`` and then ``[DONE]``,
    as the relay ends a stream once the ledger entry is committed."""

    def answer(request: httpx2.Request) -> httpx2.Response:
        return httpx2.Response(
            200, headers={"content-type": "text/event-stream"}, content=out + DONE_EVENT
        )

    transport = httpx2.MockTransport(answer)
    return openai.OpenAI(
        api_key="sk-test",
        base_url="http://gateway.test/v1",
        http_client=httpx2.Client(transport=transport),
    )


def read_with_sdk(out: bytes) -> Any:
    client = openai_client(out)
    with client.chat.completions.stream(
        model=MODEL,
        messages=[{"role": "user", "content": "hi"}],
        stream_options={"include_usage": True},
    ) as stream:
        for _ in stream:
            pass
        return stream.get_final_completion()


def test_a_text_answer_streams_as_a_role_chunk_text_deltas_and_a_finish_chunk() -> None:
    translator, out = translate(TEXT_STREAM)
    read = chunks(out)
    assert read[0].choices[0].delta.role == "assistant"
    assert [c.choices[0].delta.content for c in read[1:-1]] == ["Hello", "! How can I", " help?"]
    assert [c.choices[0].finish_reason for c in read] == [None, None, None, None, "stop"]
    assert {(c.id, c.model, c.created) for c in read} == {("msg_01ABCdef", MODEL, CREATED)}
    assert all(c.usage is None for c in read)
    assert translator.done
    assert translator.content_chunks == 3
    assert translator.usage == Usage(prompt_tokens=25, cached_tokens=0, completion_tokens=15)


def test_openais_sdk_reads_the_translated_text_stream() -> None:
    final = read_with_sdk(translate(TEXT_STREAM)[1])
    assert final.choices[0].message.content == "Hello! How can I help?"
    assert final.choices[0].finish_reason == "stop"


def test_tool_use_streams_as_tool_call_deltas_openais_sdk_assembles() -> None:
    translator, out = translate(TOOL_STREAM)
    read = chunks(out)
    first_calls = [c.choices[0].delta.tool_calls for c in read if c.choices[0].delta.tool_calls]
    opening = first_calls[0][0]  # type: ignore[index]
    assert (opening.index, opening.id, opening.type) == (
        0,
        "toolu_01T1x1fJ34qAmk2tNTrN7Up6",
        "function",
    )
    assert opening.function is not None and opening.function.name == "get_weather"

    final = read_with_sdk(out)
    message = final.choices[0].message
    assert message.content == "Checking both cities."
    calls = [(c.id, c.function.name, c.function.arguments) for c in message.tool_calls or []]
    assert calls == [
        ("toolu_01T1x1fJ34qAmk2tNTrN7Up6", "get_weather", '{"location": "San Francisco, CA"}'),
        ("toolu_02", "get_time", ""),
    ]
    assert final.choices[0].finish_reason == "tool_calls"
    assert translator.content_chunks == 4  # one text delta, three argument fragments


def test_the_usage_chunk_comes_last_when_the_client_asked_for_it() -> None:
    translator, out = translate(TOOL_STREAM, forward_usage=True)
    last = chunks(out)[-1]
    assert last.choices == []
    assert last.usage is not None
    assert (last.usage.prompt_tokens, last.usage.completion_tokens, last.usage.total_tokens) == (
        2472,
        89,
        2561,
    )
    assert last.usage.prompt_tokens_details is not None
    assert last.usage.prompt_tokens_details.cached_tokens == 1800
    assert read_with_sdk(out).usage.prompt_tokens == 2472
    assert translator.usage == Usage(
        prompt_tokens=2472, cached_tokens=1800, completion_tokens=89, cache_write_tokens=200
    )


def test_without_include_usage_no_usage_chunk_is_sent_but_the_ledger_still_gets_it() -> None:
    translator, out = translate(TOOL_STREAM, forward_usage=False)
    assert b'"usage"' not in out
    assert translator.usage is not None and translator.usage.cache_write_tokens == 200


def test_counts_a_message_delta_repeats_replace_those_of_message_start() -> None:
    stream = start(input_tokens=10) + text(0, "x") + end("end_turn", 3, input_tokens=12)
    translator, _ = translate(stream)
    assert translator.usage == Usage(prompt_tokens=12, cached_tokens=0, completion_tokens=3)


@pytest.mark.parametrize("step", [1, 7, 64])
def test_events_split_anywhere_translate_the_same(step: int) -> None:
    assert (
        translate(TOOL_STREAM, forward_usage=True, step=step)[1]
        == translate(TOOL_STREAM, forward_usage=True)[1]
    )


@pytest.mark.parametrize("step", [1, 5])
def test_crlf_line_endings_translate_the_same_even_split_between_cr_and_lf(step: int) -> None:
    crlf = TEXT_STREAM.replace(b"\n", b"\r\n")
    assert translate(crlf, step=step)[1] == translate(TEXT_STREAM)[1]


def test_the_stream_is_done_only_at_message_stop_and_a_cut_one_is_estimated() -> None:
    cut = TOOL_STREAM[: TOOL_STREAM.index(b"event: message_delta")]
    translator, out = translate(cut)
    assert not translator.done
    assert translator.usage is None
    assert b'finish_reason":"tool_calls' not in out
    assert translator.estimate() == Usage(
        prompt_tokens=2472, cached_tokens=1800, completion_tokens=4, cache_write_tokens=200
    )
    assert AnthropicStream(forward_usage=False, created=CREATED).estimate() is None


def test_an_error_mid_stream_reaches_the_client_as_an_openai_error() -> None:
    overloaded = sse(
        "error", {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}
    )
    translator, out = translate(start() + text(0, "Hel") + overloaded)
    assert not translator.done
    assert isinstance(translator.error, UpstreamFailed)
    assert translator.error.code == "upstream_overloaded"
    last = out[:-2].split(b"\n\n")[-1]
    assert orjson.loads(last[6:]) == {
        "error": {
            "message": "Overloaded",
            "type": "upstream_error",
            "param": None,
            "code": "upstream_overloaded",
        }
    }
    with pytest.raises(openai.APIError, match="Overloaded"):
        read_with_sdk(out)


def test_thinking_pings_and_unknown_events_send_nothing() -> None:
    stream = b"".join(
        [
            start(),
            block_start(0, {"type": "thinking", "thinking": "", "signature": ""}),
            delta(0, {"type": "thinking_delta", "thinking": "Let me think"}),
            delta(0, {"type": "signature_delta", "signature": "EqQBCgIYAhIM"}),
            block_stop(0),
            PING,
            sse("brand_new_event", {"type": "brand_new_event", "x": 1}),
            block_start(1, {"type": "text", "text": ""}),
            text(1, "42"),
            block_stop(1),
            end("end_turn", 30),
        ]
    )
    read = chunks(translate(stream)[1])
    assert [c.choices[0].delta.content for c in read] == ["", "42", None]


def test_parsed_events_translate_as_their_bytes_do() -> None:
    translator = AnthropicStream(forward_usage=True, created=CREATED)
    from_dicts = b"".join(translator.translate_event(e) for e in events_of(TOOL_STREAM))
    assert from_dicts == translate(TOOL_STREAM, forward_usage=True)[1]


@pytest.mark.parametrize(
    "words",
    [
        "plain words",
        'she said "hi"',
        "a back\\slash",
        "ends with a backslash \\",
        "a line\nbreak\tand a tab",
        "ünïcödé and 😀",
        '"}}',
        "}}",
        "",
    ],
)
def test_text_deltas_read_without_parsing_say_what_parsing_them_says(words: str) -> None:
    event = text(0, words)
    fast = AnthropicStream(forward_usage=False, created=CREATED)
    fast.feed(start())
    parsed = AnthropicStream(forward_usage=False, created=CREATED)
    parsed.feed(start())
    out = fast.feed(event)
    assert orjson.loads(out[6:]) == orjson.loads(parsed.translate_event(events_of(event)[0])[6:])
    assert ChatCompletionChunk.model_validate_json(out[6:]).choices[0].delta.content == words
    assert fast.content_chunks == parsed.content_chunks == 1


def test_a_text_delta_escaped_differently_still_reads_as_its_text() -> None:
    escaped = (
        b'event: content_block_delta\ndata: {"type":"content_block_delta","index":0,'
        b'"delta":{"type":"text_delta","text":"caf\\u00e9 \\ud83d\\ude00"}}\n\n'
    )
    translator = AnthropicStream(forward_usage=False, created=CREATED)
    out = translator.feed(start() + escaped)
    last = out[:-2].split(b"\n\n")[-1]
    assert ChatCompletionChunk.model_validate_json(last[6:]).choices[0].delta.content == "café 😀"
