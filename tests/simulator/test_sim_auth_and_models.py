"""Keys, header echoes, the model catalogue and unknown routes."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from typing import Any

import pytest

from chatgrid.simulator.testing import InProcessClient, bearer

Validate = Callable[[str, Any], None]
CATALOGUE = {
    "gpt-4o", "gpt-4o-mini", "gpt-4.1", "gpt-4.1-mini", "gpt-4.1-nano", "gpt-5", "gpt-5-mini",
    "gpt-5-nano", "o4-mini", "text-embedding-3-small", "text-embedding-3-large",
    "text-embedding-ada-002",
    "gpt-image-1", "dall-e-3", "dall-e-2", "whisper-1", "gpt-4o-transcribe",
    "gpt-4o-mini-transcribe", "tts-1", "tts-1-hd", "gpt-4o-mini-tts", "omni-moderation-latest",
    "text-moderation-latest",
}  # fmt: skip


def test_models_list_is_the_fixed_catalogue(
    client: InProcessClient, openapi_validate: Validate
) -> None:
    response = client.request("GET", "/v1/models", headers=bearer())
    assert response.status == 200
    body = response.json()
    openapi_validate("ListModelsResponse", body)
    assert {model["id"] for model in body["data"]} == CATALOGUE
    assert all(model["object"] == "model" for model in body["data"])


def test_one_model_can_be_retrieved(client: InProcessClient, openapi_validate: Validate) -> None:
    response = client.request("GET", "/v1/models/gpt-4.1-nano", headers=bearer())
    assert response.status == 200
    openapi_validate("Model", response.json())
    assert response.json()["id"] == "gpt-4.1-nano"
    missing = client.request("GET", "/v1/models/gpt-2", headers=bearer())
    assert missing.status == 404
    assert missing.json()["error"]["code"] == "model_not_found"


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer "},
        {"Authorization": "Basic c2stdGVzdA=="},
        {"Authorization": "Bearer sk-short"},
        {"Authorization": "Bearer pk-abcdefghijklmnop"},
        {"Authorization": "Bearer sk-abcdefgh!jklmnop"},
        {"api-key": "sk-test-simulator-0001"},  # Azure's header means nothing on /v1
    ],
)
def test_missing_or_malformed_keys_get_401(
    client: InProcessClient, openapi_validate: Validate, headers: dict[str, str]
) -> None:
    response = client.request("GET", "/v1/models", headers=headers)
    assert response.status == 401
    body = response.json()
    openapi_validate("ErrorResponse", body)
    assert body["error"]["code"] == "invalid_api_key"
    assert body["error"]["type"] == "invalid_request_error"
    assert response.headers["x-request-id"].startswith("req_")


def test_rejected_key_is_masked_like_openai_does(client: InProcessClient) -> None:
    key = "pk-abcdefghijklmnopwxyz"
    response = client.request("GET", "/v1/models", headers=bearer(key))
    message = response.json()["error"]["message"]
    assert message == (
        "Incorrect API key provided: pk-ab***wxyz. "
        "You can find your API key at https://platform.openai.com/account/api-keys."
    )
    assert "abcdefghijklmnop" not in message


def test_revoked_key_is_refused_from_then_on(client: InProcessClient) -> None:
    key = "sk-proj-revoke-me-1234"
    assert client.request("GET", "/v1/models", headers=bearer(key)).status == 200
    revoked = client.request("POST", "/_sim/keys/revoke", json={"key": key})
    assert revoked.status == 200
    response = client.request("GET", "/v1/models", headers=bearer(key))
    assert response.status == 401
    assert "sk-pr***1234" in response.json()["error"]["message"]
    assert client.request("GET", "/v1/models", headers=bearer()).status == 200


def test_organization_and_project_are_echoed_on_success_only(client: InProcessClient) -> None:
    headers = {**bearer(), "OpenAI-Organization": "org-abc", "OpenAI-Project": "proj_xyz"}
    ok = client.request("GET", "/v1/models", headers=headers)
    assert ok.headers["openai-organization"] == "org-abc"
    assert ok.headers["openai-project"] == "proj_xyz"
    plain = client.request("GET", "/v1/models", headers=bearer())
    assert "openai-organization" not in plain.headers
    failed = client.request("GET", "/v1/models/nope", headers=headers)
    assert "openai-organization" not in failed.headers
    assert "openai-processing-ms" not in failed.headers


def test_every_response_has_a_fresh_request_id(client: InProcessClient) -> None:
    ids = {
        client.request("GET", path, headers=bearer()).headers["x-request-id"]
        for path in ("/v1/models", "/v1/models", "/v1/nothing", "/elsewhere")
    }
    assert len(ids) == 4
    assert all(re.fullmatch(r"req_[0-9a-f]{32}", request_id) for request_id in ids)


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("POST", "/v1/completions", 404),
        ("GET", "/v1/chat/completions", 405),
        ("POST", "/v1/models", 405),
        ("DELETE", "/v1/embeddings", 405),
        ("GET", "/", 404),
        ("GET", "/v2/models", 404),
    ],
)
def test_unknown_urls_and_methods(
    client: InProcessClient, openapi_validate: Validate, method: str, path: str, status: int
) -> None:
    response = client.request(method, path, headers=bearer())
    assert response.status == status
    openapi_validate("ErrorResponse", response.json())
    assert response.json()["error"]["message"].startswith("Invalid")
    if status == 405:
        assert response.headers["allow"] in ("GET", "POST")


def test_lifespan_and_control_responses(client: InProcessClient) -> None:
    messages: list[dict[str, str]] = [
        {"type": "lifespan.startup"},
        {"type": "lifespan.shutdown"},
    ]
    sent: list[Any] = []

    async def receive() -> dict[str, str]:
        return messages.pop(0)

    async def send(message: Any) -> None:
        sent.append(message)

    asyncio.run(client.app({"type": "lifespan"}, receive, send))
    assert [message["type"] for message in sent] == [
        "lifespan.startup.complete",
        "lifespan.shutdown.complete",
    ]
    health = client.request("GET", "/_sim/health")
    assert health.headers["x-request-id"].startswith("req_")
