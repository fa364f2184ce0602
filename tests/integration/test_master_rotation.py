"""``vault rotate-master`` rewraps every key while the server keeps serving."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from chatgrid.store.credentials import master_versions_in_use
from tests.support.deployment import Deployment, start_deployment
from tests.support.processes import RunningProcess


@pytest.fixture
def own_deployment(
    tmp_path: Path, postgres_database: str | None, simulator: RunningProcess
) -> Iterator[Deployment]:
    yield from start_deployment(tmp_path, postgres_database, simulator)


def test_rotation_under_load_fails_no_request(own_deployment: Deployment) -> None:
    deployment = own_deployment
    orgs = [deployment.new_org() for _ in range(3)]
    statuses: list[int] = []
    stop = threading.Event()

    def load() -> None:
        with httpx.Client(timeout=30) as http:
            while not stop.is_set():
                for org in orgs:
                    reply = http.post(
                        f"{deployment.v1}/chat/completions",
                        headers={"Authorization": f"Bearer {org.token}"},
                        json={
                            "model": "gpt-4o-mini",
                            "messages": [{"role": "user", "content": "x"}],
                        },
                    )
                    statuses.append(reply.status_code)

    worker = threading.Thread(target=load)
    worker.start()
    try:
        result = deployment.instance.cli("vault", "rotate-master")
    finally:
        stop.set()
        worker.join()
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["rewrapped"] == 3
    assert statuses and set(statuses) == {200}
    # Only the new master remains, and a fresh process can still open every key.
    ring = json.loads((deployment.instance.data_dir / "master.key").read_text())
    assert list(ring["keys"]) == ["2"]
    assert master_versions_in_use(deployment.context.engine) == {2}
    deployment.instance.stop()
    deployment.instance.start()
    reply = httpx.post(
        f"{deployment.v1}/chat/completions",
        headers={"Authorization": f"Bearer {orgs[0].token}"},
        json={"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "after"}]},
    )
    assert reply.status_code == 200
