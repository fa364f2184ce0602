"""A broken pooled key alerts the operators: one email per break (never the key, only its
fingerprint), an audit entry, and a banner on every operator page while it stays broken."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from starlette.testclient import TestClient

from chatgrid.admin import accounts, keys
from chatgrid.audit import AuditFilter
from chatgrid.context import AppContext
from chatgrid.gateway import pool_alerts
from chatgrid.identity.models import BillingMode
from chatgrid.mail import mailer_from_settings
from chatgrid.providers.base import Provider, UpstreamConfig
from chatgrid.store.credentials import pool_binding
from chatgrid.web import create_web_app
from tests.support.console import PASSWORD, Browser
from tests.support.deployment import Deployment, deployment_with
from tests.support.mail import Inbox
from tests.support.processes import RunningProcess
from tests.support.waiting import wait_for

CHAT = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "alert"}]}
OPERATOR_PAGES = ["/operator", "/operator/pool", "/operator/prices", "/operator/plans"]


@pytest.fixture
def mailing_deployment(
    tmp_path: Path,
    postgres_database: str | None,
    simulator: RunningProcess,
    inbox: tuple[Inbox, int],
) -> Iterator[Deployment]:
    smtp = {
        "smtp_host": "127.0.0.1",
        "smtp_port": inbox[1],
        "smtp_starttls": False,
        "smtp_from": "ChatGrid <noreply@chatgrid.test>",
    }
    env = {f"CHATGRID_{k.upper()}": str(v) for k, v in smtp.items()}
    yield from deployment_with(tmp_path, postgres_database, simulator, env, **smtp)


def test_a_broken_pooled_key_mails_every_operator_once_and_shows_a_banner(
    mailing_deployment: Deployment,
    inbox: tuple[Inbox, int],
) -> None:
    deployment, (mail, _) = mailing_deployment, inbox
    ctx = deployment.context
    operators = [f"ops-{n}-{secrets.token_hex(3)}@example.com" for n in range(2)]
    for email in operators:
        accounts.create_operator(ctx, email, PASSWORD)
    secret = f"sk-pool-doomed-{secrets.token_hex(8)}"
    config = UpstreamConfig.create(Provider.OPENAI, base_url=f"{deployment.simulator.base_url}/v1")
    stored = asyncio.run(keys.add_pool_key(ctx, "doomed", config, secret))
    org = deployment.new_org(BillingMode.SHARED)
    httpx.post(f"{deployment.simulator.base_url}/_sim/keys/revoke", json={"key": secret})

    def call() -> int:
        response = httpx.post(
            f"{deployment.v1}/chat/completions",
            json=CHAT,
            headers={"Authorization": f"Bearer {org.token}"},
            timeout=30,
        )
        return response.status_code

    with ThreadPoolExecutor(max_workers=6) as pool:
        statuses = list(pool.map(lambda _: call(), range(6)))
    assert set(statuses) <= {502}  # rejected, then no key left: never a success
    statuses += [call() for _ in range(3)]  # later calls do not alert again

    messages = wait_for(lambda: len(mail.messages) >= 2 and mail.messages)
    recipients = sorted(r for rcpts, _ in messages for r in rcpts)
    assert recipients == sorted(operators)
    for _, message in messages:
        raw = message.get_payload(decode=True)
        assert isinstance(raw, bytes)
        body = raw.decode()
        assert stored.sealed.fingerprint in body
        assert secret not in body and secret[-4:] not in body
        assert "doomed" in message["Subject"]
    entries = ctx.audit.entries(None, AuditFilter(action="pool_key.broken"))
    assert [e.target for e in entries] == [stored.id]
    assert entries[0].details["fingerprint"] == stored.sealed.fingerprint
    assert ctx.pool.get(stored.id).status == "broken"
    assert len(mail.messages) == 2  # one break, one mail per operator

    ops = Browser(TestClient(create_web_app(ctx), follow_redirects=False))
    ops.sign_in(operators[0])
    for page in OPERATOR_PAGES:
        response = ops.get(page)
        assert response.status_code == 200
        assert "pooled key is broken" in response.text, page
        assert stored.sealed.fingerprint in response.text
        assert secret not in response.text


def test_a_second_401_on_a_broken_key_does_not_alert_again(context: AppContext) -> None:
    ctx = context
    key_id = f"pool_{secrets.token_hex(6)}"
    sealed = ctx.vault.seal(f"sk-pool-{secrets.token_hex(8)}", binding=pool_binding(key_id))
    ctx.pool.add(key_id, "flaky", UpstreamConfig.create(Provider.OPENAI), sealed, [], 1)
    first = pool_alerts.pool_key_broke(ctx, key_id, "HTTP 401")
    assert first is not None and first.status == "broken"
    assert pool_alerts.pool_key_broke(ctx, key_id, "HTTP 401") is None
    assert [k.id for k in pool_alerts.broken_pool_keys(ctx)] == [key_id]
    # No SMTP server configured: the alert is logged, nothing is sent, nothing fails.
    assert pool_alerts.alert_operators(ctx, mailer_from_settings(ctx.settings), first) == 0
