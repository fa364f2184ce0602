"""A canary key and token, used through a whole scenario, are found nowhere afterwards."""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from chatgrid.identity.passwords import hash_password
from tests.support.deployment import Deployment, database_text, deployment_with
from tests.support.processes import RunningProcess
from tests.support.waiting import wait_for
from tests.support.workspace import PASSWORD, Member, sign_in

METRICS_TOKEN = f"metrics-canary-{secrets.token_hex(16)}"


@pytest.fixture
def own_deployment(
    tmp_path: Path, postgres_database: str | None, simulator: RunningProcess
) -> Iterator[Deployment]:
    metrics = {"CHATGRID_METRICS_TOKEN": METRICS_TOKEN}
    yield from deployment_with(tmp_path, postgres_database, simulator, metrics)


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
        workspace = the_workspace_in_use(deployment, seen)
        call("POST", "/chat/completions", json={**chat, "stream": True})
        call("POST", "/embeddings", json={"model": "text-embedding-3-small", "input": "x"})
        call("GET", "/models")
        service_tokens = the_service_accounts_in_use(deployment, seen)
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
        refused = workspace.api("GET", f"/api/orgs/{workspace.org_id}/models")
        seen.extend([refused.text, json.dumps(dict(refused.headers))])
        for bearer in (METRICS_TOKEN, "wrong"):  # /metrics, and a wrong token's refusal
            scraped = http.get(f"{deployment.instance.base_url}/metrics", headers=_bearer(bearer))
            seen.extend([scraped.text, json.dumps(dict(scraped.headers))])
            assert scraped.status_code == (200 if bearer == METRICS_TOKEN else 401)
        assert "chatgrid_requests_total{" in seen[-4]  # one process: its own registry
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
        "password": PASSWORD.encode(),
        "metrics token": METRICS_TOKEN.encode(),
        **{f"service token {i}": t[12:].encode() for i, t in enumerate(service_tokens)},
    }
    for where, haystack in haystacks.items():
        assert haystack, f"nothing collected from {where}"
        for what, needle in needles.items():
            assert needle not in haystack, f"the canary {what} leaked into the {where}"


def the_service_accounts_in_use(deployment: Deployment, seen: list[str]) -> list[str]:
    """A v1 and an admin service account used, refused where they do not belong, rotated,
    listed and revoked; their tokens are returned for the search."""

    def command(*args: str) -> dict[str, str]:
        result = deployment.instance.cli("service-account", *args)
        assert result.returncode == 0, result.stderr
        return dict(json.loads(result.stdout))

    # Shown once, on purpose: these answers are not searched.
    v1 = command("create", "canary-org", "canary-bot", "--scope", "v1")["token"]
    admin = command("create", "canary-org", "canary-admin", "--scope", "admin")["token"]
    rotated = command("rotate", "canary-org", "canary-bot")["token"]
    org_id = deployment.context.orgs.get("canary-org").id
    api = f"{deployment.instance.base_url}/api/orgs/{org_id}"
    chat = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]}
    with httpx.Client(timeout=30) as http:
        answers = [
            http.post(f"{deployment.v1}/chat/completions", json=chat, headers=_bearer(rotated)),
            http.post(f"{deployment.v1}/chat/completions", json=chat, headers=_bearer(v1)),
            http.post(f"{deployment.v1}/chat/completions", json=chat, headers=_bearer(admin)),
            http.get(f"{api}/members", headers=_bearer(admin)),
            http.get(f"{api}/service-accounts", headers=_bearer(admin)),
            http.get(f"{api}/members", headers=_bearer(rotated)),
        ]
    assert [a.status_code for a in answers] == [200, 401, 401, 200, 200, 403]
    for answer in answers:
        seen.extend([answer.text, json.dumps(dict(answer.headers))])
    for args in (("list", "canary-org"), ("revoke", "canary-org", "canary-admin")):
        result = deployment.instance.cli("service-account", *args)
        seen.extend([result.stdout, result.stderr])
    return [v1, admin, rotated]


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def the_workspace_in_use(deployment: Deployment, seen: list[str]) -> Member:
    """Carol signs in and uses chat and documents; every answer goes into ``seen``."""
    org_id = deployment.context.orgs.get("canary-org").id
    carol = deployment.context.members.find_by_email(org_id, "carol@example.com")
    deployment.context.accounts.set_password(carol.user_id, hash_password(PASSWORD))
    member = sign_in(deployment, org_id, "carol@example.com")
    base = f"/api/orgs/{org_id}"
    conversation = member.conversation()
    events = member.ask(conversation, "[sim:slow=1] hello")
    seen.append(json.dumps(events))
    collection = member.api("POST", f"{base}/collections", json={"name": "c", "scope": "org"})
    upload = member.api(
        "POST",
        f"{base}/collections/{collection.json()['id']}/documents",
        files={"file": ("notes.md", b"# Notes\n\nThe canary sings at dawn.", "text/markdown")},
    )
    document_url = f"{base}/documents/{upload.json()['id']}"

    def ingested() -> httpx.Response | None:
        response = member.api("GET", document_url)
        return response if response.json()["status"] in ("ready", "failed") else None

    document = wait_for(ingested)
    assert document.json()["status"] == "ready"
    cited = member.ask(
        conversation, "When does it sing? [sim:cite]", collection_ids=[collection.json()["id"]]
    )
    for response in (collection, upload, document):
        seen.extend([response.text, json.dumps(dict(response.headers))])
    assert cited[-1][1]["message"]["citations"]
    seen.append(json.dumps(cited))
    seen.append(member.client.get(f"/orgs/{org_id}/chat/{conversation}").text)
    seen.append(member.api("GET", f"{base}/conversations/{conversation}").text)
    return member
