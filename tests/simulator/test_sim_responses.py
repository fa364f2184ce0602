"""The Responses API over real HTTP, driven by OpenAI's SDK and checked against OpenAI's spec."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import openai
import orjson
import pytest

from chatgrid.simulator.testing import TEST_KEY, RunningSimulator
from chatgrid.simulator.tokens import count_text

Validate = Callable[[str, Any], None]
HELLO = "Hello, world!"
WEATHER_TOOL = {
    "type": "function",
    "name": "get_weather",
    "description": "The weather in a city",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
}

EVENT_SCHEMAS = {
    "response.created": "ResponseCreatedEvent",
    "response.in_progress": "ResponseInProgressEvent",
    "response.output_item.added": "ResponseOutputItemAddedEvent",
    "response.content_part.added": "ResponseContentPartAddedEvent",
    "response.output_text.delta": "ResponseTextDeltaEvent",
    "response.output_text.done": "ResponseTextDoneEvent",
    "response.content_part.done": "ResponseContentPartDoneEvent",
    "response.output_item.done": "ResponseOutputItemDoneEvent",
    "response.function_call_arguments.delta": "ResponseFunctionCallArgumentsDeltaEvent",
    "response.function_call_arguments.done": "ResponseFunctionCallArgumentsDoneEvent",
    "response.completed": "ResponseCompletedEvent",
    "response.incomplete": "ResponseIncompleteEvent",
}
TEXT_EVENTS = [
    "response.created",
    "response.in_progress",
    "response.output_item.added",
    "response.content_part.added",
    *["response.output_text.delta"] * 16,
    "response.output_text.done",
    "response.content_part.done",
    "response.output_item.done",
    "response.completed",
]


@pytest.fixture
def sdk(live: RunningSimulator) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{live.base_url}/v1", api_key=TEST_KEY, max_retries=0)


def create(sdk: openai.OpenAI, validate: Validate, **fields: Any) -> dict[str, Any]:
    """Create a response and return its raw body, checked against the spec."""
    fields.setdefault("model", "gpt-4o-mini")
    raw = sdk.responses.with_raw_response.create(**fields)
    body: dict[str, Any] = orjson.loads(raw.content)
    validate("Response", body)
    return body


def streamed(sdk: openai.OpenAI, validate: Validate, **fields: Any) -> list[dict[str, Any]]:
    """Every event of a streamed response as sent, each checked against its schema."""
    fields.setdefault("model", "gpt-4o-mini")
    events = []
    for event in sdk.responses.create(stream=True, **fields):
        sent = event.model_dump(mode="json", exclude_unset=True)
        validate(EVENT_SCHEMAS[sent["type"]], sent)
        events.append(sent)
    return events


def text_of(body: dict[str, Any]) -> str:
    return "".join(
        part["text"]
        for item in body["output"]
        if item["type"] == "message"
        for part in item["content"]
    )


def chat_prompt_tokens(*texts: str) -> int:
    """The simulator's chat rule: 3 per request, 3 per message, plus the text's tokens."""
    return 3 + sum(3 + count_text(text) for text in texts)


def test_a_response_fits_the_spec_and_says_what_chat_says(
    sdk: openai.OpenAI, openapi_validate: Validate
) -> None:
    body = create(sdk, openapi_validate, input=HELLO)
    assert body["object"] == "response"
    assert body["status"] == "completed"
    assert body["id"].startswith("resp_")
    assert body["usage"] == {
        "input_tokens": 10,
        "input_tokens_details": {"cached_tokens": 0, "cache_write_tokens": 0},
        "output_tokens": 16,
        "output_tokens_details": {"reasoning_tokens": 0},
        "total_tokens": 26,
    }
    chat = sdk.chat.completions.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": HELLO}]
    )
    assert text_of(body) == chat.choices[0].message.content
    assert sdk.responses.create(model="gpt-4o-mini", input=HELLO).output_text == text_of(body)


def test_instructions_and_input_items_count_like_chat_messages(
    sdk: openai.OpenAI, openapi_validate: Validate
) -> None:
    instructions = "Answer in one short sentence."
    body = create(sdk, openapi_validate, input=HELLO, instructions=instructions)
    assert body["instructions"] == instructions
    assert body["usage"]["input_tokens"] == chat_prompt_tokens(instructions, HELLO)
    items = [
        {"role": "user", "content": "First question?"},
        {"role": "assistant", "content": [{"type": "output_text", "text": "First answer."}]},
        {
            "role": "user",
            "content": [
                {"type": "input_text", "text": "What is in this picture?"},
                {"type": "input_image", "image_url": "https://example.com/cat.png"},
            ],
        },
    ]
    body = create(sdk, openapi_validate, input=items)
    expected = chat_prompt_tokens("First question?", "First answer.", "What is in this picture?")
    assert body["usage"]["input_tokens"] == expected + 85


def test_previous_response_id_continues_the_stored_conversation(
    sdk: openai.OpenAI, openapi_validate: Validate
) -> None:
    first = create(sdk, openapi_validate, input=HELLO)
    second = create(sdk, openapi_validate, input="And then?", previous_response_id=first["id"])
    assert second["previous_response_id"] == first["id"]
    conversation = chat_prompt_tokens(HELLO, text_of(first), "And then?")
    assert second["usage"]["input_tokens"] == conversation
    retrieved = sdk.responses.with_raw_response.retrieve(second["id"])
    openapi_validate("Response", orjson.loads(retrieved.content))
    assert orjson.loads(retrieved.content) == second


def test_a_deleted_or_unstored_response_is_not_found(sdk: openai.OpenAI) -> None:
    kept = sdk.responses.create(model="gpt-4o-mini", input=HELLO)
    sdk.responses.delete(kept.id)
    with pytest.raises(openai.NotFoundError) as missing:
        sdk.responses.retrieve(kept.id)
    assert kept.id in missing.value.message
    with pytest.raises(openai.NotFoundError):
        sdk.responses.delete(kept.id)
    unstored = sdk.responses.create(model="gpt-4o-mini", input=HELLO, store=False)
    with pytest.raises(openai.NotFoundError):
        sdk.responses.retrieve(unstored.id)
    with pytest.raises(openai.BadRequestError) as chained:
        sdk.responses.create(model="gpt-4o-mini", input="More", previous_response_id=unstored.id)
    assert chained.value.code == "previous_response_not_found"
    assert chained.value.param == "previous_response_id"


def test_the_stream_sends_the_spec_events_in_order_with_usage_at_the_end(
    sdk: openai.OpenAI, live: RunningSimulator, openapi_validate: Validate
) -> None:
    events = streamed(sdk, openapi_validate, input=HELLO)
    assert [event["type"] for event in events] == TEXT_EVENTS
    assert [event["sequence_number"] for event in events] == list(range(len(events)))
    deltas = "".join(e["delta"] for e in events if e["type"] == "response.output_text.delta")
    done = next(e for e in events if e["type"] == "response.output_text.done")
    final = events[-1]["response"]
    assert deltas == done["text"] == text_of(final)
    assert events[0]["response"]["status"] == "in_progress"
    assert "usage" not in events[0]["response"]
    assert final["status"] == "completed"
    assert final["usage"]["total_tokens"] == 26
    assert deltas == sdk.responses.create(model="gpt-4o-mini", input=HELLO).output_text
    record: dict[str, Any] = live.app.state.records.render_dicts()[0]
    assert (record["stream"], record["completion_tokens_sent"]) == (True, 16)
    assert record["usage"]["prompt_tokens"] == 10


def test_the_sdk_stream_helper_assembles_the_final_response(
    sdk: openai.OpenAI, openapi_validate: Validate
) -> None:
    with sdk.responses.stream(model="gpt-4o", input=HELLO, instructions="Be brief.") as stream:
        texts = [event.delta for event in stream if event.type == "response.output_text.delta"]
        final = stream.get_final_response()
    openapi_validate("Response", final.model_dump(mode="json", exclude_unset=True))
    assert final.output_text == "".join(texts)
    assert final.usage is not None and final.usage.output_tokens == len(texts) == 16
    assert sdk.responses.retrieve(final.id).output_text == final.output_text


def test_a_function_tool_is_called_when_chat_would_call_it(
    sdk: openai.OpenAI, openapi_validate: Validate
) -> None:
    text = "Weather in Paris? [sim:tool]"
    body = create(sdk, openapi_validate, input=text, tools=[WEATHER_TOOL])
    (call,) = body["output"]
    assert call["type"] == "function_call"
    assert (call["name"], call["arguments"], call["status"]) == ("get_weather", "{}", "completed")
    chat = sdk.chat.completions.create(
        model="gpt-4o-mini",
        messages=[{"role": "user", "content": text}],
        tools=[{"type": "function", "function": {"name": "get_weather"}}],
    )
    chat_call = chat.choices[0].message.tool_calls
    assert chat_call is not None and chat_call[0].id == call["call_id"]
    assert body["usage"]["output_tokens"] == chat.usage.completion_tokens  # type: ignore[union-attr]
    answer = create(
        sdk,
        openapi_validate,
        previous_response_id=body["id"],
        input=[{"type": "function_call_output", "call_id": call["call_id"], "output": "Sunny"}],
        tools=[WEATHER_TOOL],
    )
    assert answer["output"][0]["type"] == "message"
    plain = create(sdk, openapi_validate, input="Weather in Paris?", tools=[WEATHER_TOOL])
    assert plain["output"][0]["type"] == "message"
    forced = create(
        sdk,
        openapi_validate,
        input="Weather in Paris?",
        tools=[WEATHER_TOOL],
        tool_choice={"type": "function", "name": "get_weather"},
    )
    assert forced["output"][0]["name"] == "get_weather"


def test_a_streamed_function_call_sends_its_argument_events(
    sdk: openai.OpenAI, openapi_validate: Validate
) -> None:
    events = streamed(
        sdk, openapi_validate, input="Weather?", tools=[WEATHER_TOOL], tool_choice="required"
    )
    assert [event["type"] for event in events] == [
        "response.created",
        "response.in_progress",
        "response.output_item.added",
        "response.function_call_arguments.delta",
        "response.function_call_arguments.done",
        "response.output_item.done",
        "response.completed",
    ]
    assert events[-1]["response"]["output"][0]["type"] == "function_call"


def test_max_output_tokens_makes_the_response_incomplete(
    sdk: openai.OpenAI, openapi_validate: Validate
) -> None:
    body = create(sdk, openapi_validate, input="Tell me more [sim:tokens=40]", max_output_tokens=20)
    assert body["status"] == "incomplete"
    assert body["incomplete_details"] == {"reason": "max_output_tokens"}
    assert body["usage"]["output_tokens"] == 20
    events = streamed(
        sdk, openapi_validate, input="Tell me more [sim:tokens=40]", max_output_tokens=20
    )
    assert events[-1]["type"] == "response.incomplete"
    assert events[-1]["response"]["usage"]["output_tokens"] == 20


@pytest.mark.parametrize(
    ("fields", "error", "status", "param"),
    [
        ({"input": HELLO}, "missing_required_parameter", 400, "model"),
        ({"model": "gpt-4o-mini"}, "missing_required_parameter", 400, "input"),
        ({"model": "gpt-9", "input": HELLO}, "model_not_found", 404, None),
        ({"model": "text-embedding-3-small", "input": HELLO}, "unsupported_model", 400, "model"),
        ({"model": "gpt-4o", "input": HELLO, "max_output_tokens": 5}, None, 400, None),
        ({"model": "gpt-4o", "input": [{"role": "robot", "content": "x"}]}, None, 400, None),
    ],
)
def test_bad_requests_get_openai_shaped_errors(
    live: RunningSimulator,
    openapi_validate: Validate,
    fields: dict[str, Any],
    error: str | None,
    status: int,
    param: str | None,
) -> None:
    headers = {"Authorization": f"Bearer {TEST_KEY}"}
    response = httpx.post(f"{live.base_url}/v1/responses", json=fields, headers=headers)
    assert response.status_code == status
    openapi_validate("ErrorResponse", response.json())
    if error is not None:
        assert response.json()["error"]["code"] == error
        assert response.json()["error"]["param"] == param


def test_faults_reach_the_responses_api_as_they_reach_chat(
    sdk: openai.OpenAI, live: RunningSimulator
) -> None:
    with pytest.raises(openai.InternalServerError):
        sdk.responses.create(model="gpt-4o-mini", input="Hi [sim:500]")
    with pytest.raises(openai.RateLimitError):
        sdk.responses.create(model="gpt-4o-mini", input="Hi [sim:429=7]")
    httpx.post(f"{live.base_url}/_sim/faults", json={"status": 503, "count": 1})
    with pytest.raises(openai.InternalServerError) as overloaded:
        sdk.responses.retrieve("resp_anything")
    assert overloaded.value.status_code == 503
    with pytest.raises(openai.AuthenticationError):
        openai.OpenAI(
            base_url=f"{live.base_url}/v1", api_key="not-a-key", max_retries=0
        ).responses.create(model="gpt-4o-mini", input=HELLO)
    with pytest.raises((openai.APIConnectionError, httpx.RemoteProtocolError)):
        for _ in sdk.responses.create(model="gpt-4o-mini", input="Hi [sim:cut=3]", stream=True):
            pass
    record = live.app.state.records.render_dicts()[-1]
    assert (record["cut"], record["completion_tokens_sent"]) == (True, 3)
    statuses = [record["status"] for record in live.app.state.records.render_dicts()]
    assert statuses == [500, 429, 503, 401, 200]
