"""Shared credits on Anthropic and Google Gemini: pooled keys of each provider get the
same weights, failover, budgets and alerts as OpenAI's, every call is charged from the
price book, and a pooled key only ever serves its own provider's models.

The clients are the official ``openai`` and ``anthropic`` SDKs over real HTTP; the
upstream is the simulator (Anthropic's Messages API, Gemini's OpenAI-compatible
endpoint), told to fail calls or to stop taking a key.
"""

from __future__ import annotations

import secrets
from collections import Counter
from collections.abc import Iterator
from functools import partialmethod
from pathlib import Path

import openai
import pytest

from chatgrid.admin import accounts
from chatgrid.audit import AuditFilter
from chatgrid.identity.models import BillingMode
from chatgrid.providers.base import Provider
from chatgrid.store.pool_keys import set_pool_key_models
from tests.support.console import PASSWORD
from tests.support.deployment import Deployment, deployment_with
from tests.support.ledger_checks import ledger, records_by_id
from tests.support.mail import Inbox, as_env, body_of, mail_settings, running_inbox
from tests.support.pool_providers import (
    CLAUDE,
    GEMINI,
    GPT,
    PooledKey,
    add_pooled_key,
    anthropic_client,
    ask,
    exact_charge,
    openai_client,
    revoke_upstream,
    schedule_fault,
    served_by,
    upstream_calls,
)
from tests.support.processes import ChatGridInstance, RunningProcess
from tests.support.waiting import wait_for

MODEL_OF = {Provider.ANTHROPIC: CLAUDE, Provider.GEMINI: GEMINI, Provider.OPENAI: GPT}
#: (provider, how the client calls): Claude through chat completions (translated) and
#: through the anthropic SDK's /v1/messages (passed through); Gemini through chat.
SURFACES = [
    pytest.param(Provider.ANTHROPIC, "chat", id="claude-chat"),
    pytest.param(Provider.ANTHROPIC, "messages", id="claude-messages"),
    pytest.param(Provider.GEMINI, "chat", id="gemini-chat"),
]


@pytest.fixture
def own_deployment(
    tmp_path: Path, postgres_database: str | None, simulator: RunningProcess
) -> Iterator[Deployment]:
    """A fresh server, so the pool is only this test's keys (two minutes to start)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(ChatGridInstance, "start", partialmethod(ChatGridInstance.start, timeout=120))
        yield from deployment_with(tmp_path, postgres_database, simulator, {})


@pytest.fixture
def mailing_deployment(
    tmp_path: Path, postgres_database: str | None, simulator: RunningProcess
) -> Iterator[tuple[Deployment, Inbox]]:
    """A fresh server that mails its operators through a local SMTP server."""
    with running_inbox() as (inbox, port), pytest.MonkeyPatch.context() as patch:
        patch.setattr(ChatGridInstance, "start", partialmethod(ChatGridInstance.start, timeout=120))
        smtp = mail_settings(port, public_url="https://chatgrid.example")
        for deployment in deployment_with(
            tmp_path, postgres_database, simulator, as_env(smtp), **smtp
        ):
            yield deployment, inbox


def test_weights_split_each_providers_traffic_between_its_two_pooled_keys(
    own_deployment: Deployment,
) -> None:
    deployment = own_deployment
    pooled = {
        (provider, weight): add_pooled_key(
            deployment, f"{provider.value}-w{weight}", provider, weight=weight, via_cli=True
        )
        for provider in (Provider.ANTHROPIC, Provider.GEMINI)
        for weight in (3, 1)
    }
    openai_key = add_pooled_key(deployment, "openai", Provider.OPENAI, via_cli=True)
    org = deployment.new_org(BillingMode.SHARED)
    for n in range(60):
        ask(deployment, org, CLAUDE, "messages" if n % 2 else "chat")
        ask(deployment, org, GEMINI)
    for _ in range(5):
        ask(deployment, org, GPT)

    served = served_by(deployment, org.id)
    for provider in (Provider.ANTHROPIC, Provider.GEMINI):
        heavy = served[pooled[provider, 3].fingerprint]
        light = served[pooled[provider, 1].fingerprint]
        assert heavy + light == 60, provider
        assert heavy > light >= 1, (provider, heavy, light)  # 3:1 by weight
    assert served[openai_key.fingerprint] == 5
    fingerprints = {k.fingerprint: k.provider.value for k in pooled.values()}
    fingerprints[openai_key.fingerprint] = "openai"
    for entry in ledger(deployment, org.id):
        assert entry["provider"] == fingerprints[entry["credential_fingerprint"]]
        assert entry["mode"] == "shared" and entry["outcome"] == "ok"


@pytest.mark.parametrize(("provider", "surface"), SURFACES)
def test_an_upstream_failure_moves_the_call_to_the_providers_other_key(
    own_deployment: Deployment, provider: Provider, surface: str
) -> None:
    deployment = own_deployment
    first = add_pooled_key(deployment, "first", provider)
    second = add_pooled_key(deployment, "second", provider)
    bystander = add_pooled_key(deployment, "bystander", Provider.OPENAI)
    org = deployment.new_org(BillingMode.SHARED)
    model = MODEL_OF[provider]
    for status in (429, 500, 503):
        schedule_fault(deployment, status)
        assert ask(deployment, org, model, surface)  # the client never sees the failure
        failed, answered = ledger(deployment, org.id)[-2:]
        upstream_status = 529 if (provider, status) == (Provider.ANTHROPIC, 503) else status
        assert failed["outcome"] == "pool_key_failover", failed
        assert failed["status_code"] == upstream_status
        assert failed["charged_micros"] == 0 and failed["list_cost_micros"] == 0
        assert answered["outcome"] == "ok" and answered["charged_micros"] > 0
        assert {failed["credential_fingerprint"], answered["credential_fingerprint"]} == {
            first.fingerprint,
            second.fingerprint,
        }
    entries = ledger(deployment, org.id)
    assert len(entries) == 6
    assert all(e["provider"] == provider.value for e in entries)
    assert not upstream_calls(deployment, [bystander])  # failover stays with the provider


@pytest.mark.parametrize(("provider", "surface"), SURFACES)
def test_a_key_the_provider_rejects_is_broken_alerted_and_its_calls_fail_over(
    mailing_deployment: tuple[Deployment, Inbox], provider: Provider, surface: str
) -> None:
    deployment, inbox = mailing_deployment
    ctx = deployment.context
    operator_email = f"ops-{secrets.token_hex(3)}@example.com"
    accounts.create_operator(ctx, operator_email, PASSWORD)
    doomed = add_pooled_key(deployment, "doomed", provider, weight=100)
    spare = add_pooled_key(deployment, "spare", provider, weight=1)
    org = deployment.new_org(BillingMode.SHARED)
    model = MODEL_OF[provider]
    revoke_upstream(deployment, doomed.secret)

    doomed_id = next(k.id for k in ctx.pool.list() if k.name == "doomed")
    for _ in range(10):  # weighed 100:1, the doomed key is all but sure to be tried first
        assert ask(deployment, org, model, surface)  # and no call fails for it
        if ctx.pool.get(doomed_id).status == "broken":
            break
    assert ctx.pool.get(doomed_id).status == "broken"
    for _ in range(4):
        assert ask(deployment, org, model, surface)

    entries = ledger(deployment, org.id)
    rejected = [e for e in entries if e["credential_fingerprint"] == doomed.fingerprint]
    assert [(e["status_code"], e["outcome"]) for e in rejected] == [(401, "pool_key_failover")]
    assert rejected[0]["charged_micros"] == 0
    answered = [e for e in entries if e["outcome"] == "ok"]
    assert len(answered) == len(entries) - 1
    assert {e["credential_fingerprint"] for e in answered} == {spare.fingerprint}

    audit = ctx.audit.entries(None, AuditFilter(action="pool_key.broken"))
    assert [e.target for e in audit] == [doomed_id]
    assert audit[0].details["fingerprint"] == doomed.fingerprint
    [(recipients, message)] = wait_for(lambda: inbox.messages)
    assert recipients == [operator_email]
    assert "doomed" in message["Subject"]
    body = body_of(message)
    assert doomed.fingerprint in body and "https://chatgrid.example/operator/pool" in body
    assert doomed.secret not in body and doomed.secret[-4:] not in body


@pytest.mark.parametrize(
    ("provider", "surface", "budget"),
    [
        pytest.param(Provider.ANTHROPIC, "chat", "rpm", id="claude-chat-rpm"),
        pytest.param(Provider.ANTHROPIC, "messages", "tpm", id="claude-messages-tpm"),
        pytest.param(Provider.GEMINI, "chat", "rpm", id="gemini-chat-rpm"),
        pytest.param(Provider.GEMINI, "chat", "tpm", id="gemini-chat-tpm"),
    ],
)
def test_a_spent_budget_moves_traffic_off_the_key_until_every_key_is_spent(
    own_deployment: Deployment, provider: Provider, surface: str, budget: str
) -> None:
    deployment = own_deployment
    model = MODEL_OF[provider]
    if budget == "rpm":
        tight = add_pooled_key(deployment, "tight", provider, weight=50, rpm=2)
        roomy = add_pooled_key(deployment, "roomy", provider, weight=1, rpm=4)
    else:  # one call's tokens (about 20) spend each key's minute
        tight = add_pooled_key(deployment, "tight", provider, weight=50, tpm=5)
        roomy = add_pooled_key(deployment, "roomy", provider, weight=1, tpm=5)
    openai_key = add_pooled_key(deployment, "openai", Provider.OPENAI, rpm=100)
    org = deployment.new_org(BillingMode.SHARED)
    calls = 6 if budget == "rpm" else 2
    for _ in range(calls):
        assert ask(deployment, org, model, surface)
    served = served_by(deployment, org.id)
    expected = {tight.fingerprint: 2, roomy.fingerprint: 4} if budget == "rpm" else None
    if expected is None:
        expected = {tight.fingerprint: 1, roomy.fingerprint: 1}
    assert served == expected

    with pytest.raises(openai.RateLimitError) as caught:
        openai_client(deployment, org).chat.completions.create(
            model=model, messages=[{"role": "user", "content": "one more"}]
        )
    response = caught.value.response
    assert 1 <= int(response.headers["retry-after"]) <= 60
    assert response.json()["error"]["code"] == "rate_limit_exceeded"
    assert "tight" not in response.text and "roomy" not in response.text
    # Nothing went upstream past a budget, and other providers' keys are untouched.
    assert Counter(e["outcome"] for e in ledger(deployment, org.id)) == {"ok": calls}
    assert ask(deployment, org, GPT)
    assert served_by(deployment, org.id)[openai_key.fingerprint] == 1


def test_claude_and_gemini_calls_are_charged_exactly_from_the_price_book(
    own_deployment: Deployment,
) -> None:
    deployment = own_deployment
    pooled = [
        add_pooled_key(deployment, "claude", Provider.ANTHROPIC, via_cli=True),
        add_pooled_key(deployment, "gemini", Provider.GEMINI, via_cli=True),
    ]
    org = deployment.new_org(BillingMode.SHARED)
    chat = openai_client(deployment, org)
    claude = anthropic_client(deployment, org)
    hello = [{"role": "user", "content": "hello there [sim:tokens=9]"}]
    for model in (CLAUDE, GEMINI):
        chat.chat.completions.create(model=model, messages=hello)  # type: ignore[arg-type]
        list(
            chat.chat.completions.create(
                model=model,
                messages=hello,  # type: ignore[arg-type]
                stream=True,
                stream_options={"include_usage": True},
            )
        )
    claude.messages.create(model=CLAUDE, max_tokens=50, messages=hello)  # type: ignore[arg-type]
    with claude.messages.stream(model=CLAUDE, max_tokens=50, messages=hello) as stream:  # type: ignore[arg-type]
        stream.get_final_message()

    entries = ledger(deployment, org.id)
    records = records_by_id(deployment)
    calls = upstream_calls(deployment, pooled)
    assert len(entries) == len(calls) == 6  # one row per upstream call
    assert sorted(e["upstream_request_id"] for e in entries) == sorted(r["id"] for r in calls)
    assert Counter(e["model"] for e in entries) == {CLAUDE: 4, GEMINI: 2}
    for entry in entries:
        usage = records[entry["upstream_request_id"]]["usage"]
        assert entry["outcome"] == "ok" and not entry["usage_estimated"], entry
        assert entry["mode"] == "shared" and entry["markup_bps"] > 0
        listed, charged = exact_charge(entry["model"], usage, entry["markup_bps"])
        assert entry["list_cost_micros"] == listed > 0, entry
        assert entry["charged_micros"] == charged > listed, entry
    total = sum(e["charged_micros"] for e in entries)
    assert deployment.context.usage.entries(org.id) and total > 0


def test_a_pooled_key_never_serves_another_providers_model(own_deployment: Deployment) -> None:
    """Even a key whose model list is empty (nothing to go by) serves only its provider."""
    deployment = own_deployment
    ctx = deployment.context
    pooled = {
        provider: add_pooled_key(deployment, provider.value, provider)
        for provider in (Provider.OPENAI, Provider.ANTHROPIC, Provider.GEMINI)
    }
    for stored in ctx.pool.list():
        assert set_pool_key_models(ctx.engine, stored.id, [])
    ctx.changes.bump()
    org = deployment.new_org(BillingMode.SHARED)
    for _ in range(8):
        for model in MODEL_OF.values():
            assert ask(deployment, org, model)
    assert ask(deployment, org, CLAUDE, "messages")
    served = served_by(deployment, org.id)
    assert served == {
        pooled[Provider.OPENAI].fingerprint: 8,
        pooled[Provider.ANTHROPIC].fingerprint: 9,
        pooled[Provider.GEMINI].fingerprint: 8,
    }
    for entry in ledger(deployment, org.id):
        assert (
            entry["provider"]
            == {CLAUDE: "anthropic", GEMINI: "gemini", GPT: "openai"}[entry["model"]]
        )

    # A provider's only key failing does not send its model to another provider's key.
    for provider, model in MODEL_OF.items():
        before = len(ledger(deployment, org.id))
        schedule_fault(deployment, 500)
        with pytest.raises(openai.InternalServerError):
            openai_client(deployment, org).chat.completions.create(
                model=model, messages=[{"role": "user", "content": "fails"}]
            )
        [failed] = ledger(deployment, org.id)[before:]
        assert failed["provider"] == provider.value and failed["outcome"] == "upstream_error"
    others = [k for p, k in pooled.items() if p is not Provider.OPENAI]
    assert not [r for r in upstream_calls(deployment, others) if r["body"].get("model") == GPT]


def test_without_its_providers_key_a_model_is_refused_not_sent_elsewhere(
    own_deployment: Deployment,
) -> None:
    deployment = own_deployment
    ctx = deployment.context
    only: PooledKey = add_pooled_key(deployment, "openai-only", Provider.OPENAI)
    for stored in ctx.pool.list():
        assert set_pool_key_models(ctx.engine, stored.id, [])
    ctx.changes.bump()
    org = deployment.new_org(BillingMode.SHARED)
    for model in (CLAUDE, GEMINI):
        with pytest.raises(openai.APIStatusError) as refused:
            ask(deployment, org, model)
        assert refused.value.response.json()["error"]["code"] == "no_pool_key"
    assert not upstream_calls(deployment, [only])
    assert ledger(deployment, org.id) == []

    # The model list offers only what the pool can serve: no Claude, no Gemini.
    listed = {m.id for m in openai_client(deployment, org).models.list()}
    assert GPT in listed
    assert CLAUDE not in listed and GEMINI not in listed
    assert all(not m.startswith(("claude", "gemini")) for m in listed)
