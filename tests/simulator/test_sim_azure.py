"""Azure OpenAI paths: api-version, deployments, their models, Azure-style keys."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import openai
import orjson
import pytest

from chatgrid.simulator.testing import TEST_KEY, InProcessClient, RunningSimulator

Validate = Callable[[str, Any], None]
API_VERSION = "api-version=2024-10-21"
AZURE_KEY = {"api-key": TEST_KEY}
HELLO = {"messages": [{"role": "user", "content": "Hello"}]}


def test_chat_on_an_implicit_deployment(
    client: InProcessClient, openapi_validate: Validate
) -> None:
    response = client.request(
        "POST",
        "/openai/deployments/gpt-4o-mini/chat/completions",
        json=HELLO,
        headers=AZURE_KEY,
        query=API_VERSION,
    )
    assert response.status == 200
    openapi_validate("CreateChatCompletionResponse", response.json())
    assert response.json()["model"] == "gpt-4o-mini"
    assert response.headers["apim-request-id"] == response.headers["x-request-id"]


def test_registered_deployment_answers_with_its_model(client: InProcessClient) -> None:
    registered = client.request(
        "POST", "/_sim/azure/deployments", json={"deployment": "prod-chat", "model": "gpt-4.1"}
    )
    assert registered.status == 200
    body = {**HELLO, "model": "ignored-on-azure"}
    response = client.request(
        "POST",
        "/openai/deployments/prod-chat/chat/completions",
        json=body,
        headers=AZURE_KEY,
        query=API_VERSION,
    )
    assert response.status == 200
    assert response.json()["model"] == "gpt-4.1"
    info = client.request(
        "GET", "/openai/deployments/prod-chat", headers=AZURE_KEY, query=API_VERSION
    )
    assert info.json()["model"] == "gpt-4.1"
    assert info.json()["id"] == "prod-chat"


def test_unknown_deployment_is_404_deployment_not_found(
    client: InProcessClient, openapi_validate: Validate
) -> None:
    response = client.request(
        "POST",
        "/openai/deployments/nope/chat/completions",
        json=HELLO,
        headers=AZURE_KEY,
        query=API_VERSION,
    )
    assert response.status == 404
    openapi_validate("ErrorResponse", response.json())
    assert response.json()["error"]["code"] == "DeploymentNotFound"


def test_missing_api_version_is_400(client: InProcessClient) -> None:
    for query in ("", "api-version=", "other=1"):
        response = client.request(
            "POST",
            "/openai/deployments/gpt-4o/chat/completions",
            json=HELLO,
            headers=AZURE_KEY,
            query=query,
        )
        assert response.status == 400
        assert response.json()["error"]["code"] == "MissingApiVersionParameter"


@pytest.mark.parametrize(
    "headers",
    [{"api-key": TEST_KEY}, {"Authorization": f"Bearer {TEST_KEY}"}],
)
def test_azure_accepts_api_key_or_bearer(client: InProcessClient, headers: dict[str, str]) -> None:
    response = client.request("GET", "/openai/models", headers=headers, query=API_VERSION)
    assert response.status == 200
    assert len(response.json()["data"]) == 23  # the OpenAI catalogue: chat, embedding, media


def test_bad_azure_key_gets_azure_401(client: InProcessClient, openapi_validate: Validate) -> None:
    response = client.request(
        "GET", "/openai/models", headers={"api-key": "wrong"}, query=API_VERSION
    )
    assert response.status == 401
    openapi_validate("ErrorResponse", response.json())
    assert response.json()["error"]["code"] == "401"
    assert response.json()["error"]["message"].startswith("Access denied")


def test_embeddings_on_an_embedding_deployment(
    client: InProcessClient, openapi_validate: Validate
) -> None:
    client.request(
        "POST",
        "/_sim/azure/deployments",
        json={"deployment": "vectors", "model": "text-embedding-3-large"},
    )
    response = client.request(
        "POST",
        "/openai/deployments/vectors/embeddings",
        json={"input": "hello"},
        headers=AZURE_KEY,
        query=API_VERSION,
    )
    assert response.status == 200
    openapi_validate("CreateEmbeddingResponse", response.json())
    assert response.json()["model"] == "text-embedding-3-large"
    assert len(response.json()["data"][0]["embedding"]) == 3072


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/openai/deployments/text-embedding-3-small/chat/completions", HELLO),
        ("/openai/deployments/gpt-4o/embeddings", {"input": "hello"}),
    ],
)
def test_operations_the_deployments_model_cannot_do(
    client: InProcessClient, path: str, body: dict[str, Any]
) -> None:
    response = client.request("POST", path, json=body, headers=AZURE_KEY, query=API_VERSION)
    assert response.status == 400
    assert response.json()["error"]["code"] == "OperationNotSupported"


def test_deployments_need_a_catalogue_model(client: InProcessClient) -> None:
    bad = client.request("POST", "/_sim/azure/deployments", json={"deployment": "x", "model": "y"})
    assert bad.status == 400


def test_azure_faults_and_directives_apply_too(client: InProcessClient) -> None:
    body = {"messages": [{"role": "user", "content": "Hi [sim:429=7]"}]}
    response = client.request(
        "POST",
        "/openai/deployments/gpt-4o/chat/completions",
        json=body,
        headers=AZURE_KEY,
        query=API_VERSION,
    )
    assert response.status == 429
    assert response.headers["retry-after"] == "7"


# The Responses API lives on Azure's v1 surface only, with the deployment in the body.


@pytest.fixture
def azure_v1(live: RunningSimulator) -> openai.OpenAI:
    live.app.state.deployments.register("prod-mini", "gpt-4o-mini")
    return openai.OpenAI(
        base_url=f"{live.base_url}/openai/v1",
        api_key="unused",
        default_headers={"api-key": TEST_KEY},
        max_retries=0,
    )


def test_azure_v1_responses_create_retrieve_list_and_delete(
    azure_v1: openai.OpenAI, live: RunningSimulator, openapi_validate: Validate
) -> None:
    raw = azure_v1.responses.with_raw_response.create(
        model="prod-mini", input="Hello [sim:tokens=5]"
    )
    body = orjson.loads(raw.content)
    openapi_validate("Response", body)
    assert body["model"] == "gpt-4o-mini"  # the deployment's model
    assert body["usage"]["output_tokens"] == 5
    assert raw.headers["apim-request-id"] == raw.headers["x-request-id"]
    records = live.app.state.records.render_dicts()
    [record] = [r for r in records if r["path"] == "/openai/v1/responses"]
    assert record["api_key"] == TEST_KEY and record["query"] == ""
    fetched = azure_v1.responses.retrieve(body["id"])
    assert fetched.id == body["id"]
    items = azure_v1.responses.input_items.with_raw_response.list(body["id"])
    listed = orjson.loads(items.content)
    openapi_validate("ResponseItemList", listed)
    assert [i["content"][0]["text"] for i in listed["data"]] == ["Hello [sim:tokens=5]"]
    azure_v1.responses.delete(body["id"])
    with pytest.raises(openai.NotFoundError):
        azure_v1.responses.retrieve(body["id"])


def test_azure_v1_responses_stream_ends_with_the_usage(azure_v1: openai.OpenAI) -> None:
    events = list(
        azure_v1.responses.create(model="prod-mini", input="go [sim:tokens=4]", stream=True)
    )
    assert events[-1].type == "response.completed"
    assert events[-1].response.usage is not None
    assert events[-1].response.usage.output_tokens == 4


def test_azure_v1_unknown_deployment_is_404_deployment_not_found(
    azure_v1: openai.OpenAI,
) -> None:
    with pytest.raises(openai.NotFoundError) as caught:
        azure_v1.responses.create(model="no-such-deployment", input="hi")
    assert caught.value.code == "DeploymentNotFound"


def test_azure_v1_refuses_a_dated_api_version(client: InProcessClient) -> None:
    body = {"model": "gpt-4o-mini", "input": "hi"}
    for query, status in (("api-version=2024-10-21", 400), ("api-version=preview", 200), ("", 200)):
        response = client.request(
            "POST", "/openai/v1/responses", json=body, headers=AZURE_KEY, query=query
        )
        assert response.status == status, query


def test_the_deployment_scoped_responses_path_is_azures_404(client: InProcessClient) -> None:
    response = client.request(
        "POST",
        "/openai/deployments/gpt-4o-mini/responses",
        json={"input": "hi"},
        headers=AZURE_KEY,
        query=API_VERSION,
    )
    assert response.status == 404
    assert response.json()["error"] == {
        "message": "Resource not found",
        "type": "invalid_request_error",
        "param": None,
        "code": "404",
    }


def test_input_items_page_in_either_order_on_both_surfaces(
    client: InProcessClient, openapi_validate: Validate
) -> None:
    turns = [
        {"role": "user", "content": "one"},
        {"role": "assistant", "content": "two"},
        {"role": "user", "content": [{"type": "input_text", "text": "three"}]},
    ]
    bearer = {"Authorization": f"Bearer {TEST_KEY}"}
    for prefix, headers in (("/openai/v1", AZURE_KEY), ("/v1", bearer)):
        body = {"model": "gpt-4o-mini", "input": turns}
        created = client.request("POST", f"{prefix}/responses", json=body, headers=headers)
        items_path = f"{prefix}/responses/{created.json()['id']}/input_items"

        def page(query: str, path: str = items_path, sent: dict[str, str] = headers) -> Any:
            answer = client.request("GET", path, headers=sent, query=query)
            assert answer.status == 200, answer.json()
            openapi_validate("ResponseItemList", answer.json())
            return answer.json()

        newest = page("")
        assert [i["content"][0]["text"] for i in newest["data"]] == ["three", "two", "one"]
        first = page("order=asc&limit=2")
        assert [i["content"][0]["text"] for i in first["data"]] == ["one", "two"]
        assert first["has_more"]
        rest = page(f"order=asc&after={first['last_id']}")
        assert [i["content"][0]["text"] for i in rest["data"]] == ["three"]
        assert not rest["has_more"]
