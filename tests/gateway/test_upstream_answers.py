"""An upstream's non-200 answer, judged without a server."""

from __future__ import annotations

import orjson
import pytest

from chatgrid.errors import InvalidRequest, RateLimited, UpstreamFailed, UpstreamKeyRejected
from chatgrid.gateway.upstream_answers import judge_upstream_answer, parse_retry_after
from chatgrid.identity.models import BillingMode

OPENAI_ERROR = orjson.dumps({"error": {"message": "org-operator: limit reached", "type": "x"}})
BAD_PARAM = orjson.dumps(
    {"error": {"message": "n must be 1", "type": "invalid_request_error", "param": "n", "code": 7}}
)


@pytest.mark.parametrize("status", [401, 403])
def test_a_rejected_key_is_told_to_a_byok_member_and_kept_neutral_on_the_pool(status: int) -> None:
    outcome, error, passed = judge_upstream_answer(status, BillingMode.BYOK, b"", None)
    assert outcome == "upstream_key_rejected" and isinstance(error, UpstreamKeyRejected)
    assert not passed
    outcome, error, passed = judge_upstream_answer(status, BillingMode.SHARED, b"", None)
    assert isinstance(error, UpstreamFailed) and error.code == "pool_key_rejected"
    assert not passed


def test_a_pooled_429_does_not_repeat_the_operators_upstream_message() -> None:
    byok = judge_upstream_answer(429, BillingMode.BYOK, OPENAI_ERROR, 7).error
    pooled = judge_upstream_answer(429, BillingMode.SHARED, OPENAI_ERROR, 7).error
    assert isinstance(byok, RateLimited) and "org-operator" in byok.message
    assert isinstance(pooled, RateLimited) and "org-operator" not in pooled.message
    assert byok.retry_after == pooled.retry_after == 7


def test_the_callers_own_mistake_passes_through_only_in_openais_shape() -> None:
    outcome, error, passed = judge_upstream_answer(422, BillingMode.BYOK, BAD_PARAM, None)
    assert outcome == "upstream_rejected_request" and passed
    # The same mistake as a typed error, for the workspace (a code that is not text is dropped).
    assert isinstance(error, InvalidRequest) and error.status == 422
    assert (error.message, error.param, error.code) == ("n must be 1", "n", None)
    outcome, error, passed = judge_upstream_answer(400, BillingMode.BYOK, b"<html>", None)
    assert isinstance(error, UpstreamFailed) and error.status == 400 and not passed


@pytest.mark.parametrize("status", [301, 302, 307, 308])
def test_a_redirect_is_refused_without_saying_where_it_pointed(status: int) -> None:
    outcome, error, passed = judge_upstream_answer(
        status, BillingMode.BYOK, b"go to 127.0.0.1", None
    )
    assert outcome == "upstream_redirect" and not passed
    assert error.code == "upstream_redirect" and "127.0.0.1" not in error.message


@pytest.mark.parametrize(
    ("header", "seconds"), [(None, None), ("2", 2), ("1.5", 1), ("-3", 0), ("soon", None)]
)
def test_retry_after_is_whole_seconds_or_nothing(header: str | None, seconds: int | None) -> None:
    assert parse_retry_after(header) == seconds
