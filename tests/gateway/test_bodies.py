import orjson
import pytest

from chatgrid.errors import InvalidRequest
from chatgrid.gateway.bodies import prepare_chat, prepare_embeddings, prompt_byte_bound
from chatgrid.gateway.usage import usage_from_body


def body(**fields: object) -> bytes:
    return orjson.dumps(fields)


def test_streaming_always_asks_upstream_for_usage() -> None:
    call = prepare_chat(
        body(model="gpt-4o", stream=True, messages=[{"role": "user", "content": "hi"}]), "cg-x"
    )
    sent = orjson.loads(call.upstream_body)
    assert sent["stream_options"] == {"include_usage": True}
    assert sent["user"] == "cg-x"
    assert call.stream and not call.client_wants_usage


def test_other_fields_pass_through_untouched() -> None:
    tools = [{"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}]
    image = {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}}
    raw = body(
        model="gpt-4o",
        messages=[{"role": "user", "content": [{"type": "text", "text": "look"}, image]}],
        tools=tools,
        response_format={"type": "json_object"},
    )
    sent = orjson.loads(prepare_chat(raw, "cg-x").upstream_body)
    assert sent["tools"] == tools
    assert sent["messages"][0]["content"][1] == image
    assert sent["response_format"] == {"type": "json_object"}


@pytest.mark.parametrize(
    ("raw", "param"),
    [
        (b"", None),
        (b"{not json", None),
        (b"[]", None),
        (body(messages=[{"role": "user", "content": "x"}]), "model"),
        (body(model="gpt-4o"), "messages"),
        (body(model="gpt-4o", messages=[]), "messages"),
        (body(model="gpt-4o", messages=[{"role": "wizard"}]), "messages[0].role"),
        (body(model="gpt-4o", messages=[{"role": "user"}], stream="yes"), "stream"),
        (body(model="gpt-4o", messages=[{"role": "user"}], max_tokens=0), "max_tokens"),
        (body(model="gpt-4o", messages=[{"role": "user"}], stream_options={}), "stream_options"),
    ],
)
def test_bad_chat_bodies_are_400_with_the_field_named(raw: bytes, param: str | None) -> None:
    with pytest.raises(InvalidRequest) as caught:
        prepare_chat(raw, "cg-x")
    assert caught.value.status == 400
    assert caught.value.param == param


@pytest.mark.parametrize("value", ["", [], [""], [1, "a"], [[]], {"a": 1}, None, True])
def test_bad_embedding_inputs_are_refused(value: object) -> None:
    with pytest.raises(InvalidRequest):
        prepare_embeddings(body(model="text-embedding-3-small", input=value), "cg-x")


def test_prompt_bound_is_at_least_the_utf8_length() -> None:
    request = {
        "messages": [
            {"role": "user", "content": "héllo"},
            {"role": "user", "content": [{"type": "text", "text": "abc"}]},
        ]
    }
    assert prompt_byte_bound(request) >= len("héllo".encode()) + 3


def test_usage_is_read_from_the_end_of_a_large_body() -> None:
    payload = orjson.dumps(
        {
            "data": [{"embedding": [0.1] * 3000, "index": 0}],
            "usage": {"prompt_tokens": 7, "total_tokens": 7},
        }
    )
    usage = usage_from_body(payload)
    assert usage is not None and usage.prompt_tokens == 7 and usage.completion_tokens == 0
