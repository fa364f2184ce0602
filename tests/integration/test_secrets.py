"""A canary key and token, used through a whole scenario, are found nowhere afterwards."""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text

from chatgrid.store.tables import metadata
from tests.conftest import Deployment, start_deployment
from tests.support.processes import RunningProcess


@pytest.fixture
def own_deployment(
    tmp_path: Path, postgres_database: str | None, simulator: RunningProcess
) -> Iterator[Deployment]:
    yield from start_deployment(tmp_path, postgres_database, simulator)


def database_text(deployment: Deployment) -> bytes:
    """Everything the database holds: the raw SQLite files, or every PostgreSQL row as text."""
    engine = deployment.context.engine
    if engine.dialect.name == "sqlite":
        data_dir = deployment.instance.data_dir
        return b"".join(p.read_bytes() for p in data_dir.glob("chatgrid.db*"))
    dump = []
    with engine.connect() as conn:
        for table in [*metadata.sorted_tables]:
            rows = conn.execute(text(f"SELECT t::text FROM {table.name} t")).scalars()  # noqa: S608
            dump.extend(rows)
    return "\n".join(dump).encode()


def test_canary_key_and_token_leak_nowhere(own_deployment: Deployment) -> None:
    deployment = own_deployment
    sim = deployment.simulator.base_url
    canary_key = f"sk-canary-{secrets.token_hex(16)}"
    rotated_key = f"sk-canary2-{secrets.token_hex(16)}"
    rejected_key = f"sk-canary3-{secrets.token_hex(16)}"
    seen: list[str] = []  # everything ChatGrid said to anyone

    def cli(*args: str, input: str | None = None, ok: bool = True) -> str:
        result = deployment.instance.cli(*args, input=input)
        seen.extend([result.stdout, result.stderr])
        assert (result.returncode == 0) == ok, result.stderr
        return result.stdout

    cli("org", "create", "canary-org", "--mode", "byok")
    cli("member", "add", "canary-org", "carol@example.com", "--role", "owner")
    created = deployment.instance.cli("token", "create", "canary-org", "carol@example.com")
    token = json.loads(created.stdout)["token"]  # shown once, on purpose: not searched
    httpx.post(f"{sim}/_sim/keys/revoke", json={"key": rejected_key})
    cli("credential", "set", "canary-org", "--base-url", f"{sim}/v1", input=rejected_key, ok=False)
    cli("credential", "set", "canary-org", "--base-url", f"{sim}/v1", input=canary_key)
    cli("credential", "show", "canary-org")

    headers = {"Authorization": f"Bearer {token}"}
    url = deployment.v1
    with httpx.Client(timeout=30) as http:

        def call(method: str, path: str, **kwargs: object) -> None:
            response = http.request(method, f"{url}{path}", headers=headers, **kwargs)  # type: ignore[arg-type]
            seen.append(response.text)
            seen.append(json.dumps(dict(response.headers)))

        chat = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]}
        call("POST", "/chat/completions", json=chat)
        call("POST", "/chat/completions", json={**chat, "stream": True})
        call("POST", "/embeddings", json={"model": "text-embedding-3-small", "input": "x"})
        call("GET", "/models")
        call(
            "POST",
            "/chat/completions",
            json={**chat, "messages": [{"role": "user", "content": "x [sim:429]"}]},
        )
        call("POST", "/chat/completions", json={**chat, "model": "nope"})
        call("POST", "/chat/completions", content=b"{broken")
        cli("credential", "set", "canary-org", "--base-url", f"{sim}/v1", input=rotated_key)
        call("POST", "/chat/completions", json=chat)
        httpx.post(f"{sim}/_sim/keys/revoke", json={"key": rotated_key})  # revoked at "OpenAI"
        call("POST", "/chat/completions", json=chat)
        cli("vault", "rotate-master")
        cli("credential", "revoke", "canary-org")  # a broken key can be revoked too
        call("POST", "/chat/completions", json=chat)
    cli("usage", "canary-org", "--format", "json")
    cli("usage", "canary-org", "--format", "csv")
    cli("token", "list", "canary-org")

    deployment.instance.stop()
    assert deployment.instance.server is not None
    haystacks = {
        "what ChatGrid said": "\n".join(seen).encode(),
        "server log": deployment.instance.server.log_text().encode(),
        "database": database_text(deployment),
        "data dir": b"".join(
            p.read_bytes() for p in deployment.instance.data_dir.rglob("*") if p.is_file()
        ),
    }
    needles = {
        "key": canary_key[:-4].encode(),
        "rotated key": rotated_key[:-4].encode(),
        "rejected key": rejected_key[:-4].encode(),
        "token": token[12:].encode(),
    }
    for where, haystack in haystacks.items():
        assert haystack, f"nothing collected from {where}"
        for what, needle in needles.items():
            assert needle not in haystack, f"the canary {what} leaked into the {where}"
