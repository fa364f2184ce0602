"""The simulated Anthropic Messages API, driven over real HTTP by the official ``anthropic`` SDK.

Every body and stream event is parsed from its raw bytes with the SDK's own
pydantic types in strict mode, and must carry no field those types do not
know, so the simulator cannot drift from what the SDK (and so Anthropic)
sends.
"""

from __future__ import annotations

import asyncio
import base64
import http.client
from typing import Any

import anthropic
import httpx2
import openai
import orjson
import pydantic
import pytest
from anthropic.pagination import SyncPage
from anthropic.types import Message, MessageTokensCount, ModelInfo, RawMessageStreamEvent
from anthropic.types.shared import ErrorResponse

from chatgrid.simulator.testing import TEST_KEY, AsgiResponse, InProcessClient, RunningSimulator
from chatgrid.simulator.tokens import count_text

SONNET = "claude-sonnet-4-20250514"
HELLO: list[Any] = [{"role": "user", "content": "Hello, world!"}]
VERSION = "2023-06-01"
WEATHER = {
    "name": "get_weather",
    "description": "The weather in a city.",
    "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}},
}
PIXEL = base64.b64encode(b"\x89PNG\r\n\x1a\n" + bytes(24)).decode()


def strict(kind: Any, raw: bytes | str) -> Any:
    """``raw`` parsed as the SDK type ``kind``, strictly, with no field the type lacks."""
    value = pydantic.TypeAdapter(kind).validate_json(raw, strict=True)
    unknown = _unknown_fields(value, "")
    assert not unknown, f"fields the SDK does not know: {unknown}"
    return value


def _unknown_fields(value: object, where: str) -> list[str]:
    if isinstance(value, pydantic.BaseModel):
        found = [f"{where}.{name}" for name in value.model_extra or {}]
        for name in type(value).model_fields:
            found += _unknown_fields(getattr(value, name), f"{where}.{name}")
        return found
    if isinstance(value, list):
        return [f for i, item in enumerate(value) for f in _unknown_fields(item, f"{where}.{i}")]
    return []


def error_message(error: anthropic.APIStatusError) -> str:
    """The ``error.message`` of an Anthropic error body, parsed strictly."""
    return str(strict(ErrorResponse, error.response.content).error.message)


def sse_events(lines: list[str]) -> list[tuple[str, str]]:
    """(event name, data) pairs of an SSE body; every event must name itself."""
    events: list[tuple[str, str]] = []
    name = None
    for line in lines:
        if line.startswith("event: "):
            name = line.removeprefix("event: ")
        elif line.startswith("data: "):
            assert name is not None, "a data line without its event line"
            events.append((name, line.removeprefix("data: ")))
            name = None
    return events


@pytest.fixture
def sdk(live: RunningSimulator) -> anthropic.Anthropic:
    return anthropic.Anthropic(base_url=live.base_url, api_key=TEST_KEY, max_retries=0)


def records(live: RunningSimulator) -> list[dict[str, Any]]:
    return live.app.state.records.render_dicts()


def raw_post(
    live: RunningSimulator, path: str, body: object, headers: dict[str, str]
) -> tuple[int, bytes]:
    connection = http.client.HTTPConnection(live.host, live.port, timeout=5)
    connection.request("POST", path, body=orjson.dumps(body), headers=headers)
    response = connection.getresponse()
    return response.status, response.read()


def create_raw(sdk: anthropic.Anthropic, **fields: Any) -> tuple[Message, Any]:
    """A non-streamed message, parsed strictly from its bytes, and the raw response."""
    body: dict[str, Any] = {"model": SONNET, "max_tokens": 1024, "messages": HELLO}
    body.update(fields)
    raw = sdk.messages.with_raw_response.create(**body)
    return strict(Message, raw.http_response.content), raw


def stream_raw(sdk: anthropic.Anthropic, **fields: Any) -> list[Any]:
    """Every event of a streamed message, parsed strictly; pings checked and left out."""
    body: dict[str, Any] = {"model": SONNET, "max_tokens": 1024, "messages": HELLO}
    body.update(fields)
    with sdk.messages.with_streaming_response.create(stream=True, **body) as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        lines = list(response.iter_lines())
    parsed = []
    for name, data in sse_events(lines):
        if name == "ping":
            assert orjson.loads(data) == {"type": "ping"}
            continue
        event = strict(RawMessageStreamEvent, data)
        assert event.type == name
        parsed.append(event)
    return parsed


def streamed_text(events: list[Any]) -> str:
    return "".join(e.delta.text for e in events if e.type == "content_block_delta")


def test_create_answers_a_message_the_sdk_accepts(
    sdk: anthropic.Anthropic, live: RunningSimulator
) -> None:
    message, raw = create_raw(sdk)
    assert raw.headers["request-id"].startswith("req_")
    assert message.id.startswith("msg_") and message.model == SONNET
    assert message.stop_reason == "end_turn" and message.stop_sequence is None
    assert message.content[0].type == "text"
    assert count_text(message.content[0].text) == 16
    assert (message.usage.input_tokens, message.usage.output_tokens) == (10, 16)
    assert message.usage.cache_creation_input_tokens == message.usage.cache_read_input_tokens == 0
    again, _ = create_raw(sdk)
    assert again.content == message.content
    record = records(live)[0]
    assert (record["path"], record["status"], record["api_key"]) == ("/v1/messages", 200, TEST_KEY)
    assert record["usage"]["input_tokens"] == record["usage"]["prompt_tokens"] == 10
    assert record["usage"]["output_tokens"] == record["completion_tokens_sent"] == 16


def test_stream_sends_anthropic_events_in_order(sdk: anthropic.Anthropic) -> None:
    events = stream_raw(sdk)
    kinds = [event.type for event in events]
    assert kinds == [
        "message_start",
        "content_block_start",
        *["content_block_delta"] * 16,
        "content_block_stop",
        "message_delta",
        "message_stop",
    ]
    start, delta = events[0].message, events[-2]
    assert start.stop_reason is None and start.content == []
    assert start.usage.input_tokens == 10
    assert delta.delta.stop_reason == "end_turn"
    assert delta.usage.output_tokens == 16
    message, _ = create_raw(sdk)
    assert streamed_text(events) == message.content[0].text


def test_stream_helper_final_message_matches_create(
    sdk: anthropic.Anthropic, live: RunningSimulator
) -> None:
    with sdk.messages.stream(model=SONNET, max_tokens=1024, messages=HELLO) as stream:
        text = "".join(stream.text_stream)
        final = stream.get_final_message()
    message, _ = create_raw(sdk)
    assert text == final.content[0].text == message.content[0].text
    assert final.usage.output_tokens == 16 and final.usage.input_tokens == 10
    assert final.stop_reason == "end_turn"
    record = records(live)[0]
    assert record["stream"] is True and record["completion_tokens_sent"] == 16


def test_async_client_creates_and_streams(live: RunningSimulator) -> None:
    async def run() -> tuple[Message, Message]:
        client = anthropic.AsyncAnthropic(base_url=live.base_url, api_key=TEST_KEY, max_retries=0)
        created = await client.messages.create(model=SONNET, max_tokens=64, messages=HELLO)
        async with client.messages.stream(model=SONNET, max_tokens=64, messages=HELLO) as stream:
            final = await stream.get_final_message()
        await client.close()
        return created, final

    created, final = asyncio.run(run())
    assert created.content[0].type == final.content[0].type == "text"
    assert created.content[0].text == final.content[0].text
    assert created.usage.output_tokens == final.usage.output_tokens == 16


def test_named_tool_is_called_and_its_result_answered(sdk: anthropic.Anthropic) -> None:
    choice = {"type": "tool", "name": "get_weather"}
    message, _ = create_raw(sdk, tools=[WEATHER], tool_choice=choice)
    assert message.stop_reason == "tool_use"
    call = message.content[0]
    assert call.type == "tool_use" and call.name == "get_weather" and call.input == {}
    assert call.id.startswith("toolu_")
    assert message.usage.output_tokens == count_text("get_weather") + 2
    events = stream_raw(sdk, tools=[WEATHER], tool_choice=choice)
    assert events[1].content_block.type == "tool_use"
    assert events[1].content_block.id == call.id
    assert [e.delta.partial_json for e in events if e.type == "content_block_delta"] == ["{}"]
    assert events[-2].delta.stop_reason == "tool_use"
    turns = [
        *HELLO,
        {
            "role": "assistant",
            "content": [b.model_dump(exclude_none=True) for b in message.content],
        },
        {
            "role": "user",
            "content": [{"type": "tool_result", "tool_use_id": call.id, "content": "Sunny, 21 C"}],
        },
    ]
    answer, _ = create_raw(sdk, tools=[WEATHER], messages=turns)
    assert answer.stop_reason == "end_turn" and answer.content[0].type == "text"
    tool_tokens = count_text("get_weather") + count_text("{}")
    assert answer.usage.input_tokens == 3 + (3 + 4) + (3 + tool_tokens) + (
        3 + count_text("Sunny, 21 C")
    )


def test_tool_choice_auto_calls_a_tool_only_when_asked(sdk: anthropic.Anthropic) -> None:
    plain, _ = create_raw(sdk, tools=[WEATHER])
    assert plain.stop_reason == "end_turn"
    asked = [{"role": "user", "content": "Weather? [sim:tool]"}]
    called, _ = create_raw(sdk, tools=[WEATHER], messages=asked)
    assert called.content[0].type == "tool_use"
    refused, _ = create_raw(sdk, tools=[WEATHER], messages=asked, tool_choice={"type": "none"})
    assert refused.content[0].type == "text"
    forced, _ = create_raw(sdk, tools=[WEATHER], tool_choice={"type": "any"})
    assert forced.stop_reason == "tool_use"
    with sdk.messages.stream(
        model=SONNET, max_tokens=64, messages=asked, tools=[WEATHER]
    ) as stream:
        final = stream.get_final_message()
    assert final.content[0].type == "tool_use" and final.content[0].input == {}


def test_tool_results_must_answer_the_previous_tool_use(sdk: anthropic.Anthropic) -> None:
    orphan = {"type": "tool_result", "tool_use_id": "toolu_01nothing", "content": "x"}
    with pytest.raises(anthropic.BadRequestError) as caught:
        sdk.messages.create(
            model=SONNET, max_tokens=64, messages=[{"role": "user", "content": [orphan]}]
        )
    assert error_message(caught.value).startswith("messages.0.content.0: unexpected `tool_use_id`")
    strict(ErrorResponse, caught.value.response.content)


def test_stop_sequence_ends_the_reply_before_it(sdk: anthropic.Anthropic) -> None:
    said = [{"role": "user", "content": "[sim:echo] alpha beta STOP gamma delta"}]
    message, _ = create_raw(sdk, messages=said, stop_sequences=["STOP", "delta"])
    assert message.content[0].text == "alpha beta "
    assert (message.stop_reason, message.stop_sequence) == ("stop_sequence", "STOP")
    assert message.usage.output_tokens == 3
    events = stream_raw(sdk, messages=said, stop_sequences=["STOP", "delta"])
    assert streamed_text(events) == "alpha beta "
    assert events[-2].delta.stop_sequence == "STOP"
    assert events[-2].usage.output_tokens == 3


def test_max_tokens_caps_the_reply(sdk: anthropic.Anthropic, live: RunningSimulator) -> None:
    message, _ = create_raw(sdk, max_tokens=4)
    assert message.stop_reason == "max_tokens"
    assert message.usage.output_tokens == count_text(message.content[0].text) == 4
    events = stream_raw(sdk, max_tokens=4)
    assert events[-2].delta.stop_reason == "max_tokens"
    assert streamed_text(events) == message.content[0].text
    with pytest.raises(anthropic.BadRequestError) as caught:
        sdk.messages.create(model="claude-3-5-haiku-20241022", max_tokens=9000, messages=HELLO)
    assert error_message(caught.value) == (
        "max_tokens: 9000 > 8192, which is the maximum allowed number of output tokens for "
        "claude-3-5-haiku-20241022"
    )


def test_missing_max_tokens_is_a_bad_request(sdk: anthropic.Anthropic) -> None:
    with pytest.raises(anthropic.BadRequestError) as caught:
        sdk.post("/v1/messages", body={"model": SONNET, "messages": HELLO}, cast_to=Message)
    error = strict(ErrorResponse, caught.value.response.content)
    assert error.error.type == "invalid_request_error"
    assert error.error.message == "max_tokens: Field required"
    assert error.request_id == caught.value.response.headers["request-id"]


def test_openai_only_fields_are_refused(sdk: anthropic.Anthropic) -> None:
    with pytest.raises(anthropic.BadRequestError) as caught:
        create_raw(sdk, extra_body={"n": 2})
    assert error_message(caught.value) == "n: Extra inputs are not permitted"
    with pytest.raises(anthropic.NotFoundError) as missing:
        create_raw(sdk, model="gpt-4o")
    assert strict(ErrorResponse, missing.value.response.content).error.type == "not_found_error"


def test_images_arrive_and_count(sdk: anthropic.Anthropic) -> None:
    content = [
        {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": PIXEL}},
        {"type": "image", "source": {"type": "url", "url": "https://example.com/a.png"}},
        {"type": "text", "text": "What is this? [sim:echo]"},
    ]
    message, _ = create_raw(sdk, messages=[{"role": "user", "content": content}])
    assert message.content[0].text == "What is this? [images: 2]"
    assert message.usage.input_tokens == 3 + 3 + 2 * 85 + count_text("What is this? [sim:echo]")
    bad = [{"type": "image", "source": {"type": "base64", "media_type": "image/bmp", "data": "x"}}]
    with pytest.raises(anthropic.BadRequestError):
        create_raw(sdk, messages=[{"role": "user", "content": bad}])


def test_system_prompt_and_turns_count_like_chat(sdk: anthropic.Anthropic) -> None:
    turns = [
        *HELLO,
        {"role": "assistant", "content": "Hi there."},
        {"role": "user", "content": "Go"},
    ]
    as_text, _ = create_raw(sdk, system="Be brief.", messages=turns)
    as_blocks, _ = create_raw(sdk, system=[{"type": "text", "text": "Be brief."}], messages=turns)
    assert as_text.usage.input_tokens == as_blocks.usage.input_tokens == 3 + 6 + 7 + 6 + 4
    assert as_text.content == as_blocks.content
    counted = sdk.messages.count_tokens(model=SONNET, system="Be brief.", messages=turns)
    assert counted.input_tokens == as_text.usage.input_tokens
    raw = sdk.messages.with_raw_response.count_tokens(model=SONNET, messages=HELLO)
    assert strict(MessageTokensCount, raw.http_response.content).input_tokens == 10


def test_cache_control_writes_a_prefix_once_then_reads_it(live: RunningSimulator) -> None:
    system = [
        {"type": "text", "text": "A long manual. " * 20, "cache_control": {"type": "ephemeral"}}
    ]
    prefix = 3 + 3 + count_text("A long manual. " * 20)
    sdk = anthropic.Anthropic(base_url=live.base_url, api_key=TEST_KEY, max_retries=0)
    first, _ = create_raw(sdk, system=system)
    assert first.usage.cache_creation_input_tokens == prefix
    assert first.usage.cache_creation is not None
    assert first.usage.cache_creation.ephemeral_5m_input_tokens == prefix
    assert (first.usage.cache_read_input_tokens, first.usage.input_tokens) == (0, 3 + 4)
    second, _ = create_raw(sdk, system=system)
    assert second.usage.cache_read_input_tokens == prefix
    assert second.usage.cache_creation_input_tokens == 0
    other = anthropic.Anthropic(base_url=live.base_url, api_key="sk-ant-other-0002", max_retries=0)
    assert create_raw(other, system=system)[0].usage.cache_creation_input_tokens == prefix
    hour = [{**system[0], "cache_control": {"type": "ephemeral", "ttl": "1h"}}]
    longer = [*HELLO, {"role": "assistant", "content": "Hm."}, {"role": "user", "content": "Go"}]
    marked = {"type": "ephemeral"}
    third, _ = create_raw(sdk, system=hour, messages=longer, cache_control=marked)
    assert third.usage.cache_read_input_tokens == prefix
    assert third.usage.cache_creation_input_tokens == 3 + 4 + 3 + 2 + 3 + 1
    assert third.usage.input_tokens == 0
    cached, _ = create_raw(sdk, messages=[{"role": "user", "content": "Hi [sim:cached=4]"}])
    assert (cached.usage.cache_read_input_tokens, cached.usage.input_tokens) == (4, 3 + 3 + 8 - 4)
    record = records(live)[1]
    assert record["usage"]["cache_read_input_tokens"] == record["usage"]["cached_tokens"] == prefix
    assert record["usage"]["prompt_tokens"] == prefix + 3 + 4


def test_bad_keys_and_missing_version_are_refused(live: RunningSimulator) -> None:
    live.app.state.revoked_keys.add("sk-ant-revoked-0001")
    for key in ("not-a-key", "sk-ant-revoked-0001"):
        client = anthropic.Anthropic(base_url=live.base_url, api_key=key, max_retries=0)
        with pytest.raises(anthropic.AuthenticationError) as caught:
            client.messages.create(model=SONNET, max_tokens=8, messages=HELLO)
        assert strict(ErrorResponse, caught.value.response.content).error.type == (
            "authentication_error"
        )
    body = {"model": SONNET, "max_tokens": 8, "messages": HELLO}
    status, raw = raw_post(live, "/v1/messages", body, {"x-api-key": TEST_KEY})
    assert status == 400
    assert strict(ErrorResponse, raw).error.message == "anthropic-version: header is required"
    status, raw = raw_post(live, "/v1/messages", body, {"anthropic-version": VERSION})
    assert (status, strict(ErrorResponse, raw).error.message) == (
        401,
        "x-api-key header is required",
    )
    headers = {"x-api-key": TEST_KEY, "anthropic-version": VERSION}
    status, raw = raw_post(live, "/v1/messages", body, headers)
    assert status == 200 and strict(Message, raw).usage.output_tokens == 8
    assert "x-api-key" not in records(live)[-1]["headers"]


def test_models_list_is_anthropic_for_anthropic_clients(
    sdk: anthropic.Anthropic, live: RunningSimulator
) -> None:
    listed = [model.id for model in sdk.models.list(limit=3)]
    assert len(listed) == 8 and len(set(listed)) == 8
    assert listed[0] == "claude-opus-4-5-20251101" and SONNET in listed
    raw = sdk.models.with_raw_response.list(limit=2)
    page = strict(SyncPage[ModelInfo], raw.http_response.content)
    assert page.has_more is True and page.last_id == page.data[-1].id
    tail = strict(
        SyncPage[ModelInfo],
        sdk.models.with_raw_response.list(after_id=listed[-2]).http_response.content,
    )
    assert [m.id for m in tail.data] == listed[-1:] and tail.has_more is False
    head = sdk.models.with_raw_response.list(before_id=listed[3], limit=2)
    earlier = strict(SyncPage[ModelInfo], head.http_response.content)
    assert [m.id for m in earlier.data] == listed[1:3] and earlier.has_more is True
    found = sdk.models.with_raw_response.retrieve("claude-sonnet-4-0")
    assert strict(ModelInfo, found.http_response.content).id == SONNET
    with pytest.raises(anthropic.NotFoundError):
        sdk.models.retrieve("claude-nonexistent")
    oai = openai.OpenAI(base_url=f"{live.base_url}/v1", api_key=TEST_KEY, max_retries=0)
    assert "gpt-4o" in [model.id for model in oai.models.list()]


def test_faults_are_answered_as_anthropic_errors(
    sdk: anthropic.Anthropic, live: RunningSimulator
) -> None:
    live.app.state.faults.schedule(500, 1, 2)
    with pytest.raises(anthropic.InternalServerError) as server:
        sdk.messages.create(model=SONNET, max_tokens=8, messages=HELLO)
    assert strict(ErrorResponse, server.value.response.content).error.type == "api_error"
    overloaded = [{"role": "user", "content": "Hi [sim:503]"}]
    with pytest.raises(anthropic.OverloadedError) as busy:
        sdk.messages.create(model=SONNET, max_tokens=8, messages=overloaded)
    assert busy.value.status_code == 529
    limited = [{"role": "user", "content": "Hi [sim:429=7]"}]
    with pytest.raises(anthropic.RateLimitError) as rate:
        sdk.messages.create(model=SONNET, max_tokens=8, messages=limited)
    assert rate.value.response.headers["retry-after"] == "7"
    assert strict(ErrorResponse, rate.value.response.content).error.type == "rate_limit_error"
    assert [r["status"] for r in records(live)] == [500, 529, 429]
    assert all(r["usage"] is None for r in records(live))


def test_cut_stream_stops_after_k_deltas(sdk: anthropic.Anthropic, live: RunningSimulator) -> None:
    cut = [{"role": "user", "content": "Hi [sim:cut=3]"}]
    received: list[str] = []
    with (
        pytest.raises((anthropic.APIConnectionError, httpx2.TransportError)),
        sdk.messages.stream(model=SONNET, max_tokens=64, messages=cut) as stream,
    ):
        received.extend(stream.text_stream)
    assert len(received) == 3
    record = records(live)[0]
    assert record["cut"] is True and record["completion_tokens_sent"] == 3
    assert record["usage"]["output_tokens"] == 16


ANTHROPIC_HEADERS = {"x-api-key": TEST_KEY, "anthropic-version": VERSION}


def post_messages(client: InProcessClient, **fields: Any) -> AsgiResponse:
    body: dict[str, Any] = {"model": SONNET, "max_tokens": 64, "messages": HELLO}
    body.update(fields)
    return client.request("POST", "/v1/messages", json=body, headers=ANTHROPIC_HEADERS)


def refusal(response: AsgiResponse) -> tuple[int, str]:
    error = strict(ErrorResponse, response.body)
    assert error.request_id == response.headers["request-id"]
    return response.status, str(error.error.message)


def test_unknown_blocks_and_unanswered_tool_uses_are_refused(client: InProcessClient) -> None:
    odd = [{"role": "user", "content": [{"type": "video", "url": "x"}]}]
    status, message = refusal(post_messages(client, messages=odd))
    assert status == 400
    assert message.startswith("messages.0.content.0: Input tag 'video' found using 'type'")
    call = {"type": "tool_use", "id": "toolu_01a", "name": "get_weather", "input": {}}
    unanswered = [
        *HELLO,
        {"role": "assistant", "content": [call]},
        {"role": "user", "content": "?"},
    ]
    status, message = refusal(post_messages(client, messages=unanswered, tools=[WEATHER]))
    assert (status, message.split(":")[0]) == (400, "messages.2")
    assert "`tool_use` ids were found without `tool_result` blocks" in message
    assert post_messages(client, messages=unanswered[:2], tools=[WEATHER]).status == 200


def test_at_most_four_cache_breakpoints(client: InProcessClient) -> None:
    marked = {"type": "text", "text": "Rule.", "cache_control": {"type": "ephemeral"}}
    assert post_messages(client, system=[marked] * 4).status == 200
    status, message = refusal(
        post_messages(client, system=[marked] * 4, cache_control=marked["cache_control"])
    )
    assert (status, message) == (
        400,
        "A maximum of 4 blocks with cache_control may be provided. Found 5.",
    )


def test_wrong_method_and_unknown_paths(client: InProcessClient) -> None:
    wrong = client.request("GET", "/v1/messages", headers=ANTHROPIC_HEADERS)
    assert refusal(wrong)[0] == 405 and wrong.headers["allow"] == "POST"
    unknown = client.request("POST", "/v1/messages/batches", json={}, headers=ANTHROPIC_HEADERS)
    assert refusal(unknown) == (404, "Not Found")
    listed = client.request("GET", "/v1/models", headers={"x-api-key": TEST_KEY})
    assert refusal(listed) == (400, "anthropic-version: header is required")


def test_a_prefill_ending_in_whitespace_is_refused_as_anthropic_does(
    client: InProcessClient,
) -> None:
    prefill = [*HELLO, {"role": "assistant", "content": "Sure, "}]
    assert refusal(post_messages(client, messages=prefill)) == (
        400,
        "messages: final assistant content cannot end with trailing whitespace",
    )
    earlier = [*HELLO, {"role": "assistant", "content": "Sure, "}, *HELLO]
    assert post_messages(client, messages=earlier).status == 200


def test_empty_prefill_continues_and_cut_non_stream_closes(client: InProcessClient) -> None:
    prefill = [*HELLO, {"role": "assistant", "content": ""}]
    assert strict(Message, post_messages(client, messages=prefill).body).stop_reason == "end_turn"
    cut = post_messages(client, messages=[{"role": "user", "content": "Hi [sim:cut]"}])
    assert cut.aborted and cut.status == 0
    record = client.app.state.records.render_dicts()[-1]
    assert record["cut"] is True and record["usage"]["output_tokens"] == 16


def test_overload_ends_a_stream_with_an_error_event(
    sdk: anthropic.Anthropic, live: RunningSimulator
) -> None:
    busy = [{"role": "user", "content": "Hi [sim:overload=2]"}]
    with sdk.messages.with_streaming_response.create(
        model=SONNET, max_tokens=64, messages=busy, stream=True
    ) as response:
        events = sse_events(list(response.iter_lines()))
    assert [name for name, _ in events][-3:] == ["content_block_delta"] * 2 + ["error"]
    assert strict(ErrorResponse, events[-1][1]).error.type == "overloaded_error"
    received: list[str] = []
    with (
        pytest.raises(anthropic.APIStatusError) as caught,
        sdk.messages.stream(model=SONNET, max_tokens=64, messages=busy) as stream,
    ):
        received.extend(stream.text_stream)
    assert len(received) == 2
    assert caught.value.body == {
        "type": "error",
        "error": {"type": "overloaded_error", "message": "Overloaded"},
    }
    with pytest.raises(anthropic.OverloadedError):
        sdk.messages.create(model=SONNET, max_tokens=64, messages=busy)
    assert records(live)[0]["completion_tokens_sent"] == 2


def test_a_model_withheld_from_the_key_appears_once_released(
    sdk: anthropic.Anthropic, live: RunningSimulator
) -> None:
    models = live.app.state.key_models
    models.change({"key": TEST_KEY, "withhold": ["claude-haiku-4-5-20251001"]})
    assert "claude-haiku-4-5-20251001" not in [model.id for model in sdk.models.list()]
    with pytest.raises(anthropic.NotFoundError) as caught:
        sdk.messages.create(model="claude-haiku-4-5-20251001", max_tokens=8, messages=HELLO)
    assert error_message(caught.value) == "model: claude-haiku-4-5-20251001"
    with pytest.raises(anthropic.NotFoundError):
        sdk.models.retrieve("claude-haiku-4-5")
    models.change({"key": TEST_KEY, "release": ["claude-haiku-4-5-20251001"]})
    assert "claude-haiku-4-5-20251001" in [model.id for model in sdk.models.list()]
    assert sdk.messages.create(model="claude-haiku-4-5", max_tokens=8, messages=HELLO).usage
