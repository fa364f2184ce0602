"""Streaming chat completions: chunk shapes, usage rules, cuts, pauses and disconnects."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

import orjson
import pytest

from chatgrid.simulator import SimulatorApp, create_simulator_app
from chatgrid.simulator.testing import AsgiResponse, InProcessClient, bearer
from chatgrid.simulator.wire import ConnectionCut

Chat = Callable[..., AsgiResponse]
Validate = Callable[[str, Any], None]
INCLUDE_USAGE = {"stream": True, "stream_options": {"include_usage": True}}


def chunks_of(response: AsgiResponse) -> list[dict[str, Any]]:
    events = response.events()
    assert events[-1] == "[DONE]"
    return [orjson.loads(event) for event in events[:-1]]


def test_every_chunk_matches_openai_schema(chat: Chat, openapi_validate: Validate) -> None:
    response = chat("Hello", **INCLUDE_USAGE)
    assert response.status == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    assert response.headers["x-request-id"].startswith("req_")
    for chunk in chunks_of(response):
        openapi_validate("CreateChatCompletionStreamResponse", chunk)
        assert chunk["object"] == "chat.completion.chunk"


def test_stream_sends_role_then_one_chunk_per_token_then_finish(chat: Chat) -> None:
    response = chat("Hello [sim:tokens=5]", stream=True)
    chunks = chunks_of(response)
    assert chunks[0]["choices"][0]["delta"] == {"role": "assistant", "content": "", "refusal": None}
    content = [chunk["choices"][0]["delta"]["content"] for chunk in chunks[1:-1]]
    assert len(content) == 5
    assert chunks[-1]["choices"][0] == {
        "index": 0,
        "delta": {},
        "logprobs": None,
        "finish_reason": "stop",
    }
    assert len({chunk["id"] for chunk in chunks}) == 1
    # Each event is its own ASGI message, so bytes leave as they are produced.
    assert len(response.chunks) == len(chunks) + 2


def test_streamed_text_equals_the_non_streamed_reply(chat: Chat) -> None:
    streamed = "".join(
        chunk["choices"][0]["delta"].get("content") or ""
        for chunk in chunks_of(chat("Same words", stream=True))
    )
    assert streamed == chat("Same words").json()["choices"][0]["message"]["content"]


def test_usage_only_when_asked_and_null_before_the_last_chunk(chat: Chat) -> None:
    without = chunks_of(chat("Hello", stream=True))
    assert all("usage" not in chunk for chunk in without)
    with_usage = chunks_of(chat("Hello", **INCLUDE_USAGE))
    assert all(chunk["usage"] is None for chunk in with_usage[:-1])
    last = with_usage[-1]
    assert last["choices"] == []
    assert last["usage"] == chat("Hello").json()["usage"]
    explicit_false = {"stream": True, "stream_options": {"include_usage": False}}
    assert all("usage" not in chunk for chunk in chunks_of(chat("Hello", **explicit_false)))


def test_n_choices_are_interleaved_with_their_own_finish(chat: Chat) -> None:
    chunks = chunks_of(chat("Hi [sim:tokens=2]", n=2, **INCLUDE_USAGE))
    indexes = [chunk["choices"][0]["index"] for chunk in chunks[:-1]]
    assert indexes == [0, 1, 0, 1, 0, 1, 0, 1]
    assert chunks[-1]["usage"]["completion_tokens"] == 4


def test_tool_call_streams_name_then_arguments(chat: Chat, openapi_validate: Validate) -> None:
    tools = [{"type": "function", "function": {"name": "lookup"}}]
    chunks = chunks_of(chat("Find it [sim:tool]", tools=tools, **INCLUDE_USAGE))
    for chunk in chunks:
        openapi_validate("CreateChatCompletionStreamResponse", chunk)
    first = chunks[0]["choices"][0]["delta"]["tool_calls"][0]
    assert first["function"] == {"name": "lookup", "arguments": ""}
    assert chunks[1]["choices"][0]["delta"]["tool_calls"][0]["function"]["arguments"] == "{}"
    assert chunks[2]["choices"][0]["finish_reason"] == "tool_calls"


def test_max_tokens_ends_the_stream_with_length(chat: Chat) -> None:
    chunks = chunks_of(chat("Hello", stream=True, max_tokens=3))
    assert len(chunks) == 1 + 3 + 1
    assert chunks[-1]["choices"][0]["finish_reason"] == "length"


@pytest.mark.parametrize("cut", [0, 3])
def test_cut_aborts_after_k_content_chunks(chat: Chat, app: SimulatorApp, cut: int) -> None:
    response = chat(f"Hello [sim:cut={cut}]", **INCLUDE_USAGE)
    assert response.aborted
    assert not response.complete
    events = response.events()
    assert "[DONE]" not in events
    assert len(events) == 1 + cut
    assert all(orjson.loads(event)["choices"][0]["finish_reason"] is None for event in events)
    (record,) = app.state.records.render_dicts()
    assert record["cut"] is True
    assert record["completion_tokens_sent"] == cut
    assert record["usage"]["completion_tokens"] == 16
    assert record["status"] == 200


def test_cut_beyond_the_reply_still_withholds_the_finish(chat: Chat) -> None:
    response = chat("Hello [sim:tokens=2] [sim:cut=10]", stream=True)
    assert response.aborted
    assert len(response.events()) == 3


def test_non_streaming_cut_closes_without_any_response(chat: Chat, app: SimulatorApp) -> None:
    response = chat("Hello [sim:cut]")
    assert response.aborted
    assert response.status == 0
    assert response.chunks == []
    (record,) = app.state.records.render_dicts()
    assert record["cut"] is True
    assert record["status"] is None
    assert record["completion_tokens_sent"] == 0


def test_cut_without_a_reachable_transport_raises_for_the_server_to_drop() -> None:
    app = create_simulator_app()
    body = orjson.dumps(
        {"model": "gpt-4o", "messages": [{"role": "user", "content": "x [sim:cut]"}]}
    )
    sent: list[Any] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: Any) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "method": "POST",
        "path": "/v1/chat/completions",
        "query_string": b"",
        "headers": [(b"authorization", b"Bearer sk-test-simulator-0001")],
    }
    with pytest.raises(ConnectionCut):
        asyncio.run(app(scope, receive, send))
    assert sent == []


def test_slow_waits_between_chunks(chat: Chat) -> None:
    started = time.perf_counter()
    chat("Hello [sim:tokens=4] [sim:slow=20]", stream=True)
    # role + 4 tokens + finish + [DONE] = 7 events, 6 pauses of 20 ms.
    assert time.perf_counter() - started >= 0.12


def test_client_disconnect_stops_the_stream_and_is_recorded(app: SimulatorApp) -> None:
    client = InProcessClient(app)
    body = {
        "model": "gpt-4o",
        "stream": True,
        "messages": [{"role": "user", "content": "Hello [sim:slow=1]"}],
    }
    response = client.request(
        "POST", "/v1/chat/completions", json=body, headers=bearer(), disconnect_after=4
    )
    assert len(response.chunks) == 4
    (record,) = app.state.records.render_dicts()
    assert record["client_disconnected"] is True
    assert record["completion_tokens_sent"] == 3
    assert record["cut"] is False
