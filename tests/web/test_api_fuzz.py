"""Schemathesis over the admin API's own ``/openapi.json``, against a real ``chatgrid serve``.

A bounded, deterministic run (at most ``MAX_EXAMPLES`` generated cases per
operation and phase, derandomized: the same cases every run, so it needs no
seed): every operation of the document, with the ids of a seeded org so that calls
reach past the 404s, signed in as an owner who is also the operator. It
holds the API to what it publishes: no 5xx, every answer's status, content
type and body as documented, input outside the schema refused, and a method
the path does not take a 405 whose ``Allow`` lists the path's methods.

Left out, on purpose: signing out (the run's own session would end),
``positive_data_acceptance`` (a well-formed body can still clash with the
org's state, which is a documented 4xx, not a bug), and the stateful phase
(the document declares no links). Sign-in, sign-up and accepting an
invitation need a pre-session token the run does not hold, so they are only
seen refusing (403).
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import subprocess
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from http.cookies import SimpleCookie
from pathlib import Path

import httpx
import pytest

from chatgrid.admin import accounts, keys, members, people, service_accounts
from chatgrid.admin.signin import ClientInfo
from chatgrid.audit import Actor
from chatgrid.identity.models import Role
from chatgrid.identity.passwords import hash_password
from chatgrid.providers.base import Provider, UpstreamConfig
from tests.support.deployment import Deployment
from tests.support.usage_rows import entry, write

#: Examples per operation in the fuzzing phase; with the examples and coverage phases the
#: whole run stays near a minute on two cores.
MAX_EXAMPLES = 8
PASSWORD = "correct horse battery staple"
CHECKS = (
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_headers_conformance",
    "response_schema_conformance",
    "negative_data_rejection",
    "unsupported_method",
    "allow_header_conformance",
    "ignored_auth",
)


@dataclass
class Seeded:
    """What the run signs in as, and the ids its generated paths are pointed at."""

    cookies: dict[str, str]
    csrf: str
    ids: dict[str, str]
    upstream: str


def _cookies(response: httpx.Response, jar: dict[str, str]) -> None:
    """Keep what ``Set-Cookie`` says, whatever the names or flags (a real browser would)."""
    for header in response.headers.get_list("set-cookie"):
        for name, morsel in SimpleCookie(header).items():
            if morsel["max-age"] == "0" or not morsel.value:
                jar.pop(name, None)
            else:
                jar[name] = morsel.value


def sign_in(base_url: str, email: str) -> tuple[dict[str, str], str]:
    """Sign in as the console does: the cookies it sets, and the session's CSRF token."""
    jar: dict[str, str] = {}

    def cookie() -> str:
        return "; ".join(f"{k}={v}" for k, v in jar.items())

    first = httpx.get(f"{base_url}/api/csrf")
    _cookies(first, jar)
    signed = httpx.post(
        f"{base_url}/api/session",
        json={"email": email, "password": PASSWORD},
        headers={"X-CSRF-Token": first.json()["csrf_token"], "Cookie": cookie()},
    )
    assert signed.status_code == 200, signed.text
    _cookies(signed, jar)
    return jar, signed.json()["csrf_token"]


def seed(deployment: Deployment) -> Seeded:
    """An org with an owner (also the operator), a member, tokens, an invitation, a key,
    calls in the ledger (at both ends of the calendar too), a conversation and a document;
    and a second org for the operator's tenant actions."""
    ctx = deployment.context
    client = ClientInfo(addr="203.0.113.9", user_agent="schemathesis")
    email = f"owner-{secrets.token_hex(3)}@example.com"
    a = accounts.sign_up(ctx, email=email, password=PASSWORD, org_name="Fuzzed Org", client=client)
    b = accounts.sign_up(
        ctx,
        email=f"other-{secrets.token_hex(3)}@example.com",
        password=PASSWORD,
        org_name="Tenant Org",
        client=client,
    )
    accounts.create_operator(ctx, email, None)  # the owner, made operator, keeps her password
    bob = people.add_member(ctx, a.org.id, f"bob-{secrets.token_hex(3)}@example.com", Role.MEMBER)
    ctx.accounts.set_password(bob.user_id, hash_password(PASSWORD))
    token, _ = people.create_token(ctx, a.org.id, bob.email)
    deployment.connect(a.org.id, f"sk-fuzz-{secrets.token_hex(8)}")
    # Shared credits work too, once the run switches the org's mode.
    pooled = UpstreamConfig.create(Provider.OPENAI, base_url=f"{deployment.simulator.base_url}/v1")
    asyncio.run(keys.add_pool_key(ctx, "fuzz pool", pooled, f"sk-pool-{secrets.token_hex(8)}"))
    issued = members.invite(
        ctx,
        a.org,
        a.owner,
        Actor(a.user.id, email),
        email=f"erin-{secrets.token_hex(3)}@example.com",
        role=Role.MEMBER,
        link_base=deployment.instance.base_url,
        mailer=None,
    )
    assert issued.link is not None
    robot, _ = service_accounts.create_service_account(ctx, a.org, Actor.cli(), "fuzz bot", "v1")
    moments = [
        datetime(2026, 10, 1, 9, tzinfo=UTC),
        datetime(1, 1, 1, tzinfo=UTC),
        datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC),
    ]
    write(ctx, [entry(a.org.id, member, at) for at in moments for member in (a.owner.id, bob.id)])

    base = deployment.instance.base_url
    cookies, csrf = sign_in(base, email)
    headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in cookies.items()), "X-CSRF-Token": csrf}
    api = httpx.Client(base_url=f"{base}/api/orgs/{a.org.id}", headers=headers)
    with api:
        conversation = api.post("/conversations", json={"title": "fuzz"}).json()
        collection = api.post("/collections", json={"name": "fuzz", "scope": "org"}).json()
        document = api.post(
            f"/collections/{collection['id']}/documents",
            files={
                "file": ("notes.md", b"# Notes\n\nThe launch is on Tuesday.\n", "text/markdown")
            },
        ).json()
    return Seeded(
        cookies=cookies,
        csrf=csrf,
        ids={
            "org_id": a.org.id,
            "member_id": bob.id,
            "token_id": token.id,
            "invitation_id": issued.invitation.id,
            "token": issued.link.rsplit("/", 1)[1],
            "conversation_id": conversation["id"],
            "collection_id": collection["id"],
            "document_id": document["id"],
            "tenant_id": b.org.id,
            "service_account_id": robot.id,
        },
        upstream=f"{deployment.simulator.base_url}/v1",
    )


@pytest.fixture(scope="module")
def seeded(deployment: Deployment) -> Seeded:
    return seed(deployment)


def config_toml(base_url: str, seeded: Seeded) -> str:
    """The run's schemathesis.toml: bounds, seed, checks, the session, and the seeded ids.

    The session goes in as the document's own security schemes (the cookie and
    the CSRF header), so schemathesis knows which operations need them and can
    check that each one is refused without them.
    """
    q = json.dumps  # a JSON string of ASCII is a TOML basic string
    schemes = httpx.get(f"{base_url}/openapi.json").json()["components"]["securitySchemes"]
    auth = []
    for name, scheme in schemes.items():
        if scheme.get("in") not in ("cookie", "header"):
            continue  # a service account's bearer token: tests/web/test_service_accounts.py
        value = seeded.cookies[scheme["name"]] if scheme["in"] == "cookie" else seeded.csrf
        auth += [f"[auth.openapi.{q(name)}]", f"api_key = {q(value)}"]
    lines = [
        f"base-url = {q(base_url)}",
        "workers = 1",
        "request-timeout = 30",
        'suppress-health-check = ["all"]',
        "[generation]",
        f"max-examples = {MAX_EXAMPLES}",
        "deterministic = true",
        'mode = "all"',
        "[phases.stateful]",
        "enabled = false",
        "[checks]",
        "enabled = false",
        *(f"{check}.enabled = true" for check in CHECKS),
        *auth,
        "[dictionaries]",
        f"upstream = {{ values = [{q(seeded.upstream)}] }}",
        "[parameters]",
        *(f"{q('path.' + name)} = {q(value)}" for name, value in seeded.ids.items()),
        # Keys are checked against their upstream: keep that the simulator, not the internet.
        '"body.base_url" = { dictionary = "upstream", probability = 1.0 }',
        # Signing out would end the session every other call relies on.
        "[[operations]]",
        'include-name = "DELETE /api/session"',
        "enabled = false",
        # GET on this URL is the preview of an invitation whose token is "accept", so an
        # OPTIONS answer's Allow rightly names GET beside the documented POST.
        "[[operations]]",
        'include-name = "POST /api/invitations/accept"',
        "checks.allow_header_conformance.enabled = false",
    ]
    return "\n".join(lines) + "\n"


def test_the_admin_api_keeps_to_its_openapi_document(
    deployment: Deployment, seeded: Seeded, tmp_path: Path
) -> None:
    base_url = deployment.instance.base_url
    config = tmp_path / "schemathesis.toml"
    config.write_text(config_toml(base_url, seeded))
    run = subprocess.run(
        [
            str(Path(sys.executable).with_name("schemathesis")),
            "--config-file",
            str(config),
            "run",
            f"{base_url}/openapi.json",
        ],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=tmp_path,
        env={**os.environ, "NO_COLOR": "1"},
    )
    assert run.returncode == 0, run.stdout[-20_000:] + run.stderr[-5_000:]
