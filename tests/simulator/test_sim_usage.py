"""The Usage and Costs APIs (``GET /v1/organization/usage/completions``, ``…/costs``) report
what the simulator answered: per day, model (or line item) and key, valid against OpenAI's own
schema, for an admin key only."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest

from chatgrid.simulator import SimulatorApp
from chatgrid.simulator.costs import price_book
from chatgrid.simulator.testing import TEST_KEY, AsgiResponse, InProcessClient, bearer
from chatgrid.simulator.usage import DAY, api_key_id

ADMIN = bearer("sk-admin-" + "a" * 20)
OTHER_KEY = "sk-other-" + "b" * 24
#: The simulator's clock, fixed: a day's buckets never depend on today.
NOON = datetime(2026, 3, 14, 12, tzinfo=UTC).timestamp()
TODAY = int(NOON) // DAY * DAY


@pytest.fixture(autouse=True)
def fixed_clock(app: SimulatorApp) -> None:
    app.state.records.clock = lambda: NOON


def usage(client: InProcessClient, query: str) -> AsgiResponse:
    return client.request("GET", "/v1/organization/usage/completions", headers=ADMIN, query=query)


def test_calls_are_counted_per_day_model_and_key(
    client: InProcessClient, chat: Callable[..., AsgiResponse], openapi_validate: Any
) -> None:
    for model in ("gpt-4o-mini", "gpt-4o-mini", "gpt-4o"):
        assert chat(model=model).status == 200
    other = client.request(
        "POST",
        "/v1/chat/completions",
        json={"model": "gpt-4o", "messages": [{"role": "user", "content": "Hi"}]},
        headers=bearer(OTHER_KEY),
    )
    assert other.status == 200
    assert chat(model="no-such-model").status == 404  # not answered: not counted
    today = TODAY

    page = usage(client, f"start_time={today}&group_by=model&group_by=api_key_id")
    assert page.status == 200
    body = page.json()
    openapi_validate("UsageResponse", body)
    assert body["has_more"] is False and body["next_page"] is None
    (bucket,) = body["data"]
    assert bucket["start_time"] == today and bucket["end_time"] == today + DAY
    counts = {(r["model"], r["api_key_id"]): r["num_model_requests"] for r in bucket["results"]}
    mine, theirs = api_key_id(TEST_KEY), api_key_id(OTHER_KEY)
    assert counts == {("gpt-4o", mine): 1, ("gpt-4o-mini", mine): 2, ("gpt-4o", theirs): 1}
    assert all(r["input_tokens"] > 0 and r["output_tokens"] > 0 for r in bucket["results"])

    filtered = usage(client, f"start_time={today}&api_key_ids={mine}").json()
    (only,) = filtered["data"][0]["results"]
    assert only["num_model_requests"] == 3 and only["model"] is None


def test_days_page_and_only_an_admin_key_reads_it(
    client: InProcessClient, chat: Callable[..., AsgiResponse]
) -> None:
    assert chat().status == 200
    today = TODAY
    first = usage(client, f"start_time={today - 3 * DAY}&limit=2").json()
    assert [b["start_time"] for b in first["data"]] == [today - 3 * DAY, today - 2 * DAY]
    assert first["has_more"] is True
    rest = usage(client, f"start_time={today - 3 * DAY}&limit=2&page={first['next_page']}")
    assert [b["start_time"] for b in rest.json()["data"]] == [today - DAY, today]
    assert rest.json()["data"][1]["results"][0]["num_model_requests"] == 1

    refused = client.request(
        "GET",
        "/v1/organization/usage/completions",
        headers=bearer(TEST_KEY),
        query=f"start_time={today}",
    )
    assert refused.status == 401 and "admin key" in refused.json()["error"]["message"]
    assert usage(client, "").status == 400
    assert usage(client, f"start_time={today}&bucket_width=1h").status == 400


def test_costs_price_what_was_answered_per_line_item_exactly(
    client: InProcessClient, chat: Callable[..., AsgiResponse], openapi_validate: Any
) -> None:
    for _ in range(3):
        assert chat(model="gpt-4o-mini").status == 200
    answer = client.request(
        "GET",
        "/v1/organization/costs",
        headers=ADMIN,
        query=f"start_time={TODAY}&group_by=line_item&group_by=api_key_id&limit=180",
    )
    assert answer.status == 200
    openapi_validate("UsageResponse", answer.json())
    page = json.loads(answer.body, parse_float=Decimal)
    (bucket,) = page["data"]
    for result, plain in zip(bucket["results"], answer.json()["data"][0]["results"], strict=True):
        openapi_validate("CostsResult", plain)
        assert result["api_key_id"] == api_key_id(TEST_KEY)
    found = {r["line_item"]: r for r in bucket["results"]}
    assert set(found) == {"gpt-4o-mini, input", "gpt-4o-mini, cached input", "gpt-4o-mini, output"}
    price = price_book().price_for("gpt-4o-mini", date.max)
    assert price is not None
    output = found["gpt-4o-mini, output"]
    exact = Decimal(output["quantity"] * price.output_per_mtok) / 10**12
    assert output["amount"] == {"value": exact, "currency": "usd"}

    whole = client.request(
        "GET", "/v1/organization/costs", headers=ADMIN, query=f"start_time={TODAY}"
    )
    (total,) = json.loads(whole.body, parse_float=Decimal)["data"][0]["results"]
    assert total["amount"]["value"] == sum(r["amount"]["value"] for r in found.values())
    assert total["line_item"] is None and total["quantity"] is None
    refused = client.request(
        "GET", "/v1/organization/costs", headers=bearer(TEST_KEY), query=f"start_time={TODAY}"
    )
    assert refused.status == 401
    too_many = client.request(
        "GET", "/v1/organization/costs", headers=ADMIN, query=f"start_time={TODAY}&limit=181"
    )
    assert too_many.status == 400
