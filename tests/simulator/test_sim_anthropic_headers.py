"""The simulated Anthropic API judges ``anthropic-version`` and ``anthropic-beta`` as
Anthropic does, and records them as they arrived (what gateway tests read)."""

from __future__ import annotations

from typing import Any

import anthropic
import httpx
import pytest

from chatgrid.simulator.testing import TEST_KEY, RunningSimulator

SONNET = "claude-sonnet-4-20250514"
HELLO: Any = [{"role": "user", "content": "Hello, world!"}]


@pytest.fixture
def sdk(live: RunningSimulator) -> anthropic.Anthropic:
    return anthropic.Anthropic(base_url=live.base_url, api_key=TEST_KEY, max_retries=0)


def last_headers(live: RunningSimulator) -> dict[str, str]:
    records = httpx.get(f"{live.base_url}/_sim/requests").json()["data"]
    return dict(records[-1]["headers"])


def test_betas_and_the_version_are_recorded_as_sent(
    sdk: anthropic.Anthropic, live: RunningSimulator
) -> None:
    betas = ["prompt-caching-2024-07-31", "context-1m-2025-08-07"]
    sdk.beta.messages.create(model=SONNET, max_tokens=20, messages=HELLO, betas=betas)
    headers = last_headers(live)
    assert headers["anthropic-beta"] == ",".join(betas)
    assert headers["anthropic-version"]
    counted = sdk.beta.messages.count_tokens(model=SONNET, messages=HELLO, betas=betas[:1])
    assert counted.input_tokens > 0
    assert betas[0] in last_headers(live)["anthropic-beta"].split(",")


def test_a_version_that_is_not_a_date_is_refused(sdk: anthropic.Anthropic) -> None:
    with pytest.raises(anthropic.BadRequestError) as refused:
        sdk.messages.create(
            model=SONNET,
            max_tokens=20,
            messages=HELLO,
            extra_headers={"anthropic-version": "latest"},
        )
    message = refused.value.body["error"]["message"]  # type: ignore[index]
    assert message == 'anthropic-version: "latest" is not a valid version'


def test_a_malformed_beta_is_refused_as_anthropic_refuses_an_unknown_one(
    sdk: anthropic.Anthropic,
) -> None:
    with pytest.raises(anthropic.BadRequestError) as refused:
        sdk.messages.count_tokens(
            model=SONNET,
            messages=HELLO,
            extra_headers={"anthropic-beta": "files-api-2025-04-14, Not A Beta"},
        )
    message = refused.value.body["error"]["message"]  # type: ignore[index]
    assert message.startswith("Unexpected value(s) `Not A Beta` for the `anthropic-beta` header")
