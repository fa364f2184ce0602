"""Property tests: whatever JSON arrives, the simulator answers it and never with a 500."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import orjson
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chatgrid.simulator.testing import InProcessClient, bearer

Validate = Callable[[str, Any], None]

# Directive-free text: a generated "[sim:500]" would be a legitimate 500.
text = st.text(alphabet=st.characters(blacklist_characters="["), max_size=40)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | text,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(text, children, max_size=4),
    max_leaves=12,
)


def mostly(valid: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """Usually ``valid``, sometimes any JSON value, so both paths get explored."""
    return st.integers(min_value=0, max_value=7).flatmap(
        lambda roll: json_values if roll == 3 else valid
    )


parts = st.fixed_dictionaries(
    {"type": mostly(st.sampled_from(["text", "image_url", "refusal", "audio"]))},
    optional={
        "text": mostly(text),
        "image_url": mostly(st.fixed_dictionaries({"url": mostly(text)})),
    },
)
contents = text | st.lists(mostly(parts), max_size=3)
message = st.fixed_dictionaries(
    {
        "role": mostly(st.sampled_from(["system", "user", "assistant", "tool", "developer"])),
        "content": mostly(contents),
    },
    optional={"tool_call_id": mostly(text), "name": text},
)
tool = st.fixed_dictionaries(
    {
        "type": mostly(st.just("function")),
        "function": mostly(st.fixed_dictionaries({"name": mostly(text.filter(bool))})),
    }
)
chat_bodies = st.fixed_dictionaries(
    {
        "model": mostly(st.sampled_from(["gpt-4o-mini", "gpt-5", "text-embedding-3-small"])),
        "messages": mostly(st.lists(mostly(message), min_size=1, max_size=3)),
    },
    optional={
        "n": mostly(st.integers(min_value=0, max_value=4)),
        "max_tokens": mostly(st.integers(min_value=0, max_value=40)),
        "max_completion_tokens": mostly(st.integers(min_value=1, max_value=40)),
        "stream": mostly(st.booleans()),
        "stream_options": mostly(st.fixed_dictionaries({"include_usage": mostly(st.booleans())})),
        "tools": mostly(st.lists(mostly(tool), max_size=2)),
        "tool_choice": mostly(st.sampled_from(["none", "auto", "required"])),
        "response_format": mostly(
            st.fixed_dictionaries(
                {"type": mostly(st.sampled_from(["text", "json_object", "json_schema"]))},
                optional={"json_schema": mostly(st.fixed_dictionaries({"name": text}))},
            )
        ),
        "temperature": mostly(st.floats(min_value=0, max_value=2)),
        "service_tier": mostly(st.sampled_from(["auto", "flex", "priority"])),
    },
)
FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FUZZ
@given(body=json_values)
def test_any_json_value_gets_an_answer_that_is_not_500(body: Any) -> None:
    client = InProcessClient()
    raw = json.dumps(body).encode()  # json, not orjson: big integers must reach the app
    response = client.request("POST", "/v1/chat/completions", content=raw, headers=bearer())
    assert response.status in (200, 400, 404)


@FUZZ
@given(body=chat_bodies)
def test_chat_shaped_bodies_get_valid_answers(body: dict[str, Any]) -> None:
    client = InProcessClient()
    raw = json.dumps(body).encode()
    response = client.request("POST", "/v1/chat/completions", content=raw, headers=bearer())
    assert response.status in (200, 400, 404), response.body
    if response.status != 200:
        error = response.json()["error"]
        assert set(error) == {"message", "type", "param", "code"}
        return
    if body.get("stream") is True:
        events = response.events()
        assert events[-1] == "[DONE]"
        assert all(isinstance(orjson.loads(event), dict) for event in events[:-1])
    else:
        assert response.json()["object"] == "chat.completion"


def test_fuzzed_replies_match_the_schema(openapi_validate: Validate) -> None:
    """A schema check for a sample of accepted fuzz bodies (too slow for every example)."""
    client = InProcessClient()
    checked = 0

    @settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(body=chat_bodies)
    def check(body: dict[str, Any]) -> None:
        nonlocal checked
        response = client.request(
            "POST", "/v1/chat/completions", content=json.dumps(body).encode(), headers=bearer()
        )
        if response.status != 200:
            openapi_validate("ErrorResponse", response.json())
            return
        checked += 1
        if body.get("stream") is True:
            for event in response.events()[:-1]:
                openapi_validate("CreateChatCompletionStreamResponse", orjson.loads(event))
        else:
            openapi_validate("CreateChatCompletionResponse", response.json())

    check()


embedding_bodies = st.fixed_dictionaries(
    {
        "model": mostly(st.sampled_from(["text-embedding-3-small", "text-embedding-ada-002"])),
        "input": mostly(
            text
            | st.lists(text, max_size=3)
            | st.lists(st.integers(min_value=-1, max_value=10**6), max_size=3)
            | st.lists(st.lists(st.integers(min_value=0, max_value=9), max_size=3), max_size=2)
        ),
    },
    optional={
        "dimensions": mostly(st.integers(min_value=-1, max_value=4000)),
        "encoding_format": mostly(st.sampled_from(["float", "base64"])),
    },
)


@FUZZ
@given(body=embedding_bodies)
def test_embedding_bodies_never_get_500(body: dict[str, Any]) -> None:
    client = InProcessClient()
    raw = json.dumps(body).encode()
    response = client.request("POST", "/v1/embeddings", content=raw, headers=bearer())
    assert response.status in (200, 400, 404), response.body
    if response.status == 200:
        assert len(response.json()["data"]) >= 1
