"""How a stream that stops moving is ledgered: the upstream's timeout, or the drain's.

Two different stories, two outcomes: ``upstream_timeout`` when the upstream
stalled past ``CHATGRID_UPSTREAM_TIMEOUT_SECONDS`` (whether or not the
client was still there), ``drain_timeout`` when the client had gone and the
gateway gave up reading on for the usage.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.support.deployment import (
    DatabaseFactory,
    Deployment,
    deployment_with,
)
from tests.support.ledger_checks import ledger
from tests.support.processes import RunningProcess
from tests.support.waiting import wait_for

UPSTREAM_TIMEOUT_SECONDS = 4
DRAIN_TIMEOUT_SECONDS = 0.5


@pytest.fixture(scope="module")
def impatient(
    tmp_path_factory: pytest.TempPathFactory,
    new_database: DatabaseFactory,
    simulator: RunningProcess,
) -> Iterator[Deployment]:
    """A server that waits little on upstreams and on abandoned streams."""
    yield from deployment_with(
        tmp_path_factory.mktemp("impatient"),
        new_database(),
        simulator,
        {
            "CHATGRID_UPSTREAM_TIMEOUT_SECONDS": str(UPSTREAM_TIMEOUT_SECONDS),
            "CHATGRID_DRAIN_TIMEOUT_SECONDS": str(DRAIN_TIMEOUT_SECONDS),
        },
    )


def stream_body(directives: str) -> dict[str, object]:
    return {
        "model": "gpt-4o-mini",
        "stream": True,
        "messages": [{"role": "user", "content": f"stall {directives}"}],
    }


def test_a_stream_the_upstream_stalls_past_its_timeout_is_ledgered_as_an_upstream_timeout(
    impatient: Deployment,
) -> None:
    org = impatient.new_org()
    headers = {"Authorization": f"Bearer {org.token}"}
    # The first event comes at once, the next long after the upstream timeout.
    body = stream_body(f"[sim:tokens=3] [sim:slow={UPSTREAM_TIMEOUT_SECONDS * 3000}]")
    with (
        httpx.Client(timeout=60) as http,
        http.stream("POST", f"{impatient.v1}/chat/completions", json=body, headers=headers) as r,
    ):
        assert r.status_code == 200
        lines = [line for line in r.iter_lines() if line]
    assert lines[-1] != "data: [DONE]"
    assert '"error"' in lines[-1]  # the client, still there, is told the stream broke off
    [entry] = ledger(impatient, org.id)
    assert entry["outcome"] == "upstream_timeout"
    assert entry["usage_estimated"]


def test_a_stream_abandoned_by_its_client_that_outlasts_the_drain_is_a_drain_timeout(
    impatient: Deployment,
) -> None:
    org = impatient.new_org()
    headers = {"Authorization": f"Bearer {org.token}"}
    # 100 events 300 ms apart: the drain (0.5 s) runs out long before the stream or its timeout.
    body = stream_body("[sim:tokens=100] [sim:slow=300]")
    with (
        httpx.Client(timeout=60) as http,
        http.stream("POST", f"{impatient.v1}/chat/completions", json=body, headers=headers) as r,
    ):
        assert next(r.iter_lines()).startswith("data: ")
    [entry] = wait_for(lambda: ledger(impatient, org.id))
    assert entry["outcome"] == "drain_timeout"
