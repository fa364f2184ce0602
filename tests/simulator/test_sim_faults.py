"""Faults on demand: directives in the text and faults scheduled through ``/_sim``."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest

from chatgrid.simulator.testing import AsgiResponse, InProcessClient, bearer

Chat = Callable[..., AsgiResponse]
Validate = Callable[[str, Any], None]


def test_429_directive_has_openai_shape_and_retry_after(
    chat: Chat, openapi_validate: Validate
) -> None:
    response = chat("Hello [sim:429]")
    assert response.status == 429
    assert response.headers["retry-after"] == "2"
    assert response.headers["x-request-id"].startswith("req_")
    body = response.json()
    openapi_validate("ErrorResponse", body)
    assert body["error"]["code"] == "rate_limit_exceeded"
    assert body["error"]["type"] == "requests"
    assert "gpt-4o-mini" in body["error"]["message"]
    assert chat("Hello [sim:429=5]").headers["retry-after"] == "5"


@pytest.mark.parametrize(("directive", "status"), [("500", 500), ("503", 503), ("401", 401)])
def test_error_directives(
    chat: Chat, openapi_validate: Validate, directive: str, status: int
) -> None:
    response = chat(f"Hello [sim:{directive}]")
    assert response.status == status
    openapi_validate("ErrorResponse", response.json())
    expected_type = "invalid_request_error" if status == 401 else "server_error"
    assert response.json()["error"]["type"] == expected_type


def test_401_directive_looks_like_a_revoked_key(chat: Chat) -> None:
    error = chat("Hi [sim:401]").json()["error"]
    assert error["code"] == "invalid_api_key"
    assert error["message"].startswith("Incorrect API key provided: sk-te***0001.")


def test_directives_only_count_in_the_last_message(client: InProcessClient) -> None:
    messages = [
        {"role": "user", "content": "[sim:500]"},
        {"role": "assistant", "content": "ok"},
        {"role": "user", "content": [{"type": "text", "text": "now [sim:503]"}]},
    ]
    body = {"model": "gpt-4o", "messages": messages}
    response = client.request("POST", "/v1/chat/completions", json=body, headers=bearer())
    assert response.status == 503


def test_delay_waits_before_the_first_byte(chat: Chat) -> None:
    started = time.perf_counter()
    response = chat("Hello [sim:delay=150]")
    assert response.status == 200
    assert time.perf_counter() - started >= 0.15
    started = time.perf_counter()
    assert chat("Hello [sim:delay=100] [sim:429]").status == 429
    assert time.perf_counter() - started >= 0.1


def test_scheduled_faults_hit_the_next_n_requests(
    client: InProcessClient, chat: Chat, openapi_validate: Validate
) -> None:
    scheduled = client.request("POST", "/_sim/faults", json={"status": 429, "count": 2})
    assert scheduled.status == 200
    assert scheduled.json()["pending"] == [{"status": 429, "count": 2, "retry_after": 2}]
    first, second, third = chat(), chat(), chat()
    assert [first.status, second.status, third.status] == [429, 429, 200]
    openapi_validate("ErrorResponse", first.json())
    assert first.headers["retry-after"] == "2"


def test_scheduled_faults_queue_and_apply_to_any_v1_request(client: InProcessClient) -> None:
    client.request("POST", "/_sim/faults", json={"status": 503})
    client.request("POST", "/_sim/faults", json={"status": 429, "retry_after": 9})
    client.request("POST", "/_sim/faults", json={"status": 401})
    statuses = [client.request("GET", "/v1/models", headers=bearer()) for _ in range(4)]
    assert [response.status for response in statuses] == [503, 429, 401, 200]
    assert statuses[1].headers["retry-after"] == "9"


def test_invalid_keys_do_not_use_up_scheduled_faults(client: InProcessClient) -> None:
    client.request("POST", "/_sim/faults", json={"status": 500})
    assert client.request("GET", "/v1/models", headers=bearer("sk-bad")).status == 401
    assert client.request("GET", "/v1/models", headers=bearer()).status == 500


def test_pending_faults_can_be_listed_and_dropped(client: InProcessClient) -> None:
    client.request("POST", "/_sim/faults", json={"status": 500, "count": 3})
    assert client.request("GET", "/_sim/faults").json()["pending"][0]["count"] == 3
    client.request("DELETE", "/_sim/faults")
    assert client.request("GET", "/v1/models", headers=bearer()).status == 200


@pytest.mark.parametrize(
    "body",
    [
        {"status": 404},
        {"status": "429"},
        {"count": 1},
        {"status": 429, "count": 0},
        {"status": 429, "retry_after": -1},
        [429],
    ],
)
def test_bad_fault_schedules_are_refused(client: InProcessClient, body: Any) -> None:
    assert client.request("POST", "/_sim/faults", json=body).status == 400


def test_reset_clears_faults_keys_deployments_and_records(client: InProcessClient) -> None:
    client.request("POST", "/_sim/faults", json={"status": 500, "count": 5})
    client.request("POST", "/_sim/keys/revoke", json={"key": "sk-test-simulator-0001"})
    client.request("POST", "/_sim/azure/deployments", json={"deployment": "d", "model": "gpt-4o"})
    assert client.request("GET", "/v1/models", headers=bearer()).status == 401
    assert client.request("POST", "/_sim/reset").status == 200
    assert client.request("GET", "/_sim/requests").json() == {"data": []}
    assert client.request("GET", "/v1/models", headers=bearer()).status == 200
    assert client.request("GET", "/_sim/azure/deployments").json() == {"data": {}}


def test_control_api_health_and_errors(client: InProcessClient) -> None:
    assert client.request("GET", "/_sim/health").json() == {"status": "ok"}
    assert client.request("GET", "/_sim/nothing").status == 404
    assert client.request("PUT", "/_sim/faults").status == 405
    assert client.request("POST", "/_sim/keys/revoke", json={}).status == 400
    bad_json = client.request("POST", "/_sim/faults", content=b"{")
    assert bad_json.status == 400
