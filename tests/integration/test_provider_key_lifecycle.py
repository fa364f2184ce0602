"""Every provider's key has the whole lifecycle of the OpenAI key (issue 14): an Anthropic
key, a Gemini key and a named OpenAI-compatible server ("ollama") are each rotated under
load with no failed call, revoked on one replica and refused on the other when the command
returns, marked broken when the upstream answers 401, and refused on connect when wrong
— and each time the org's other keys keep serving.

Every org holds four keys: OpenAI (which does not see ``ONLY_LOCAL``), Anthropic, Gemini and
the server "ollama" (the only key that serves ``ONLY_LOCAL``). The official SDKs call over
real HTTP; the simulator records which key each upstream call carried.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partialmethod

import anthropic
import httpx
import openai
import pytest
from anthropic.types import MessageParam

from chatgrid.admin import keys, people
from chatgrid.context import AppContext
from chatgrid.identity.models import BillingMode, Role
from chatgrid.providers.base import Provider, UpstreamConfig
from tests.support.cluster import Cluster, running_cluster
from tests.support.deployment import DatabaseFactory, Deployment, start_deployment
from tests.support.ledger_checks import ledger
from tests.support.processes import ChatGridInstance, RunningProcess

CLAUDE = "claude-sonnet-4-5-20250929"
GEMINI = "gemini-2.5-flash"
#: Withheld from the org's OpenAI key, so only its "ollama" server serves it.
ONLY_LOCAL = "gpt-4.1-nano"
OPENAI_MODEL = "gpt-4o-mini"


@dataclass(frozen=True)
class Case:
    """One of the org's non-OpenAI keys: how it is connected and what it serves."""

    provider: Provider
    name: str  # "" but for the OpenAI-compatible server
    model: str
    base_path: str  # the key's base URL on the simulator
    call_path: str  # what the simulator sees for one call on it

    def options(self) -> list[str]:
        named = ["--name", self.name] if self.name else []
        return ["--provider", self.provider.value, *named]


CASES = [
    Case(Provider.ANTHROPIC, "", CLAUDE, "", "/v1/messages"),
    Case(Provider.GEMINI, "", GEMINI, "/v1beta/openai", "/v1beta/openai/chat/completions"),
    Case(Provider.OPENAI_COMPATIBLE, "ollama", ONLY_LOCAL, "/v1", "/v1/chat/completions"),
]
IDS = [case.provider.value for case in CASES]


@dataclass
class Org:
    id: str
    name: str
    token: str
    openai_key: str
    keys: dict[Provider, str]  # the key connected for each case's provider


def org_with_every_key(ctx: AppContext, simulator_url: str) -> Org:
    """A BYOK org with an OpenAI key and one key per case, connected as `credential set` does."""
    name = f"plk-{secrets.token_hex(4)}"
    org = people.create_org(ctx, name, BillingMode.BYOK)
    email = f"alice-{secrets.token_hex(3)}@example.com"
    people.add_member(ctx, org.id, email, Role.OWNER)
    _, token = people.create_token(ctx, org.id, email)
    openai_key = f"sk-oai-{secrets.token_hex(8)}"
    httpx.post(
        f"{simulator_url}/_sim/keys/models", json={"key": openai_key, "withhold": [ONLY_LOCAL]}
    ).raise_for_status()
    connect(ctx, org.id, Provider.OPENAI, "", f"{simulator_url}/v1", openai_key)
    connected: dict[Provider, str] = {}
    for case in CASES:
        key = f"sk-{case.provider.value}-{secrets.token_hex(8)}"
        connect(ctx, org.id, case.provider, case.name, simulator_url + case.base_path, key)
        connected[case.provider] = key
    return Org(org.id, name, token, openai_key, connected)


def connect(
    ctx: AppContext, org_id: str, provider: Provider, name: str, base_url: str, key: str
) -> None:
    config = UpstreamConfig.create(provider, base_url=base_url)
    asyncio.run(keys.set_credential(ctx, org_id, config, key, actor="test", name=name))


def records(simulator_url: str) -> list[dict[str, object]]:
    return httpx.get(f"{simulator_url}/_sim/requests").json()["data"]  # type: ignore[no-any-return]


def upstream_calls(simulator_url: str, path: str, *with_keys: str) -> list[dict[str, object]]:
    """The simulator's records of calls (not model listings) on ``path`` with these keys."""
    return [r for r in records(simulator_url) if r["path"] == path and r["api_key"] in with_keys]


def chat(base_url: str, token: str, model: str, *, stream: bool = False) -> None:
    """One chat completion through the openai SDK; raises unless it finished."""
    client = openai.OpenAI(base_url=f"{base_url}/v1", api_key=token, max_retries=0)
    if not stream:
        reply = client.chat.completions.create(
            model=model, messages=[{"role": "user", "content": "hello"}]
        )
        assert reply.choices[0].message.content
        return
    chunks = list(
        client.chat.completions.create(
            model=model,
            messages=[{"role": "user", "content": "hello [sim:tokens=5]"}],
            stream=True,
            stream_options={"include_usage": True},
        )
    )
    assert any(c.choices and c.choices[0].finish_reason for c in chunks)


def message(base_url: str, token: str, *, stream: bool = False) -> None:
    """One Claude message through the anthropic SDK on /v1/messages."""
    client = anthropic.Anthropic(base_url=base_url, api_key=token, max_retries=0)
    ask: MessageParam = {"role": "user", "content": "hello [sim:tokens=5]"}
    if not stream:
        reply = client.messages.create(model=CLAUDE, max_tokens=50, messages=[ask])
        assert reply.stop_reason == "end_turn"
        return
    with client.messages.stream(model=CLAUDE, max_tokens=50, messages=[ask]) as streamed:
        assert streamed.get_final_message().usage.output_tokens == 5


def the_calls(case: Case) -> list[Callable[[str, str], None]]:
    """The kinds of call a case's key serves: chat completions (whole and streamed), and
    for Anthropic also the native Messages API (whole and streamed)."""
    kinds: list[Callable[[str, str], None]] = [
        lambda url, token: chat(url, token, case.model),
        lambda url, token: chat(url, token, case.model, stream=True),
    ]
    if case.provider is Provider.ANTHROPIC:
        kinds += [
            lambda url, token: message(url, token),
            lambda url, token: message(url, token, stream=True),
        ]
    return kinds


def others_still_serve(base_url: str, org: Org, case: Case) -> None:
    """The org's OpenAI key and its other providers' keys answer as before."""
    chat(base_url, org.token, OPENAI_MODEL)
    for other in CASES:
        if other is not case:
            chat(base_url, org.token, other.model, stream=True)


def cli_ok(instance: ChatGridInstance, *args: str, input: str | None = None) -> str:
    result = instance.cli(*args, input=input)
    assert result.returncode == 0, result.stderr
    return result.stdout


def shown_keys(instance: ChatGridInstance, org: Org) -> dict[tuple[str, str], dict[str, object]]:
    shown = cli_ok(instance, "credential", "show", org.name)
    for key in [org.openai_key, *org.keys.values()]:
        assert key not in shown
    return {(k["provider"], k["name"]): k for k in json.loads(shown)["keys"]}


def stored_keys(ctx: AppContext, org: Org) -> dict[tuple[str, str], tuple[str, str]]:
    """(provider, name) → (fingerprint, status) of the org's keys, read from the database."""
    return {
        (k.config.provider.value, k.name): (k.sealed.fingerprint, k.status)
        for k in ctx.credentials.active(org.id)
    }


@pytest.fixture(scope="module")
def deployment(
    tmp_path_factory: pytest.TempPathFactory,
    new_database: DatabaseFactory,
    simulator: RunningProcess,
) -> Iterator[Deployment]:
    """One server for the module, given two minutes to come up on a loaded machine."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(ChatGridInstance, "start", partialmethod(ChatGridInstance.start, timeout=120))
        yield from start_deployment(
            tmp_path_factory.mktemp("deployment"), new_database(), simulator
        )


@pytest.fixture(scope="module")
def two_replicas(
    tmp_path_factory: pytest.TempPathFactory,
    new_database: DatabaseFactory,
    simulator: RunningProcess,
) -> Iterator[Cluster]:
    """Two replicas on one PostgreSQL database, linked by Redis only, for the module."""
    with running_cluster(
        tmp_path_factory.mktemp("cluster"), new_database(), simulator, count=2, start_timeout=120
    ) as cluster:
        cluster.context.prices.seed_defaults()
        yield cluster


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_a_rotation_under_steady_load_fails_no_call(deployment: Deployment, case: Case) -> None:
    url, sim = deployment.instance.base_url, deployment.simulator.base_url
    org = org_with_every_key(deployment.context, sim)
    old_keys = [org.keys[case.provider]]
    failures: list[str] = []
    succeeded: list[int] = []
    stop = threading.Event()
    first = threading.Event()

    def load(call: Callable[[str, str], None]) -> None:
        while not stop.is_set():
            try:
                call(url, org.token)
            except Exception as failure:  # every failure is the finding
                failures.append(repr(failure))
            else:
                succeeded.append(1)
                first.set()

    workers = [threading.Thread(target=load, args=(call,)) for call in the_calls(case)]
    for worker in workers:
        worker.start()
    try:
        assert first.wait(60), failures  # the first key carried calls before the rotation
        for n in range(2):
            new_key = f"sk-rotated-{n}-{secrets.token_hex(6)}"
            cli_ok(
                deployment.instance,
                "credential",
                "set",
                org.name,
                *case.options(),
                "--base-url",
                sim + case.base_path,
                input=new_key,
            )
            old_keys.append(new_key)
    finally:
        stop.set()
        for worker in workers:
            worker.join()
    assert failures == []
    new_key = old_keys.pop()
    before = upstream_calls(sim, case.call_path, *old_keys)
    for call in the_calls(case):  # every call that starts after the rotation: the new key
        call(url, org.token)
    assert upstream_calls(sim, case.call_path, *old_keys) == before
    on_new_key = upstream_calls(sim, case.call_path, new_key)
    assert len(on_new_key) >= len(the_calls(case))

    entries = ledger(deployment, org.id)
    assert len(entries) == len(succeeded) + len(the_calls(case))  # one row per call
    assert {e["outcome"] for e in entries} == {"ok"}
    assert {e["provider"] for e in entries} == {case.provider.value}
    every_call = upstream_calls(sim, case.call_path, *old_keys, new_key)
    assert sorted(e["upstream_request_id"] for e in entries) == sorted(
        str(r["id"]) for r in every_call
    )  # one row per upstream call, none without a row
    assert len({e["credential_fingerprint"] for e in entries}) >= 2
    stored = deployment.context.credentials.find(org.id, case.provider, case.name)
    assert stored is not None and stored.sealed.last4 == new_key[-4:]
    assert len(stored_keys(deployment.context, org)) == 4


def revoke_and_check(
    urls: list[str], revoker: ChatGridInstance, sim: str, org: Org, case: Case
) -> None:
    """Revoke the case's key through ``revoker``; the next calls on every server are refused,
    none reaches the upstream with the key, and the org's other keys keep serving."""
    revoked_key = org.keys[case.provider]
    for url in urls:  # each server has the key in use (and cached)
        chat(url, org.token, case.model)
        chat(url, org.token, OPENAI_MODEL)
    before = len(upstream_calls(sim, case.call_path, revoked_key))
    stdout = cli_ok(revoker, "credential", "revoke", org.name, *case.options())
    assert json.loads(stdout)["provider"] == case.provider.value

    def call(index: int) -> httpx.Response:
        return httpx.post(
            f"{urls[index % len(urls)]}/v1/chat/completions",
            json={"model": case.model, "messages": [{"role": "user", "content": "hello"}]},
            headers={"Authorization": f"Bearer {org.token}"},
            timeout=60,
        )

    with ThreadPoolExecutor(max_workers=8) as pool:
        replies = list(pool.map(call, range(20)))
    # No key serves the model now: OpenAI's own answer for a model that does not exist.
    assert [r.status_code for r in replies] == [404] * 20
    assert {r.json()["error"]["code"] for r in replies} == {"model_not_found"}
    if case.provider is Provider.ANTHROPIC:
        for url in urls:  # on the Messages API: Anthropic's shape, "no Anthropic key"
            with pytest.raises(anthropic.BadRequestError):
                message(url, org.token)
    assert len(upstream_calls(sim, case.call_path, revoked_key)) == before
    for url in urls:
        others_still_serve(url, org, case)


@pytest.mark.postgresql_only
@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_a_revocation_on_one_replica_is_in_force_on_the_other_when_it_returns(
    two_replicas: Cluster, case: Case
) -> None:
    sim = two_replicas.simulator.base_url
    org = org_with_every_key(two_replicas.context, sim)
    first, second = two_replicas.replicas
    revoke_and_check([second.base_url, first.base_url], first, sim, org, case)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_a_revoked_key_is_refused_at_once(deployment: Deployment, case: Case) -> None:
    """The single-server form of the above, for the SQLite pass too."""
    sim = deployment.simulator.base_url
    org = org_with_every_key(deployment.context, sim)
    revoke_and_check([deployment.instance.base_url], deployment.instance, sim, org, case)
    stored = stored_keys(deployment.context, org)
    assert (case.provider.value, case.name) not in stored and len(stored) == 3


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_a_key_the_upstream_answers_401_turns_broken_alone(
    deployment: Deployment, case: Case
) -> None:
    url, sim = deployment.instance.base_url, deployment.simulator.base_url
    org = org_with_every_key(deployment.context, sim)
    key = org.keys[case.provider]
    chat(url, org.token, case.model)
    httpx.post(f"{sim}/_sim/keys/revoke", json={"key": key}).raise_for_status()
    with pytest.raises(openai.PermissionDeniedError, match="key was rejected"):
        chat(url, org.token, case.model)
    calls = len(upstream_calls(sim, case.call_path, key))
    with pytest.raises(openai.PermissionDeniedError, match="key was rejected"):
        chat(url, org.token, case.model, stream=True)
    assert len(upstream_calls(sim, case.call_path, key)) == calls  # no more calls on a dead key
    shown = shown_keys(deployment.instance, org)
    broken = shown.pop((case.provider.value, case.name))
    assert broken["status"] == "broken" and broken["status_reason"]
    assert {k["status"] for k in shown.values()} == {"active"}
    assert ledger(deployment, org.id)[1]["outcome"] == "upstream_key_rejected"
    others_still_serve(url, org, case)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_a_wrong_key_is_refused_on_connect_and_nothing_is_stored(
    deployment: Deployment, case: Case
) -> None:
    url, sim = deployment.instance.base_url, deployment.simulator.base_url
    org = org_with_every_key(deployment.context, sim)
    before = stored_keys(deployment.context, org)
    wrong = f"sk-wrong-{secrets.token_hex(8)}"
    httpx.post(f"{sim}/_sim/keys/revoke", json={"key": wrong}).raise_for_status()
    for attempt in (wrong, "not-a-key-at-all"):
        refused = deployment.instance.cli(
            "credential",
            "set",
            org.name,
            *case.options(),
            "--base-url",
            sim + case.base_path,
            input=attempt,
        )
        assert refused.returncode != 0
        assert "rejected the key" in refused.stderr, refused.stderr
        assert attempt not in refused.stderr + refused.stdout
    assert stored_keys(deployment.context, org) == before  # the old key stays, untouched
    old = org.keys[case.provider]
    calls = len(upstream_calls(sim, case.call_path, old))
    chat(url, org.token, case.model)
    assert len(upstream_calls(sim, case.call_path, old)) == calls + 1

    newcomer = deployment.new_org()  # an org connecting this provider for the first time
    refused = deployment.instance.cli(
        "credential",
        "set",
        newcomer.name,
        *case.options(),
        "--base-url",
        sim + case.base_path,
        input=wrong,
    )
    assert refused.returncode != 0 and "rejected the key" in refused.stderr
    assert [k.config.provider for k in deployment.context.credentials.active(newcomer.id)] == [
        Provider.OPENAI
    ]
