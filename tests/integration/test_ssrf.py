"""SSRF: no upstream URL, however it is written, reaches a private address.

With ``CHATGRID_ALLOW_PRIVATE_UPSTREAMS`` off (the default), anyone who can
sign up is admin of their own org and can enter an upstream URL. Every form
that once walked around the guard (Unicode digits and dots, IPv6 forms that
carry a private IPv4, old numeric IPv4 forms) goes through every door that
takes a URL: ``chatgrid credential set``, ``chatgrid pool add``,
``PUT /api/orgs/{org}/credential`` and the console's key form. A loopback
listener that answers like an OpenAI API waits behind them; it must see
nothing, not even a connection. Keys saved before this check existed are
refused on ``/v1`` the same way.

Redirects are tested on a server that allows private upstreams (the only
way to have a reachable "allowed" host on a test machine): the upstream
answers 3xx toward a second listener, which must see nothing either.
"""

from __future__ import annotations

import html
import os
import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import httpx
import pytest
from typer.testing import CliRunner

from chatgrid.admin import people
from chatgrid.cli import app as cli_app
from chatgrid.context import AppContext
from chatgrid.identity.models import BillingMode, Role
from chatgrid.providers.base import Provider, UpstreamConfig
from chatgrid.store.credentials import credential_binding, pool_binding
from chatgrid.store.ids import new_id
from tests.support.console import Browser, add_user, csrf_in, unique
from tests.support.deployment import (
    DatabaseFactory,
    Deployment,
    deployment_with,
)
from tests.support.listeners import Listener, listening, redirecting
from tests.support.openapi_schemas import assert_openai_error
from tests.support.processes import ChatGridInstance, RunningProcess

CHAT = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]}

# The forms named in the issue, then their relatives. ``{port}`` is the listener's.
FORMS = {
    "fullwidth-digits": "http://１２７.０.０.１:{port}/v1",
    "ideographic-full-stops": "http://127。0。0。1:{port}/v1",
    "circled-digits": "http://①②⑦.0.0.1:{port}/v1",
    "fullwidth-metadata": "http://１６９.２５４.１６９.２５４/latest/meta-data",
    "ipv4-translated": "http://[::ffff:0:7f00:1]:{port}/v1",
    "ipv4-compatible": "http://[::127.0.0.1]:{port}/v1",
    "nat64": "http://[64:ff9b::7f00:1]:{port}/v1",
    "6to4": "http://[2002:7f00:1::]:{port}/v1",
    "ipv4-mapped": "http://[::ffff:127.0.0.1]:{port}/v1",
    "nat64-metadata": "http://[64:ff9b::a9fe:a9fe]/latest/meta-data",
    "nat64-local-use": "http://[64:ff9b:1::7f00:1]:{port}/v1",
    "teredo": "http://[2001:0:4136:e378:8000:63bf:80ff:fffe]:{port}/v1",
    "short-numeric": "http://127.1:{port}/v1",
    "hex-numeric": "http://0x7f.0.0.1:{port}/v1",
    "decimal-numeric": "http://2130706433:{port}/v1",
    "fullwidth-localhost": "http://ｌｏｃａｌｈｏｓｔ:{port}/v1",
    "localhost-trailing-dot": "http://localhost.:{port}/v1",
    "plain-loopback": "http://127.0.0.1:{port}/v1",
}
# What a refusal says: the host is private, or it is written to hide what it is.
REFUSALS = ("private address", "look-alike characters", "old numeric form")


@dataclass
class Guarded:
    """A ``chatgrid serve`` with private upstreams refused, and the listener behind it."""

    deployment: Deployment
    listener: Listener

    @property
    def ctx(self) -> AppContext:
        return self.deployment.context

    @property
    def instance(self) -> ChatGridInstance:
        return self.deployment.instance

    def url(self, form: str) -> str:
        return FORMS[form].format(port=self.listener.port)


@pytest.fixture(scope="module")
def guarded_deployment(
    tmp_path_factory: pytest.TempPathFactory,
    new_database: DatabaseFactory,
    simulator: RunningProcess,
) -> Iterator[Deployment]:
    yield from deployment_with(
        tmp_path_factory.mktemp("guarded"),
        new_database(),
        simulator,
        {"CHATGRID_ALLOW_PRIVATE_UPSTREAMS": "false"},
        allow_private_upstreams=False,
    )


@pytest.fixture
def guarded(guarded_deployment: Deployment) -> Iterator[Guarded]:
    """A listener of the test's own, so one test's breach cannot show up in another."""
    with listening() as listener:
        yield Guarded(guarded_deployment, listener)


# --- the four doors: each returns (accepted, what the admin was told) ---------------------


def run_cli(guarded: Guarded, *args: str) -> tuple[int, str]:
    """The ``chatgrid`` command in this process (as a subprocess it costs seconds a call)."""
    env: dict[str, str | None] = {k: None for k in os.environ if k.startswith("CHATGRID_")}
    env.update({k: v for k, v in guarded.instance.env.items() if k.startswith("CHATGRID_")})
    result = CliRunner().invoke(cli_app, list(args), input="sk-ssrf-probe-123456\n", env=env)
    return result.exit_code, result.output


def cli_credential_set(guarded: Guarded, url: str) -> tuple[bool, str]:
    org = people.create_org(guarded.ctx, f"cli-{secrets.token_hex(4)}", BillingMode.BYOK)
    args = ("credential", "set", org.name, "--provider", "openai-compatible", "--base-url", url)
    code, told = run_cli(guarded, *args)
    return code == 0 or guarded.ctx.credentials.current(org.id) is not None, told


def cli_pool_add(guarded: Guarded, url: str) -> tuple[bool, str]:
    name = f"pool-{secrets.token_hex(4)}"
    code, told = run_cli(
        guarded, "pool", "add", name, "--provider", "openai-compatible", "--base-url", url
    )
    return code == 0 or any(k.name == name for k in guarded.ctx.pool.list()), told


def org_admin(deployment: Deployment) -> tuple[Browser, str]:
    """The owner of a new org, signed in to the console over HTTP."""
    org = people.create_org(deployment.context, f"web-{secrets.token_hex(4)}", BillingMode.BYOK)
    email = unique("owner")
    add_user(deployment.context, org.id, email, Role.OWNER)
    owner = Browser(httpx.Client(base_url=deployment.instance.base_url, timeout=30))
    owner.sign_in(email)
    return owner, org.id


def api_put_credential(guarded: Guarded, url: str) -> tuple[bool, str]:
    owner, org = org_admin(guarded.deployment)
    body = {"provider": "openai-compatible", "base_url": url, "api_key": "sk-ssrf-probe-123456"}
    response = owner.api("PUT", f"/api/orgs/{org}/credential", body)
    if response.status_code != 200:
        assert_openai_error(response, 400)
    return response.status_code == 200, response.text


def console_key_form(guarded: Guarded, url: str) -> tuple[bool, str]:
    owner, org = org_admin(guarded.deployment)
    page = owner.get(f"/orgs/{org}/key")
    response = owner.form(
        f"/orgs/{org}/key",
        {"provider": "openai-compatible", "base_url": url, "api_key": "sk-ssrf-probe-123456"},
        csrf=csrf_in(page.text),
    )
    return guarded.ctx.credentials.current(org) is not None, html.unescape(response.text)


DOORS: dict[str, Callable[[Guarded, str], tuple[bool, str]]] = {
    "cli-credential-set": cli_credential_set,
    "cli-pool-add": cli_pool_add,
    "api-put-credential": api_put_credential,
    "console-key-form": console_key_form,
}


@pytest.mark.parametrize("form", list(FORMS))
@pytest.mark.parametrize("door", list(DOORS))
def test_no_door_takes_a_url_that_reaches_a_private_address(
    guarded: Guarded, door: str, form: str
) -> None:
    accepted, told = DOORS[door](guarded, guarded.url(form))
    assert not accepted, told
    assert any(reason in told for reason in REFUSALS), told
    assert not guarded.listener.seen_anything(), guarded.listener.requests


@pytest.mark.parametrize("command", [("credential", "set", "{org}"), ("pool", "add", "{org}")])
@pytest.mark.parametrize("form", ["fullwidth-digits", "ipv4-translated"])
def test_the_installed_command_refuses_them_too(
    guarded: Guarded, command: tuple[str, ...], form: str
) -> None:
    """The same door as a real process, as an operator runs it."""
    org = people.create_org(guarded.ctx, f"proc-{secrets.token_hex(4)}", BillingMode.BYOK)
    args = [part.format(org=org.name) for part in command]
    result = guarded.instance.cli(
        *args,
        "--provider",
        "openai-compatible",
        "--base-url",
        guarded.url(form),
        input="sk-ssrf-probe-123456\n",
    )
    assert result.returncode != 0 and result.stdout == ""
    assert any(reason in result.stderr for reason in REFUSALS), result.stderr
    assert not guarded.listener.seen_anything(), guarded.listener.requests


# --- keys saved before the check existed are refused on /v1 --------------------------------


def saved_before_the_check(guarded: Guarded, url: str) -> str:
    """A BYOK org whose key row holds ``url`` as typed (no save-time check); its token."""
    ctx = guarded.ctx
    org = people.create_org(ctx, f"old-{secrets.token_hex(4)}", BillingMode.BYOK)
    email = f"alice-{secrets.token_hex(3)}@example.com"
    people.add_member(ctx, org.id, email, Role.OWNER)
    _, token = people.create_token(ctx, org.id, email)
    credential_id = new_id("cred")
    config = UpstreamConfig(provider=Provider.OPENAI_COMPATIBLE, base_url=url)
    sealed = ctx.vault.seal("sk-old-row-123456", binding=credential_binding(org.id, credential_id))
    ctx.credentials.replace(org.id, credential_id, config, sealed, ["gpt-4o-mini"], "test")
    ctx.changes.bump()
    return token


def call(guarded: Guarded, token: str) -> httpx.Response:
    return httpx.post(
        f"{guarded.deployment.v1}/chat/completions",
        json=CHAT,
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
    )


@pytest.mark.parametrize("form", list(FORMS))
def test_a_stored_key_with_a_private_url_is_never_called(guarded: Guarded, form: str) -> None:
    response = call(guarded, saved_before_the_check(guarded, guarded.url(form)))
    assert response.status_code != 200, response.text
    assert_openai_error(response)
    assert not guarded.listener.seen_anything(), guarded.listener.requests


def test_a_pooled_key_with_a_private_url_is_never_called(guarded: Guarded) -> None:
    ctx = guarded.ctx
    for form in FORMS:
        key_id = new_id("pool")
        config = UpstreamConfig(provider=Provider.OPENAI_COMPATIBLE, base_url=guarded.url(form))
        sealed = ctx.vault.seal("sk-old-pool-123456", binding=pool_binding(key_id))
        ctx.pool.add(key_id, f"old-{form}", config, sealed, ["gpt-4o-mini"], 1)
    ctx.changes.bump()
    org = people.create_org(ctx, f"shared-{secrets.token_hex(4)}", BillingMode.SHARED)
    email = f"bob-{secrets.token_hex(3)}@example.com"
    people.add_member(ctx, org.id, email, Role.OWNER)
    _, token = people.create_token(ctx, org.id, email)
    for _ in range(5):
        response = call(guarded, token)
        assert response.status_code != 200, response.text
        assert_openai_error(response)
    assert not guarded.listener.seen_anything(), guarded.listener.requests


# --- redirects: never followed, whatever the address guard allows --------------------------


@pytest.mark.parametrize("status", [302, 307])
def test_connecting_a_key_follows_no_redirect(deployment: Deployment, status: int) -> None:
    owner, org = org_admin(deployment)
    with listening() as target, listening(redirecting(target.url, status)) as redirector:
        body = {
            "provider": "openai-compatible",
            "base_url": f"{redirector.url}/v1",
            "api_key": "sk-redirect-probe-123456",
        }
        response = owner.api("PUT", f"/api/orgs/{org}/credential", body)
        assert response.status_code == 400, response.text
        error = response.json()["error"]
        assert error["code"] == "upstream_redirect"
        assert str(target.port) not in response.text
        assert "redirector-body-canary" not in response.text
        assert not target.seen_anything(), target.requests
    assert owner.api("GET", f"/api/orgs/{org}/credential").json() is None


@pytest.mark.parametrize("status", [302, 307])
def test_a_v1_call_follows_no_redirect(deployment: Deployment, status: int) -> None:
    """The upstream validated normally, then redirects calls: a 502, and nothing moves on."""
    with (
        listening() as target,
        listening(redirecting(target.url, status, models_first=True)) as redirector,
    ):
        org = people.create_org(
            deployment.context, f"redir-{secrets.token_hex(4)}", BillingMode.BYOK
        )
        email = f"carol-{secrets.token_hex(3)}@example.com"
        people.add_member(deployment.context, org.id, email, Role.OWNER)
        _, token = people.create_token(deployment.context, org.id, email)
        deployment.connect(
            org.id,
            "sk-redirect-probe-123456",
            provider="openai-compatible",
            base_url=f"{redirector.url}/v1",
        )
        for stream in (False, True):
            response = httpx.post(
                f"{deployment.v1}/chat/completions",
                json={**CHAT, "stream": stream},
                headers={"Authorization": f"Bearer {token}"},
                timeout=30,
            )
            error = assert_openai_error(response, 502)
            assert error["type"] == "upstream_error"
            assert error["code"] == "upstream_redirect"
            assert str(target.port) not in response.text
            assert "redirector-body-canary" not in response.text
            assert "location" not in {name.lower() for name in response.headers}
        assert not target.seen_anything(), target.requests
        assert [seen.method for seen in redirector.requests].count("POST") == 2
