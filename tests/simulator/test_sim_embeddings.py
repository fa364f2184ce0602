"""Embeddings: shapes, deterministic unit vectors, dimensions, base64, validation."""

from __future__ import annotations

import base64
import math
from array import array
from collections.abc import Callable
from typing import Any

import pytest

from chatgrid.simulator.testing import AsgiResponse, InProcessClient, bearer
from chatgrid.simulator.tokens import count_text

Validate = Callable[[str, Any], None]
Embed = Callable[..., AsgiResponse]


@pytest.fixture
def embed(client: InProcessClient) -> Embed:
    def post(input: Any = "The food was delicious", **fields: Any) -> AsgiResponse:
        body = {"model": "text-embedding-3-small", "input": input, **fields}
        return client.request("POST", "/v1/embeddings", json=body, headers=bearer())

    return post


def decode(encoded: str) -> list[float]:
    return array("f", base64.b64decode(encoded)).tolist()


@pytest.mark.parametrize(
    ("model", "size"),
    [
        ("text-embedding-3-small", 1536),
        ("text-embedding-3-large", 3072),
        ("text-embedding-ada-002", 1536),
    ],
)
def test_vectors_are_unit_length_at_the_native_size(
    embed: Embed, openapi_validate: Validate, model: str, size: int
) -> None:
    response = embed(model=model)
    assert response.status == 200
    body = response.json()
    openapi_validate("CreateEmbeddingResponse", body)
    assert body["model"] == model
    (item,) = body["data"]
    assert item["object"] == "embedding"
    assert len(item["embedding"]) == size
    assert math.isclose(math.hypot(*item["embedding"]), 1.0, abs_tol=1e-5)


def test_same_input_same_vector_and_different_input_different(embed: Embed) -> None:
    first = embed("alpha").json()["data"][0]["embedding"]
    assert embed("alpha").json()["data"][0]["embedding"] == first
    assert embed("beta").json()["data"][0]["embedding"] != first
    other_model = embed("alpha", model="text-embedding-3-large").json()["data"][0]["embedding"]
    assert other_model[:8] != first[:8]


def test_inputs_keep_their_order_and_usage_follows_the_rule(embed: Embed) -> None:
    texts = ["one", "two words", "three, more words!"]
    body = embed(texts).json()
    assert [item["index"] for item in body["data"]] == [0, 1, 2]
    assert body["data"][1]["embedding"] == embed("two words").json()["data"][0]["embedding"]
    expected = sum(count_text(text) for text in texts)
    assert body["usage"] == {"prompt_tokens": expected, "total_tokens": expected}


def test_token_arrays_are_accepted_and_counted_by_length(embed: Embed) -> None:
    single = embed([1, 2, 3]).json()
    assert len(single["data"]) == 1
    assert single["usage"]["prompt_tokens"] == 3
    several = embed([[1, 2], [3, 4, 5]]).json()
    assert len(several["data"]) == 2
    assert several["usage"]["prompt_tokens"] == 5


def test_dimensions_shorten_like_openai_does(embed: Embed) -> None:
    full = embed().json()["data"][0]["embedding"]
    short = embed(dimensions=256).json()["data"][0]["embedding"]
    assert len(short) == 256
    assert math.isclose(math.hypot(*short), 1.0, abs_tol=1e-5)
    # Shortened vectors are the renormalised prefix of the full one.
    scale = math.hypot(*full[:256])
    pairs = zip(short, full[:256], strict=True)
    assert all(math.isclose(a, b / scale, rel_tol=1e-4, abs_tol=1e-6) for a, b in pairs)


def test_ada_refuses_dimensions(embed: Embed) -> None:
    response = embed(model="text-embedding-ada-002", dimensions=256)
    assert response.status == 400
    assert response.json()["error"]["param"] == "dimensions"


def test_base64_carries_the_same_float32_numbers(embed: Embed, openapi_validate: Validate) -> None:
    floats = embed(dimensions=64).json()["data"][0]["embedding"]
    body = embed(dimensions=64, encoding_format="base64").json()
    encoded = body["data"][0]["embedding"]
    assert isinstance(encoded, str)
    assert len(base64.b64decode(encoded)) == 64 * 4
    assert decode(encoded) == floats
    # The spec types ``embedding`` as an array of floats only; check the rest of the
    # base64 body against it with the decoded vector in place.
    body["data"][0]["embedding"] = decode(encoded)
    openapi_validate("CreateEmbeddingResponse", body)


@pytest.mark.parametrize(
    ("fields", "status", "param"),
    [
        ({"input": ""}, 400, "input"),
        ({"input": []}, 400, "input"),
        ({"input": ["ok", ""]}, 400, "input"),
        ({"input": [[]]}, 400, "input"),
        ({"input": ["text", 3]}, 400, "input"),
        ({"input": None}, 400, "input"),
        ({"input": "x" , "model": "gpt-4o"}, 400, "model"),
        ({"input": "x", "model": "text-embedding-4"}, 404, None),
        ({"input": "x", "dimensions": 0}, 400, "dimensions"),
        ({"input": "x", "dimensions": 5000}, 400, "dimensions"),
        ({"input": "x", "encoding_format": "hex"}, 400, "encoding_format"),
    ],
)  # fmt: skip
def test_invalid_embedding_requests(
    client: InProcessClient,
    openapi_validate: Validate,
    fields: dict[str, Any],
    status: int,
    param: str | None,
) -> None:
    body = {"model": "text-embedding-3-small", **fields}
    body = {key: value for key, value in body.items() if value is not None}
    response = client.request("POST", "/v1/embeddings", json=body, headers=bearer())
    assert response.status == status
    openapi_validate("ErrorResponse", response.json())
    assert response.json()["error"]["param"] == param


def test_directives_ride_in_the_first_input(embed: Embed) -> None:
    assert embed(["[sim:429]", "fine"]).status == 429
    assert embed(["fine", "[sim:429]"]).status == 200


def test_texts_that_share_words_point_the_same_way(embed: Embed) -> None:
    def vector(text: str) -> list[float]:
        return list(embed(text, dimensions=256).json()["data"][0]["embedding"])

    def cosine(a: list[float], b: list[float]) -> float:
        return sum(x * y for x, y in zip(a, b, strict=True))

    query = vector("When is the quarterly revenue report due?")
    related = vector("The quarterly revenue report is due on the fifth.")
    unrelated = vector("Penguins huddle together through the antarctic winter.")
    assert cosine(query, related) > 0.5
    assert cosine(query, related) > cosine(query, unrelated) + 0.3
    # Case and word order do not matter; a repeated word counts once.
    assert vector("Revenue REPORT") == vector("report revenue revenue")
