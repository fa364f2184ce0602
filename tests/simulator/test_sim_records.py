"""Records of what reached the simulator, as ``GET /_sim/requests`` shows them."""

from __future__ import annotations

from collections.abc import Callable

from chatgrid.simulator import create_simulator_app
from chatgrid.simulator.records import RequestLog
from chatgrid.simulator.testing import AsgiResponse, InProcessClient, bearer

Chat = Callable[..., AsgiResponse]

RECORD_FIELDS = {
    "id", "method", "path", "query", "api_key", "headers", "body", "status", "stream",
    "usage", "units", "completion_tokens_sent", "cut", "client_disconnected",
}  # fmt: skip


def records(client: InProcessClient) -> list[dict[str, object]]:
    response = client.request("GET", "/_sim/requests")
    assert response.status == 200
    data: list[dict[str, object]] = response.json()["data"]
    return data


def test_a_successful_chat_is_recorded_in_full(client: InProcessClient, chat: Chat) -> None:
    headers = {**bearer(), "OpenAI-Organization": "org-1", "X-Trace": "abc"}
    body = {"model": "gpt-4o", "messages": [{"role": "user", "content": "Hello, world!"}]}
    response = client.request(
        "POST", "/v1/chat/completions", json=body, headers=headers, query="a=1"
    )
    (record,) = records(client)
    assert set(record) == RECORD_FIELDS
    assert record["id"] == response.headers["x-request-id"]
    assert record["method"] == "POST"
    assert record["path"] == "/v1/chat/completions"
    assert record["query"] == "a=1"
    assert record["api_key"] == "sk-test-simulator-0001"
    assert record["body"] == body
    assert record["status"] == 200
    assert record["stream"] is False
    assert record["usage"] == {
        "prompt_tokens": 10,
        "completion_tokens": 16,
        "cached_tokens": 0,
        "total_tokens": 26,
    }
    assert record["completion_tokens_sent"] == 16
    assert record["cut"] is False
    assert record["client_disconnected"] is False
    recorded_headers = record["headers"]
    assert isinstance(recorded_headers, dict)
    assert recorded_headers["openai-organization"] == "org-1"
    assert recorded_headers["x-trace"] == "abc"
    assert "authorization" not in recorded_headers


def test_errors_are_recorded_without_usage(client: InProcessClient, chat: Chat) -> None:
    chat("Hello [sim:429]")
    client.request("GET", "/v1/models", headers={"api-key": "sk-azure-style-key"})
    client.request("POST", "/v1/chat/completions", content=b"{oops", headers=bearer())
    first, second, third = records(client)
    assert (first["status"], first["usage"]) == (429, None)
    assert (second["status"], second["api_key"]) == (401, None)
    assert "api-key" not in second["headers"]  # type: ignore[operator]
    assert (third["status"], third["body"]) == (400, None)


def test_records_keep_arrival_order_and_only_api_paths(client: InProcessClient) -> None:
    client.request("GET", "/v1/models", headers=bearer())
    client.request("GET", "/_sim/health")
    client.request("GET", "/somewhere", headers=bearer())
    client.request("GET", "/v1/unknown", headers=bearer())
    client.request("GET", "/openai/models", headers=bearer(), query="api-version=1")
    seen = records(client)
    assert [record["path"] for record in seen] == ["/v1/models", "/v1/unknown", "/openai/models"]
    assert [record["status"] for record in seen] == [200, 404, 200]
    assert all(record["api_key"] == "sk-test-simulator-0001" for record in seen)


def test_stream_records_say_what_was_sent(client: InProcessClient, chat: Chat) -> None:
    chat("Hello [sim:tokens=7]", stream=True)
    chat("Hello [sim:cut=2]", stream=True)
    whole, cut = records(client)
    assert (whole["stream"], whole["completion_tokens_sent"], whole["cut"]) == (True, 7, False)
    assert (cut["stream"], cut["completion_tokens_sent"], cut["cut"]) == (True, 2, True)


def test_embedding_records_carry_prompt_usage(client: InProcessClient) -> None:
    body = {"model": "text-embedding-3-small", "input": ["a b", "c"]}
    client.request("POST", "/v1/embeddings", json=body, headers=bearer())
    (record,) = records(client)
    assert record["usage"] == {
        "prompt_tokens": 3,
        "completion_tokens": 0,
        "cached_tokens": 0,
        "total_tokens": 3,
    }


def test_records_can_be_cleared(client: InProcessClient) -> None:
    client.request("GET", "/v1/models", headers=bearer())
    assert client.request("DELETE", "/_sim/requests").status == 200
    assert records(client) == []


def test_the_log_keeps_only_the_newest_records() -> None:
    log = RequestLog(limit=3)
    for number in range(5):
        log.open(f"req_{number}", "GET", "/v1/models", b"", [])
    assert [record["id"] for record in log.render_dicts()] == ["req_2", "req_3", "req_4"]


def test_the_record_limit_can_be_lowered_for_long_benchmarks() -> None:
    client = InProcessClient(create_simulator_app(max_records=2))
    for _ in range(3):
        client.request("GET", "/v1/models", headers=bearer())
    assert len(records(client)) == 2
