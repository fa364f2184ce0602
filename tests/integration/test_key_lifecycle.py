"""Connect, rotate, revoke and rejection of an org's key, against a running server."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import openai
import pytest

from chatgrid.store.tables import credentials
from tests.support.deployment import Deployment
from tests.support.ledger_checks import ledger

MESSAGES = [{"role": "user", "content": "hello"}]


def sdk(deployment: Deployment, token: str) -> openai.OpenAI:
    return openai.OpenAI(base_url=deployment.v1, api_key=token, max_retries=0)


def calls_with_key(deployment: Deployment, key: str) -> int:
    return sum(
        1
        for r in deployment.simulator_records()
        if r["api_key"] == key and r["path"].endswith("/chat/completions")
    )


def test_a_key_revoked_through_the_cli_is_refused_at_once(deployment: Deployment) -> None:
    org = deployment.new_org()
    assert org.key is not None
    client = sdk(deployment, org.token)
    client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
    result = deployment.instance.cli("credential", "revoke", org.name)
    assert result.returncode == 0, result.stderr
    before = calls_with_key(deployment, org.key)
    for _ in range(5):
        with pytest.raises(openai.PermissionDeniedError, match="not connected an OpenAI key"):
            client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
    assert calls_with_key(deployment, org.key) == before


def test_rotation_switches_every_new_call_to_the_new_key(deployment: Deployment) -> None:
    org = deployment.new_org()
    client = sdk(deployment, org.token)
    client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
    new_key = "sk-rotated-0123456789"
    result = deployment.instance.cli(
        "credential",
        "set",
        org.name,
        "--base-url",
        f"{deployment.simulator.base_url}/v1",
        input=new_key,
    )
    assert result.returncode == 0, result.stderr
    client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
    fingerprints = [e["credential_fingerprint"] for e in ledger(deployment, org.id)]
    assert len(set(fingerprints)) == 2
    assert calls_with_key(deployment, new_key) == 1


def test_a_revoked_token_is_refused_at_once(deployment: Deployment) -> None:
    org = deployment.new_org()
    client = sdk(deployment, org.token)
    client.models.list()
    [token] = deployment.context.tokens.list(org.id)
    result = deployment.instance.cli("token", "revoke", org.name, token.id)
    assert result.returncode == 0, result.stderr
    with pytest.raises(openai.AuthenticationError):
        client.models.list()


def test_an_upstream_401_is_told_plainly_and_marks_the_key_broken(
    deployment: Deployment,
) -> None:
    org = deployment.new_org()
    assert org.key is not None
    client = sdk(deployment, org.token)
    client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
    # The key is revoked at "OpenAI", not in ChatGrid.
    httpx.post(f"{deployment.simulator.base_url}/_sim/keys/revoke", json={"key": org.key})
    with pytest.raises(openai.PermissionDeniedError, match="key was rejected"):
        client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
    current = deployment.context.credentials.current(org.id)
    assert current is not None and current.status == "broken"
    calls = calls_with_key(deployment, org.key)
    with pytest.raises(openai.PermissionDeniedError, match="key was rejected"):
        client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
    assert calls_with_key(deployment, org.key) == calls  # no more calls on a dead key
    assert ledger(deployment, org.id)[-1]["outcome"] == "upstream_key_rejected"


def test_an_upstream_403_counts_as_a_rejected_key_and_says_403(deployment: Deployment) -> None:
    org = deployment.new_org()
    client = sdk(deployment, org.token)
    restricted = [{"role": "user", "content": "Hi [sim:403]"}]
    with pytest.raises(openai.PermissionDeniedError, match="key was rejected"):
        client.chat.completions.create(model="gpt-4o-mini", messages=restricted)
    current = deployment.context.credentials.current(org.id)
    assert current is not None and current.status == "broken"
    assert current.status_reason is not None and "HTTP 403" in current.status_reason
    assert ledger(deployment, org.id)[-1]["outcome"] == "upstream_key_rejected"


def test_a_ciphertext_copied_into_another_orgs_row_does_not_open(
    deployment: Deployment,
) -> None:
    victim = deployment.new_org()
    thief = deployment.new_org()
    with deployment.context.engine.begin() as conn:
        row = (
            conn.execute(
                credentials.select().where(
                    credentials.c.org_id == victim.id, credentials.c.status == "active"
                )
            )
            .mappings()
            .one()
        )
        conn.execute(
            credentials.update()
            .where(credentials.c.org_id == thief.id, credentials.c.status == "active")
            .values(
                wrapped_key=row["wrapped_key"],
                nonce=row["nonce"],
                ciphertext=row["ciphertext"],
                master_key_version=row["master_key_version"],
            )
        )
    deployment.context.changes.bump()
    with pytest.raises(openai.PermissionDeniedError, match="cannot be used"):
        sdk(deployment, thief.token).chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
    victim_calls = calls_with_key(deployment, victim.key or "")
    sdk(deployment, victim.token).chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
    assert calls_with_key(deployment, victim.key or "") == victim_calls + 1


def test_a_byok_org_never_falls_back_to_the_pool(deployment: Deployment) -> None:
    org = deployment.new_org()
    deployment.instance.cli("credential", "revoke", org.name)
    pool_calls_before = len(deployment.simulator_records())
    with pytest.raises(openai.PermissionDeniedError):
        sdk(deployment, org.token).chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
    assert len(deployment.simulator_records()) == pool_calls_before


def test_a_model_the_provider_does_not_list_is_openais_404(deployment: Deployment) -> None:
    """Asked of the provider, not refused from the list saved at connect (model-lists.md)."""
    org = deployment.new_org()
    with pytest.raises(openai.NotFoundError, match="does not exist") as missing:
        sdk(deployment, org.token).chat.completions.create(model="davinci-9000", messages=MESSAGES)
    assert missing.value.code == "model_not_found"


def stream_during(
    deployment: Deployment, token: str, tokens: int, action: Callable[[], None]
) -> list[str]:
    """Start a slow stream, run ``action`` once the first chunk arrived, return the rest."""
    body = {
        "model": "gpt-4o-mini",
        "stream": True,
        "messages": [{"role": "user", "content": f"slow [sim:tokens={tokens}] [sim:slow=100]"}],
    }
    headers = {"Authorization": f"Bearer {token}"}
    with (
        httpx.Client(timeout=30) as http,
        http.stream("POST", f"{deployment.v1}/chat/completions", json=body, headers=headers) as r,
    ):
        events = r.iter_lines()
        assert next(events).startswith("data: ")
        action()
        return [line for line in events if line]


def cli_ok(deployment: Deployment, *args: str, input: str | None = None) -> None:
    result = deployment.instance.cli(*args, input=input)
    assert result.returncode == 0, result.stderr


def test_a_revocation_cuts_streams_in_flight_with_an_error_event(deployment: Deployment) -> None:
    org = deployment.new_org()
    rest = stream_during(
        deployment, org.token, 100, lambda: cli_ok(deployment, "credential", "revoke", org.name)
    )
    assert "credential_revoked" in rest[-1]
    assert len(rest) < 50  # the upstream would have sent 100 tokens over 10 s
    [entry] = ledger(deployment, org.id)
    assert entry["outcome"] == "credential_revoked"


def test_a_rotation_lets_streams_in_flight_finish(deployment: Deployment) -> None:
    org = deployment.new_org()
    upstream = f"{deployment.simulator.base_url}/v1"
    rest = stream_during(
        deployment,
        org.token,
        15,
        lambda: cli_ok(
            deployment,
            "credential",
            "set",
            org.name,
            "--base-url",
            upstream,
            input="sk-rotated-while-streaming",
        ),
    )
    assert rest[-1] == "data: [DONE]"
    assert ledger(deployment, org.id)[0]["outcome"] == "ok"


def test_a_rotation_under_steady_load_fails_no_request(deployment: Deployment) -> None:
    import threading

    org = deployment.new_org()
    statuses: list[int] = []
    stop = threading.Event()

    def load() -> None:
        with httpx.Client(timeout=30) as http:
            while not stop.is_set():
                reply = http.post(
                    f"{deployment.v1}/chat/completions",
                    headers={"Authorization": f"Bearer {org.token}"},
                    json={"model": "gpt-4o-mini", "messages": MESSAGES, "stream": True},
                )
                statuses.append(reply.status_code if reply.text.endswith("[DONE]\n\n") else 0)

    workers = [threading.Thread(target=load) for _ in range(4)]
    for worker in workers:
        worker.start()
    try:
        for n in range(3):
            result = deployment.instance.cli(
                "credential",
                "set",
                org.name,
                "--base-url",
                f"{deployment.simulator.base_url}/v1",
                input=f"sk-rotation-{n}-abcdefgh",
            )
            assert result.returncode == 0, result.stderr
    finally:
        stop.set()
        for worker in workers:
            worker.join()
    assert statuses and set(statuses) == {200}
    fingerprints = {e["credential_fingerprint"] for e in ledger(deployment, org.id)}
    assert len(fingerprints) >= 2  # calls ran on several keys, none failed
