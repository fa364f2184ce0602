"""End to end over real HTTP: uvicorn serving the simulator, driven by OpenAI's own SDK."""

from __future__ import annotations

import base64
import http.client
import math
import socket
import time
from array import array
from collections.abc import Callable
from typing import Any

import openai
import orjson
import pytest

from chatgrid.simulator.testing import TEST_KEY, RunningSimulator, bearer

Validate = Callable[[str, Any], None]
API_VERSION = "2024-10-21"
HELLO = [{"role": "user", "content": "Hello, world!"}]


@pytest.fixture
def sdk(live: RunningSimulator) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{live.base_url}/v1", api_key=TEST_KEY, max_retries=0)


@pytest.fixture
def azure_sdk(live: RunningSimulator) -> openai.AzureOpenAI:
    return openai.AzureOpenAI(
        azure_endpoint=live.base_url, api_key=TEST_KEY, api_version=API_VERSION, max_retries=0
    )


def post(live: RunningSimulator, path: str, body: object) -> http.client.HTTPResponse:
    connection = http.client.HTTPConnection(live.host, live.port, timeout=5)
    headers = {**bearer(), "Content-Type": "application/json"}
    connection.request("POST", path, body=orjson.dumps(body), headers=headers)
    return connection.getresponse()


def test_sdk_chat_completion(sdk: openai.OpenAI, openapi_validate: Validate) -> None:
    raw = sdk.chat.completions.with_raw_response.create(model="gpt-4o-mini", messages=HELLO)
    assert raw.headers["x-request-id"].startswith("req_")
    openapi_validate("CreateChatCompletionResponse", orjson.loads(raw.content))
    completion = raw.parse()
    assert completion.choices[0].finish_reason == "stop"
    assert completion.usage is not None
    assert completion.usage.completion_tokens == 16
    assert completion.usage.prompt_tokens == 10


def test_sdk_stream_with_usage(
    sdk: openai.OpenAI, live: RunningSimulator, openapi_validate: Validate
) -> None:
    stream = sdk.chat.completions.create(
        model="gpt-4o",
        messages=HELLO,
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = list(stream)
    for chunk in chunks:
        openapi_validate(
            "CreateChatCompletionStreamResponse", chunk.model_dump(mode="json", exclude_unset=True)
        )
    text = "".join(chunk.choices[0].delta.content or "" for chunk in chunks if chunk.choices)
    expected = sdk.chat.completions.create(model="gpt-4o", messages=HELLO)
    assert text == expected.choices[0].message.content
    assert chunks[-1].choices == []
    assert chunks[-1].usage is not None
    assert chunks[-1].usage.total_tokens == 26
    assert all(chunk.usage is None for chunk in chunks[:-1])
    record = live.app.state.records.render_dicts()[0]
    assert record["stream"] is True
    assert record["completion_tokens_sent"] == 16


def test_sdk_embeddings_base64_and_float(sdk: openai.OpenAI) -> None:
    # The SDK asks for base64 by default and decodes it itself.
    decoded = sdk.embeddings.create(model="text-embedding-3-small", input=["one", "two"])
    assert len(decoded.data) == 2
    vector = decoded.data[0].embedding
    assert len(vector) == 1536
    assert math.isclose(math.hypot(*vector), 1.0, abs_tol=1e-5)
    floats = sdk.embeddings.create(
        model="text-embedding-3-small", input="one", encoding_format="float"
    )
    assert floats.data[0].embedding == vector
    short = sdk.embeddings.create(model="text-embedding-3-large", input="one", dimensions=8)
    assert len(short.data[0].embedding) == 8


def test_sdk_models(sdk: openai.OpenAI) -> None:
    ids = {model.id for model in sdk.models.list()}
    assert {"gpt-5", "o4-mini", "text-embedding-ada-002"} <= ids
    assert sdk.models.retrieve("gpt-4.1").id == "gpt-4.1"
    with pytest.raises(openai.NotFoundError):
        sdk.models.retrieve("gpt-0")


def test_sdk_sees_openai_errors(sdk: openai.OpenAI, live: RunningSimulator) -> None:
    with pytest.raises(openai.RateLimitError) as rate_limited:
        sdk.chat.completions.create(
            model="gpt-4o", messages=[{"role": "user", "content": "[sim:429=3]"}]
        )
    assert rate_limited.value.response.headers["retry-after"] == "3"
    assert rate_limited.value.code == "rate_limit_exceeded"
    with pytest.raises(openai.InternalServerError):
        sdk.chat.completions.create(
            model="gpt-4o", messages=[{"role": "user", "content": "[sim:500]"}]
        )
    with pytest.raises(openai.BadRequestError) as bad:
        sdk.chat.completions.create(model="gpt-4o", messages=[])
    assert bad.value.param == "messages"
    live.app.state.revoked_keys.add(TEST_KEY)
    with pytest.raises(openai.AuthenticationError) as revoked:
        sdk.models.list()
    assert revoked.value.code == "invalid_api_key"


def test_azure_sdk_chat_embeddings_and_models(
    live: RunningSimulator, azure_sdk: openai.AzureOpenAI
) -> None:
    live.app.state.deployments.register("team-chat", "gpt-4.1-mini")
    completion = azure_sdk.chat.completions.create(model="team-chat", messages=HELLO)
    assert completion.model == "gpt-4.1-mini"
    stream = azure_sdk.chat.completions.create(model="team-chat", messages=HELLO, stream=True)
    text = "".join(chunk.choices[0].delta.content or "" for chunk in stream if chunk.choices)
    assert text == completion.choices[0].message.content
    vectors = azure_sdk.embeddings.create(model="text-embedding-3-small", input="hi")
    assert len(vectors.data[0].embedding) == 1536
    assert any(model.id == "gpt-4o" for model in azure_sdk.models.list())
    with pytest.raises(openai.NotFoundError) as missing:
        azure_sdk.chat.completions.create(model="no-such-deployment", messages=HELLO)
    assert missing.value.code == "DeploymentNotFound"
    (first, *_) = live.app.state.records.render_dicts()
    assert first["path"] == "/openai/deployments/team-chat/chat/completions"
    assert first["query"] == f"api-version={API_VERSION}"
    assert first["api_key"] == TEST_KEY


def test_cut_stream_ends_the_connection_mid_body(live: RunningSimulator) -> None:
    body = {
        "model": "gpt-4o",
        "stream": True,
        "messages": [{"role": "user", "content": "x [sim:cut=3]"}],
    }
    response = post(live, "/v1/chat/completions", body)
    assert response.status == 200
    with pytest.raises(http.client.IncompleteRead) as incomplete:
        response.read()
    received = incomplete.value.partial.decode()
    assert received.count("data: ") == 4
    assert "[DONE]" not in received
    record = live.app.state.records.render_dicts()[0]
    assert (record["cut"], record["completion_tokens_sent"]) == (True, 3)


def test_non_stream_cut_closes_without_a_response(live: RunningSimulator) -> None:
    body = {"model": "gpt-4o", "messages": [{"role": "user", "content": "x [sim:cut]"}]}
    with pytest.raises(http.client.RemoteDisconnected):
        post(live, "/v1/chat/completions", body)
    # The server is unharmed.
    assert post(live, "/v1/chat/completions", {"model": "gpt-4o", "messages": HELLO}).status == 200


def test_client_hanging_up_mid_stream_is_recorded(live: RunningSimulator) -> None:
    body = orjson.dumps(
        {
            "model": "gpt-4o",
            "stream": True,
            "messages": [{"role": "user", "content": "x [sim:slow=50]"}],
        }
    )
    request = (
        b"POST /v1/chat/completions HTTP/1.1\r\nHost: sim\r\n"
        b"Authorization: Bearer " + TEST_KEY.encode() + b"\r\n"
        b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body)
    )
    with socket.create_connection((live.host, live.port), timeout=5) as connection:
        connection.sendall(request)
        received = b""
        while received.count(b"data: ") < 3:
            received += connection.recv(65536)
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        record = live.app.state.records.render_dicts()[0]
        if record["client_disconnected"]:
            break
        time.sleep(0.02)
    assert record["client_disconnected"] is True
    assert record["completion_tokens_sent"] < 16
    assert record["cut"] is False


def test_base64_on_the_wire_is_little_endian_float32(live: RunningSimulator) -> None:
    body = {
        "model": "text-embedding-3-small",
        "input": "x",
        "encoding_format": "base64",
        "dimensions": 4,
    }
    encoded = orjson.loads(post(live, "/v1/embeddings", body).read())["data"][0]["embedding"]
    raw = base64.b64decode(encoded)
    vector = array("f")
    vector.frombytes(raw)
    assert len(vector) == 4
    assert math.isclose(math.hypot(*vector), 1.0, abs_tol=1e-5)


def test_oversized_body_gets_413_over_http(live: RunningSimulator) -> None:
    padding = "x" * (8 * 1024 * 1024 + 1)
    response = post(live, "/v1/chat/completions", {"model": "gpt-4o", "pad": padding})
    assert response.status == 413
    assert orjson.loads(response.read())["error"]["code"] == "request_too_large"
