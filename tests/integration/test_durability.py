"""The ledger entry is committed before the client sees the end of the response."""

from __future__ import annotations

import signal
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.deployment import Deployment, start_deployment
from tests.support.ledger_checks import assert_ledger_matches_upstream
from tests.support.processes import RunningProcess


@pytest.fixture
def own_deployment(
    tmp_path: Path, postgres_database: str | None, simulator: RunningProcess
) -> Iterator[Deployment]:
    yield from start_deployment(tmp_path, postgres_database, simulator)


def test_kill_9_right_after_the_last_byte_loses_no_entry(own_deployment: Deployment) -> None:
    deployment = own_deployment
    org = deployment.new_org()
    headers = {"Authorization": f"Bearer {org.token}"}
    url = f"{deployment.v1}/chat/completions"
    with httpx.Client(timeout=30) as http:
        for i in range(20):
            reply = http.post(
                url,
                headers=headers,
                json={"model": "gpt-4o-mini", "messages": [{"role": "user", "content": f"q{i}"}]},
            )
            assert reply.status_code == 200
        for i in range(10):
            body = {
                "model": "gpt-4o-mini",
                "stream": True,
                "messages": [{"role": "user", "content": f"s{i} [sim:tokens=5]"}],
            }
            with http.stream("POST", url, headers=headers, json=body) as response:
                received = b"".join(response.iter_raw())
            assert received.endswith(b"data: [DONE]\n\n")
        assert deployment.instance.server is not None
        deployment.instance.server.process.send_signal(signal.SIGKILL)
        deployment.instance.server.process.wait()
    entries = assert_ledger_matches_upstream(deployment, org.id)
    assert len(entries) == 30
    assert sum(e["stream"] for e in entries) == 10


def test_writing_the_same_call_twice_keeps_one_entry(own_deployment: Deployment) -> None:
    from datetime import UTC, datetime

    from chatgrid.store.ledger_writer import write_entries
    from tests.support.ledger_rows import entry

    once = entry("org_x", "mem_x", datetime.now(UTC), charged=0)
    with own_deployment.context.engine.connect() as conn:
        write_entries(conn, [once])
        write_entries(conn, [once, once])
    assert len(own_deployment.context.usage.entries("org_x")) == 1
