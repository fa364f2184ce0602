"""What translating chat completions to Anthropic's Messages and back costs, per call.

The issue's bar: the translation path adds at most 0.2 ms p50 over the
pass-through path at concurrency 1. This measures the translation itself, in
process, against what the pass-through path does to the same call in the
same run:

==========  =============================================  ===========================
part        pass-through (baseline)                        translation
==========  =============================================  ===========================
request     ``orjson.loads`` + ``orjson.dumps`` of the      the same, with
            OpenAI body                                    ``anthropic_request`` between
answer      ``usage_from_body`` of the OpenAI answer       ``translate_answer`` of the
                                                           Anthropic answer
stream      ``StreamTracker.feed`` of a 50-chunk OpenAI    ``AnthropicStream.feed`` of
            stream, one read per event                     the same answer from Anthropic
==========  =============================================  ===========================

Batches of each are timed turn about; each figure is a median over the
batches, "added" the median of the pairs' differences. The HTTP side by side
(``make bench``) comes with the gateway's wiring.

    .venv/bin/python bench/translate.py [--batches 200] [--chunks 50]
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from typing import Any

import orjson

from chatgrid.gateway.sse import StreamTracker
from chatgrid.gateway.usage import usage_from_body
from chatgrid.providers.anthropic_answer import translate_answer
from chatgrid.providers.anthropic_stream import AnthropicStream
from chatgrid.providers.anthropic_translate import anthropic_request

CREATED = 1_767_225_600
MODEL = "claude-sonnet-4-5"
WORDS = "The quick brown fox jumps over the lazy dog while the gateway keeps count. "


def openai_request() -> bytes:
    """A typical agent turn: a system prompt, a few turns, two tools, a tool round trip."""
    weather = {
        "type": "object",
        "properties": {"city": {"type": "string"}, "unit": {"enum": ["c", "f"]}},
        "required": ["city"],
    }
    call = {
        "id": "call_1",
        "type": "function",
        "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'},
    }
    body = {
        "model": MODEL,
        "messages": [
            {"role": "system", "content": "You are a helpful assistant. " + WORDS * 6},
            {"role": "user", "content": "What should I wear in Paris today? " + WORDS * 2},
            {"role": "assistant", "content": None, "tool_calls": [call]},
            {"role": "tool", "tool_call_id": "call_1", "content": '{"temp": 18, "sky": "sun"}'},
            {"role": "assistant", "content": "A light jacket. " + WORDS * 3},
            {"role": "user", "content": [{"type": "text", "text": "And tomorrow? " + WORDS}]},
        ],
        "tools": [
            {
                "type": "function",
                "function": {
                    "name": "get_weather",
                    "description": "Weather",
                    "parameters": weather,
                },
            },
            {"type": "function", "function": {"name": "now", "description": "The time"}},
        ],
        "tool_choice": "auto",
        "temperature": 0.3,
        "max_tokens": 512,
        "user": "member-1",
    }
    return orjson.dumps(body)


def answers() -> tuple[bytes, bytes]:
    """The same 120-word answer as OpenAI's chat.completion and as Anthropic's Message."""
    text = (WORDS * 8).strip()
    openai_answer = {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "created": CREATED,
        "model": "gpt-4o",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": text, "refusal": None},
                "logprobs": None,
                "finish_reason": "stop",
            }
        ],
        "usage": {
            "prompt_tokens": 420,
            "completion_tokens": 120,
            "total_tokens": 540,
            "prompt_tokens_details": {"cached_tokens": 0},
        },
    }
    anthropic_answer = {
        "id": "msg_01",
        "type": "message",
        "role": "assistant",
        "model": MODEL,
        "content": [{"type": "text", "text": text}],
        "stop_reason": "end_turn",
        "stop_sequence": None,
        "usage": {"input_tokens": 420, "output_tokens": 120, "cache_read_input_tokens": 0},
    }
    return orjson.dumps(openai_answer), orjson.dumps(anthropic_answer)


def _sse(data: dict[str, Any], kind: str | None = None) -> bytes:
    head = f"event: {kind}\n".encode() if kind else b""
    return head + b"data: " + orjson.dumps(data) + b"\n\n"


def streams(chunks: int) -> tuple[list[bytes], list[bytes]]:
    """One streamed answer of ``chunks`` text deltas, as each upstream sends it: one read
    per event (what a model streaming token by token gives the relay)."""
    words = [f"word{i} " for i in range(chunks)]
    head = {
        "id": "chatcmpl-1",
        "object": "chat.completion.chunk",
        "created": CREATED,
        "model": "gpt-4o",
    }

    def openai_chunk(delta: dict[str, Any], finish: str | None = None) -> bytes:
        choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}
        return _sse({**head, "choices": [choice]})

    usage = {"prompt_tokens": 420, "completion_tokens": chunks, "total_tokens": 420 + chunks}
    openai_events = [
        openai_chunk({"role": "assistant", "content": ""}),
        *(openai_chunk({"content": w}) for w in words),
        openai_chunk({}, "stop"),
        _sse({**head, "choices": [], "usage": usage}),
        b"data: [DONE]\n\n",
    ]
    message = {
        "id": "msg_01",
        "type": "message",
        "role": "assistant",
        "content": [],
        "model": MODEL,
        "stop_reason": None,
        "stop_sequence": None,
        "usage": {"input_tokens": 420, "output_tokens": 1},
    }
    text_block = {"type": "text", "text": ""}
    anthropic_events = [
        _sse({"type": "message_start", "message": message}, "message_start"),
        _sse(
            {"type": "content_block_start", "index": 0, "content_block": text_block},
            "content_block_start",
        ),
        _sse({"type": "ping"}, "ping"),
        *(
            _sse(
                {
                    "type": "content_block_delta",
                    "index": 0,
                    "delta": {"type": "text_delta", "text": w},
                },
                "content_block_delta",
            )
            for w in words
        ),
        _sse({"type": "content_block_stop", "index": 0}, "content_block_stop"),
        _sse(
            {
                "type": "message_delta",
                "delta": {"stop_reason": "end_turn", "stop_sequence": None},
                "usage": {"output_tokens": chunks},
            },
            "message_delta",
        ),
        _sse({"type": "message_stop"}, "message_stop"),
    ]
    return openai_events, anthropic_events


def paired_us(
    baseline: Callable[[], object], translated: Callable[[], object], batches: int, per_batch: int
) -> tuple[float, float, float]:
    """Median µs of one call of each, and of their difference, over ``batches`` pairs of
    timed batches taken turn about (so both see the same moment of a shared machine)."""
    for _ in range(per_batch):
        baseline()
        translated()
    base, moved, added = [], [], []
    for _ in range(batches):
        start = time.perf_counter_ns()
        for _ in range(per_batch):
            baseline()
        middle = time.perf_counter_ns()
        for _ in range(per_batch):
            translated()
        end = time.perf_counter_ns()
        base.append((middle - start) / per_batch / 1_000)
        moved.append((end - middle) / per_batch / 1_000)
        added.append(moved[-1] - base[-1])
    return statistics.median(base), statistics.median(moved), statistics.median(added)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--batches", type=int, default=200, help="timed batches per figure")
    parser.add_argument("--per-batch", type=int, default=50, help="calls per batch")
    parser.add_argument("--chunks", type=int, default=50, help="text deltas in the stream")
    args = parser.parse_args(argv)

    raw_request = openai_request()
    openai_answer, anthropic_answer = answers()
    openai_events, anthropic_events = streams(args.chunks)

    def request_baseline() -> bytes:
        return orjson.dumps(orjson.loads(raw_request))

    def request_translated() -> bytes:
        return orjson.dumps(anthropic_request(orjson.loads(raw_request)))

    def answer_baseline() -> object:
        return usage_from_body(openai_answer)

    def answer_translated() -> object:
        return translate_answer(anthropic_answer, created=CREATED)

    def stream_baseline() -> object:
        tracker = StreamTracker(forward_usage=True)
        for event in openai_events:
            tracker.feed(event)
        return tracker.usage

    def stream_translated() -> object:
        translator = AnthropicStream(forward_usage=True, created=CREATED)
        for event in anthropic_events:
            translator.feed(event)
        return translator.usage

    assert answer_translated() is not None and stream_translated() is not None
    per_stream = max(1, args.per_batch // 10)
    rows = [
        (f"request ({len(raw_request)} B)", request_baseline, request_translated, args.per_batch),
        (f"answer ({len(anthropic_answer)} B)", answer_baseline, answer_translated, args.per_batch),
        (f"stream ({args.chunks} chunks)", stream_baseline, stream_translated, per_stream),
    ]
    print(f"{'part':<22} {'pass-through':>13} {'translated':>11} {'added':>9} {'ratio':>7}")
    added: dict[str, float] = {}
    for name, baseline, translated, per_batch in rows:
        base, moved, more = paired_us(baseline, translated, args.batches, per_batch)
        added[name.split()[0]] = more
        ratio = moved / base
        print(f"{name:<22} {base:>11.1f}µs {moved:>9.1f}µs {more:>7.1f}µs {ratio:>6.1f}×")
    whole = added["request"] + added["answer"]
    streamed = added["request"] + added["stream"]
    print(
        f"\nadded per call: {whole:.1f} µs non-streaming, {streamed:.1f} µs streaming "
        f"({args.chunks} chunks, {added['stream'] / args.chunks:.2f} µs per chunk); "
        "the issue's bar is 200 µs p50"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
