"""The admin CLI: JSON on success, a plain message and a non-zero exit on refusal."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from chatgrid.admin import accounts
from chatgrid.admin.signin import ClientInfo
from chatgrid.audit import AuditFilter
from chatgrid.audit.trail import CLI_ACTOR_EMAIL
from chatgrid.context import AppContext
from chatgrid.store.account_links import AccountLinkRepository
from chatgrid.store.migrate import upgrade_to_head
from tests.support.console import PASSWORD
from tests.support.deployment import make_settings, settings_env
from tests.support.processes import ChatGridInstance, RunningProcess, instance_env

SIGNED_UP = datetime(2026, 1, 2, 3, 4, tzinfo=UTC)


@pytest.fixture
def admin(tmp_path: Path, postgres_database: str | None) -> ChatGridInstance:
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    return ChatGridInstance(
        env=instance_env(settings_env(data_dir, postgres_database)), data_dir=data_dir
    )


def ok(instance: ChatGridInstance, *args: str, input: str | None = None) -> object:
    result = instance.cli(*args, input=input)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def refused(instance: ChatGridInstance, *args: str, input: str | None = None) -> str:
    result = instance.cli(*args, input=input)
    assert result.returncode != 0
    assert result.stdout == ""
    assert result.stderr.startswith("error: ") or "Usage:" in result.stderr
    return result.stderr


def test_admin_flow_prints_json(admin: ChatGridInstance, simulator: RunningProcess) -> None:
    org = ok(admin, "org", "create", "cli-co", "--mode", "byok")
    assert isinstance(org, dict) and org["id"].startswith("org_")
    member = ok(admin, "member", "add", "cli-co", "Dana@Example.com", "--role", "admin")
    assert isinstance(member, dict) and member["email"] == "dana@example.com"
    token = ok(admin, "token", "create", org["id"], "dana@example.com", "--expires-in-days", "30")
    assert isinstance(token, dict) and token["token"].startswith("cgk_")
    credential = ok(
        admin,
        "credential",
        "set",
        "cli-co",
        "--base-url",
        f"{simulator.base_url}/v1",
        "--organization",
        "org-abc",
        "--project",
        "proj_1",
        input="sk-cli-test-123456\n",
    )
    assert isinstance(credential, dict)
    assert credential["last4"] == "3456" and "gpt-4o" in credential["models"]
    assert "sk-cli-test" not in json.dumps(credential)
    listed = ok(admin, "token", "list", "cli-co")
    assert isinstance(listed, list) and listed[0]["prefix"] == token["prefix"]
    assert ok(admin, "usage", "cli-co") == []
    csv_out = admin.cli("usage", "cli-co", "--format", "csv")
    assert csv_out.stdout.startswith("call_id,started_at,org_id")
    revoked = ok(admin, "credential", "revoke", "cli-co")
    assert isinstance(revoked, dict) and revoked["revoked"] is True
    pooled = ok(
        admin,
        "pool",
        "add",
        "p1",
        "--base-url",
        f"{simulator.base_url}/v1",
        "--weight",
        "3",
        input="sk-pool-test-123456",
    )
    assert isinstance(pooled, dict) and pooled["weight"] == 3
    rotated = ok(admin, "vault", "rotate-master")
    assert rotated == {"master_key_version": 2, "rewrapped": 2, "retired_versions": 1}


def test_refusals_are_clear(admin: ChatGridInstance, simulator: RunningProcess) -> None:
    ok(admin, "org", "create", "dup-co")
    assert "already exists" in refused(admin, "org", "create", "dup-co")
    assert "no org" in refused(admin, "member", "add", "ghost-co", "a@b.co")
    assert "not an email" in refused(admin, "member", "add", "dup-co", "nobody")
    refused(admin, "org", "create", "x", "--mode", "free-beer")
    assert "not a member" in refused(admin, "token", "create", "dup-co", "who@example.com")
    assert "no key on standard input" in refused(admin, "credential", "set", "dup-co", input="")
    assert "rejected the key" in refused(
        admin,
        "credential",
        "set",
        "dup-co",
        "--base-url",
        f"{simulator.base_url}/v1",
        input="not-a-key-at-all",
    )
    assert "could not be reached" in refused(
        admin,
        "credential",
        "set",
        "dup-co",
        "--base-url",
        "http://127.0.0.1:9/v1",
        input="sk-cli-test-123456",
    )
    assert "needs a" in refused(
        admin, "credential", "set", "dup-co", "--provider", "azure", input="sk-cli-test-123456"
    )
    assert "MODEL=DEPLOYMENT" in refused(
        admin,
        "credential",
        "set",
        "dup-co",
        "--provider",
        "azure",
        "--base-url",
        "https://x",
        "--deployment",
        "oops",
        input="k",
    )
    assert "no such credential" in refused(admin, "credential", "revoke", "dup-co")
    assert "--format" in refused(admin, "usage", "dup-co", "--format", "xml")


def test_private_upstreams_are_refused_unless_allowed(
    admin: ChatGridInstance, simulator: RunningProcess
) -> None:
    ok(admin, "org", "create", "private-co")
    admin.env["CHATGRID_ALLOW_PRIVATE_UPSTREAMS"] = "false"
    message = refused(
        admin,
        "credential",
        "set",
        "private-co",
        "--base-url",
        f"{simulator.base_url}/v1",
        input="sk-cli-test-123456",
    )
    assert "private address" in message


def test_the_operator_verifies_an_address_by_hand(
    admin: ChatGridInstance, postgres_database: str | None
) -> None:
    """``chatgrid user verify``: for an account whose emailed link never came."""
    ctx = AppContext.open(make_settings(admin.data_dir, postgres_database))
    try:
        upgrade_to_head(ctx.engine)
        client = ClientInfo(addr="203.0.113.9", user_agent="cli-test")
        made = accounts.sign_up(
            ctx, email="Waiting@Example.com", password=PASSWORD, org_name="Waiting", client=client
        )
        AccountLinkRepository(ctx.engine).mark_unverified(made.user.id, SIGNED_UP)
        verified = ok(admin, "user", "verify", "waiting@example.com")
        assert verified == {
            "id": made.user.id,
            "email": "waiting@example.com",
            "verified": True,
            "was_unverified": True,
        }
        assert not AccountLinkRepository(ctx.engine).is_unverified(made.user.id)
        again = ok(admin, "user", "verify", "waiting@example.com")
        assert isinstance(again, dict) and again["was_unverified"] is False
        [entry] = ctx.audit.entries(made.org.id, AuditFilter(action="account.email_verified"))
        assert entry.actor_email == CLI_ACTOR_EMAIL and entry.details["by"] == "operator"
        assert "has no account" in refused(admin, "user", "verify", "nobody@example.com")
    finally:
        ctx.close()
