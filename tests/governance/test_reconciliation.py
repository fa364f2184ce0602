"""Reading OpenAI's usage pages and comparing them with the ledger, without a server."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest

from chatgrid.admin.reconciliation import MAX_USAGE_BYTES, parse_usage_document
from chatgrid.errors import InvalidRequest
from chatgrid.governance.reconciliation import (
    ALL_MODELS,
    Counts,
    ledger_usage,
    openai_usage,
    reconcile,
    used_outside,
)

DAY_ONE = int(datetime(2026, 5, 1, tzinfo=UTC).timestamp())


def result(model: str | None, requests: int, key: str | None = None) -> dict[str, Any]:
    return {
        "object": "organization.usage.completions.result",
        "num_model_requests": requests,
        "input_tokens": 10 * requests,
        "output_tokens": 5 * requests,
        "model": model,
        "api_key_id": key,
    }


def page(*buckets: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "object": "page",
        "data": [
            {
                "object": "bucket",
                "start_time": DAY_ONE + i * 86_400,
                "end_time": DAY_ONE + (i + 1) * 86_400,
                "results": results,
            }
            for i, results in enumerate(buckets)
        ],
        "has_more": False,
        "next_page": None,
    }


def test_snapshots_count_as_their_model_and_other_keys_are_left_out() -> None:
    pages = [
        page([result("gpt-4o-2024-08-06", 2, "key_a"), result("gpt-4o", 1, "key_a")]),
        page([], [result("gpt-4o", 7, "key_b")]),
    ]
    found = openai_usage(pages, "key_a")
    assert found.per_model and found.first_day == date(2026, 5, 1)
    assert found.last_day == date(2026, 5, 2)
    assert found.counts == {(date(2026, 5, 1), "gpt-4o"): Counts(3, 30, 15)}


def test_days_are_compared_whole_when_openai_did_not_group_by_model() -> None:
    found = openai_usage(page([result(None, 4)]))
    assert not found.per_model
    moment = datetime(2026, 5, 1, 23, 59, tzinfo=UTC)
    ledger = ledger_usage([(moment, "gpt-4o", 10, 5), (moment, "gpt-4o-mini", 10, 5)], False)
    (line,) = reconcile(found.counts, ledger)
    assert line.model == ALL_MODELS and line.difference == Counts(2, 20, 10)
    assert used_outside([line], 1) == [line] and used_outside([line], 2) == []


@pytest.mark.parametrize(
    "raw",
    [
        b"not json",
        b'{"object": "list"}',
        b'{"data": [{"object": "bucket", "results": []}]}',
        b'{"data": [{"object": "bucket", "start_time": 1e30, "results": []}]}',
        b'{"data": []}',
    ],
)
def test_what_is_not_usage_is_refused_clearly(raw: bytes) -> None:
    with pytest.raises(InvalidRequest) as refused:
        openai_usage(parse_usage_document(raw))
    assert refused.value.param == "usage"


def test_counts_must_be_counts() -> None:
    bad = page([{**result("gpt-4o", 1), "num_model_requests": True}])
    with pytest.raises(InvalidRequest, match="num_model_requests"):
        openai_usage(bad)
    with pytest.raises(InvalidRequest, match="366 days"):
        openai_usage(page(*[[] for _ in range(367)]))


def test_a_usage_file_over_the_limit_is_refused_unread() -> None:
    with pytest.raises(InvalidRequest, match="MiB"):
        parse_usage_document(b" " * (MAX_USAGE_BYTES + 1))
