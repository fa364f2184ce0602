"""Anthropic's errors reach an OpenAI client in OpenAI's shape, with the codes it knows.

The bodies are checked against the ``anthropic`` SDK's own ``ErrorResponse``,
and what comes out against ``openai.types.shared.ErrorObject``.
"""

from __future__ import annotations

import orjson
import pytest
from anthropic.types.shared import ErrorResponse
from openai.types.shared import ErrorObject

from chatgrid.errors import (
    ChatGridError,
    InvalidRequest,
    NotFound,
    RateLimited,
    RequestTooLarge,
    UpstreamFailed,
    UpstreamKeyRejected,
)
from chatgrid.gateway.upstream_answers import judge_upstream_answer
from chatgrid.identity.models import BillingMode
from chatgrid.providers.anthropic_errors import (
    anthropic_error_object,
    error_from_anthropic,
    openai_error_payload,
)


def anthropic_body(kind: str, message: str) -> bytes:
    body = {
        "type": "error",
        "error": {"type": kind, "message": message},
        "request_id": "req_011CSHoEeqs5C35K2UUqR7Fy",
    }
    if kind != "request_too_large":  # documented, though not in the SDK's union
        ErrorResponse.model_validate(body)
    return orjson.dumps(body)


def openai_shaped(error: ChatGridError) -> ErrorObject:
    return ErrorObject.model_validate(orjson.loads(error.to_json())["error"])


@pytest.mark.parametrize(
    ("kind", "status", "cls", "out_status", "code"),
    [
        ("invalid_request_error", 400, InvalidRequest, 400, None),
        ("authentication_error", 401, UpstreamKeyRejected, 403, "upstream_key_rejected"),
        ("billing_error", 402, RateLimited, 429, "insufficient_quota"),
        ("permission_error", 403, UpstreamKeyRejected, 403, "upstream_key_rejected"),
        ("not_found_error", 404, NotFound, 404, "not_found"),
        ("request_too_large", 413, RequestTooLarge, 413, "request_too_large"),
        ("rate_limit_error", 429, RateLimited, 429, "rate_limit_exceeded"),
        ("api_error", 500, UpstreamFailed, 502, "upstream_error"),
        ("timeout_error", 504, UpstreamFailed, 504, "upstream_timeout"),
        ("overloaded_error", 529, UpstreamFailed, 503, "upstream_overloaded"),
    ],
)
def test_each_anthropic_error_type_becomes_its_openai_shaped_error(
    kind: str, status: int, cls: type[ChatGridError], out_status: int, code: str | None
) -> None:
    error_object = anthropic_error_object(anthropic_body(kind, "Something went wrong"))
    assert error_object is not None
    error = error_from_anthropic(error_object, status)
    assert type(error) is cls
    assert (error.status, error.code) == (out_status, code)
    shaped = openai_shaped(error)
    assert shaped.code == code
    if cls is not UpstreamKeyRejected:  # that one names the org's key, not Anthropic's words
        assert shaped.message == "Something went wrong"


def test_an_unknown_model_answers_like_openai_model_not_found() -> None:
    error_object = anthropic_error_object(anthropic_body("not_found_error", "model: claude-nope"))
    assert error_object is not None
    error = error_from_anthropic(error_object, 404)
    assert (error.status, error.code, error.param) == (404, "model_not_found", "model")
    assert openai_shaped(error).message == (
        "The model `claude-nope` does not exist or you do not have access to it."
    )


def test_an_error_type_anthropic_adds_later_is_judged_by_its_status() -> None:
    assert type(error_from_anthropic({"type": "brand_new_error"}, 422)) is InvalidRequest
    assert error_from_anthropic({"type": "brand_new_error"}, 422).status == 422
    assert type(error_from_anthropic({"type": "brand_new_error"})) is UpstreamFailed
    assert "brand_new_error" in error_from_anthropic({"type": "brand_new_error"}).message


def test_the_body_is_rewritten_so_the_relay_judges_it_as_an_openai_answer() -> None:
    payload = openai_error_payload(anthropic_body("invalid_request_error", "messages: empty"))
    verdict = judge_upstream_answer(400, BillingMode.BYOK, payload, None)
    assert verdict.pass_through
    assert verdict.error.message == "messages: empty"
    assert orjson.loads(payload)["error"]["type"] == "invalid_request_error"

    payload = openai_error_payload(anthropic_body("not_found_error", "model: claude-nope"))
    verdict = judge_upstream_answer(404, BillingMode.BYOK, payload, None)
    assert (verdict.error.status, verdict.error.code) == (404, "model_not_found")


@pytest.mark.parametrize(
    "payload",
    [b"", b"<html>Bad gateway</html>", b'{"error": {"message": "openai-shaped", "type": "x"}}'],
)
def test_a_body_that_is_not_anthropics_error_is_left_as_it_was(payload: bytes) -> None:
    assert openai_error_payload(payload) == payload
