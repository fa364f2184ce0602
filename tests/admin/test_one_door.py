"""Every admin action has one set of rules and one audit shape, whichever door it came in by.

The command line runs in-process through Typer's ``CliRunner`` on the same
database as a console app driven through Starlette's ``TestClient``; neither
side is a stand-in for the other.
"""

from __future__ import annotations

import json
import os
import secrets
from dataclasses import dataclass
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from chatgrid.admin import accounts, billing
from chatgrid.audit import Actor, AuditEntry, AuditFilter
from chatgrid.cli import app
from chatgrid.context import AppContext
from chatgrid.identity.models import BillingMode
from chatgrid.identity.passwords import verify_password
from chatgrid.providers.base import Provider, UpstreamConfig
from chatgrid.store.credentials import pool_binding
from chatgrid.sync.marker import MARKER_NAME
from tests.support.console import PASSWORD, Browser, World, build_world
from tests.support.dns_server import dns_server
from tests.support.processes import RunningProcess
from tests.support.seeded_keys import seed_pool_key

OPERATOR_ACTOR = Actor.cli()


@dataclass
class Doors:
    """One database, seen through the CLI and through the console of a signed-in operator."""

    world: World
    ops: Browser
    env: dict[str, str | None]

    @property
    def ctx(self) -> AppContext:
        return self.world.ctx

    def cli(self, *args: str, input: str | None = None) -> Result:
        return CliRunner().invoke(app, list(args), input=input, env=self.env)

    def cli_ok(self, *args: str, input: str | None = None) -> Result:
        result = self.cli(*args, input=input)
        assert result.exit_code == 0, result.output
        return result


@pytest.fixture
def doors(context: AppContext) -> Doors:
    world = build_world(context)
    email = f"ops-{secrets.token_hex(3)}@example.com"
    accounts.create_operator(context, email, PASSWORD)
    ops = world.browser()
    ops.sign_in(email)
    settings = context.settings
    env: dict[str, str | None] = {k: None for k in os.environ if k.startswith("CHATGRID_")}
    env["CHATGRID_DATA_DIR"] = str(settings.data_dir)
    env["CHATGRID_ALLOW_PRIVATE_UPSTREAMS"] = "true"
    if settings.database_url:
        env["CHATGRID_DATABASE_URL"] = settings.database_url
    return Doors(world, ops, env)


def _paid_org(doors: Doors) -> str:
    org_id = doors.world.org_a
    plan = billing.create_plan(
        doors.ctx,
        f"Team {secrets.token_hex(2)}",
        seat_price_micros=10_000_000,
        markup_bps=2000,
        allowance_micros_per_seat=5_000_000,
        overage=False,
        actor=OPERATOR_ACTOR,
    )
    billing.assign_plan(doors.ctx, org_id, plan.id, actor=OPERATOR_ACTOR)
    return org_id


def test_no_door_puts_an_org_on_a_paid_plan_back_on_a_trial(doors: Doors) -> None:
    org_id = _paid_org(doors)
    before = doors.ctx.billing.account(org_id)
    api = doors.ops.api("POST", f"/api/operator/tenants/{org_id}/trial", {"days": 5})
    assert api.status_code == 409, api.text
    assert api.json()["error"]["code"] == "on_plan"
    form = doors.ops.form(f"/operator/tenants/{org_id}/trial", {"days": "5"})
    assert form.status_code == 409
    assert "no trial to extend" in form.text
    cli = doors.cli("org", "extend-trial", org_id, "--days", "5")
    assert cli.exit_code == 1 and "no trial to extend" in cli.output
    assert doors.ctx.billing.account(org_id) == before


def test_a_cli_token_name_gets_the_consoles_checks(doors: Doors) -> None:
    email = doors.world.dave.email
    too_long = doors.cli("token", "create", doors.world.org_a, email, "--name", "n" * 101)
    assert too_long.exit_code == 1
    assert "at most 100 characters" in too_long.output
    two_lines = doors.cli("token", "create", doors.world.org_a, email, "--name", "a\nb")
    assert two_lines.exit_code == 1
    forever = doors.cli("token", "create", doors.world.org_a, email, "--expires-in-days", "100000")
    assert forever.exit_code == 1 and "1 to 3650 days" in forever.output
    member = doors.ctx.members.find_by_email(doors.world.org_a, email)
    assert len(doors.ctx.tokens.list(doors.world.org_a, member.id)) == 1  # the world's own
    doors.cli_ok("token", "create", doors.world.org_a, email, "--name", "n" * 100)


def _marker_size(doors: Doors) -> int:
    path = doors.ctx.settings.data_dir / MARKER_NAME
    return path.stat().st_size if path.exists() else 0


def test_shared_credits_are_not_taken_from_an_org_on_them(doors: Doors) -> None:
    org_id = doors.world.org_a
    seed_pool_key(doors.ctx)
    doors.cli_ok("org", "mode", org_id, "shared")
    refused = doors.cli("org", "allow-shared", org_id, "--not-allowed")
    assert refused.exit_code == 1
    assert "switch it to BYOK first" in refused.output
    org = doors.ctx.orgs.by_id(org_id)
    assert org.shared_allowed and org.billing_mode is BillingMode.SHARED
    doors.cli_ok("org", "mode", org_id, "byok")
    before = _marker_size(doors)
    doors.cli_ok("org", "allow-shared", org_id, "--not-allowed")
    assert not doors.ctx.orgs.by_id(org_id).shared_allowed
    assert _marker_size(doors) > before  # every server drops its caches
    switch_back = doors.cli("org", "mode", org_id, "shared")
    assert switch_back.exit_code == 1


def _password_is(doors: Doors, email: str, password: str) -> bool:
    user = doors.ctx.accounts.find_user(email)
    assert user is not None
    hashed = doors.ctx.accounts.password_hash(user.id)
    return hashed is not None and verify_password(hashed, password)


def test_making_a_member_operator_never_resets_their_password(doors: Doors) -> None:
    dave, bob = doors.world.dave.email, doors.world.bob.email
    made = doors.cli_ok("operator", "create", dave, input="a new password for dave\n")
    assert '"operator": true' in made.output
    user = doors.ctx.accounts.find_user(dave)
    assert user is not None and user.is_operator
    assert _password_is(doors, dave, PASSWORD)
    # A member who is not an operator cannot have their password reset either.
    not_operator = doors.cli("operator", "reset-password", bob, input="a new password for bob\n")
    assert not_operator.exit_code == 1
    assert _password_is(doors, bob, PASSWORD)
    # An operator's lost password is reset on its own command; its sessions end.
    signed_in = doors.world.browser()
    signed_in.sign_in(dave)
    doors.cli_ok("operator", "reset-password", dave, input="a new password for dave\n")
    assert _password_is(doors, dave, "a new password for dave")
    assert signed_in.get("/api/session").status_code == 401
    actions = [e.action for e in doors.ctx.audit.entries(None, AuditFilter(limit=5))]
    assert actions[:2] == ["operator.password_reset", "operator.created"]


def _newest(ctx: AppContext, action: str) -> AuditEntry:
    """The newest entry of ``action`` in any org's log or the instance-wide one."""
    logs: list[str | None] = [None, *(o.id for o in ctx.orgs.list())]
    found = [e for log in logs for e in ctx.audit.entries(log, AuditFilter(action=action, limit=1))]
    assert found, f"no {action} entry"
    return max(found, key=lambda e: e.id)


def _shape(entry: AuditEntry) -> tuple[str, bool, list[str]]:
    return entry.action, entry.org_id is None, sorted(entry.details)


def test_every_action_leaves_the_same_audit_entry_from_both_doors(doors: Doors) -> None:
    """Each action through the CLI, then through the console or API: same name, same keys."""
    world, ops, ctx = doors.world, doors.ops, doors.ctx
    org = world.org_a
    assert ctx.orgs.set_shared_allowed(org, True)
    seed_pool_key(ctx)
    member_email = world.alice.email
    alice = world.alice.browser
    later = "2999-01-01"

    def api_token_id() -> str:
        response = alice.api("POST", f"/api/orgs/{org}/tokens", {"name": "web"})
        assert response.status_code == 201, response.text
        token_id: str = response.json()["token"]["id"]
        return token_id

    def cli_token_id() -> str:
        created = doors.cli_ok("token", "create", org, member_email, "--name", "cli")
        token_id: str = json.loads(created.output)["id"]
        return token_id

    steps: list[tuple[str, Any, Any]] = [
        (
            "org.mode_switched",
            lambda: doors.cli_ok("org", "mode", org, "shared"),
            lambda: alice.api("PUT", f"/api/orgs/{org}/mode", {"mode": "byok"}),
        ),
        (
            "org.trial_extended",
            lambda: doors.cli_ok("org", "extend-trial", org, "--days", "3"),
            lambda: ops.api("POST", f"/api/operator/tenants/{org}/trial", {"days": 3}),
        ),
        (
            "operator.shared_allowed",
            lambda: doors.cli_ok("org", "allow-shared", org, "--not-allowed"),
            lambda: ops.api("PUT", f"/api/operator/tenants/{org}/shared", {"allowed": True}),
        ),
        (
            "token.created",
            cli_token_id,
            api_token_id,
        ),
        (
            "token.revoked",
            lambda: doors.cli_ok("token", "revoke", org, cli_token_id()),
            lambda: alice.api("DELETE", f"/api/orgs/{org}/tokens/{api_token_id()}"),
        ),
        (
            "policy.updated",
            lambda: doors.cli_ok("limits", "set", org, "--org-rpm", "100"),
            lambda: alice.api(
                "PUT",
                f"/api/orgs/{org}/policy",
                {
                    "org_rpm": 200,
                    "org_tpm": None,
                    "member_rpm": None,
                    "member_tpm": None,
                    "member_concurrency": None,
                    "allowed_models": None,
                },
            ),
        ),
        (
            "operator.limits_updated",
            lambda: doors.cli_ok("limits", "operator-set", org, "--org-rpm", "50"),
            lambda: ops.form(f"/operator/tenants/{org}/limits", {"org_rpm": "60"}),
        ),
        (
            "price.added",
            lambda: doors.cli_ok(
                "price", "set", "gpt-one-door", "--input", "1", "--output", "2", "--from", later
            ),
            lambda: ops.api(
                "POST",
                "/api/operator/prices",
                {
                    "model": "gpt-one-door",
                    "effective_from": "2999-02-01",
                    "input": "1",
                    "output": "2",
                },
            ),
        ),
    ]
    plan = billing.create_plan(
        ctx,
        "Walk",
        seat_price_micros=1_000_000,
        markup_bps=0,
        allowance_micros_per_seat=0,
        overage=False,
        actor=OPERATOR_ACTOR,
    )
    pool_id = f"pool_{secrets.token_hex(6)}"
    sealed = ctx.vault.seal(f"sk-pool-{secrets.token_hex(8)}", binding=pool_binding(pool_id))
    ctx.pool.add(pool_id, "walk", UpstreamConfig.create(Provider.OPENAI), sealed, ["m"], 1)
    dave = world.dave
    plan_terms = {"seat_price": "2", "markup_bps": "10", "allowance_per_seat": "1"}
    steps += [
        (
            "org.created",
            lambda: doors.cli_ok("org", "create", f"cli {secrets.token_hex(3)}"),
            lambda: ops.api("POST", "/api/orgs", {"name": f"web {secrets.token_hex(3)}"}),
        ),
        (
            "plan.created",
            lambda: doors.cli_ok(
                "plan",
                "create",
                "cli plan",
                "--seat-price",
                "1",
                "--markup-bps",
                "0",
                "--allowance-per-seat",
                "0",
            ),
            lambda: ops.form("/operator/plans", {"name": "web plan", **plan_terms}),
        ),
        (
            "plan.updated",
            lambda: doors.cli_ok("plan", "update", plan.id, "--markup-bps", "5"),
            lambda: ops.form(f"/operator/plans/{plan.id}", {"name": "Walk", **plan_terms}),
        ),
        (
            "plan.assigned",
            lambda: doors.cli_ok("plan", "assign", org, plan.id),
            lambda: ops.form(f"/operator/tenants/{org}/plan", {"plan_id": plan.id}),
        ),
        (
            "member.cap_set",
            lambda: doors.cli_ok("member", "cap", org, dave.email, "--usd", "5"),
            lambda: alice.form(f"/orgs/{org}/members/{dave.member_id}/cap", {"cap_usd": "6"}),
        ),
        (
            "pool_key.budget_set",
            lambda: doors.cli_ok("pool", "set", pool_id, "--weight", "2"),
            lambda: ops.form(f"/operator/pool/{pool_id}", {"weight": "3"}),
        ),
    ]
    for action, by_cli, by_web in steps:
        by_cli()
        from_cli = _newest(ctx, action)
        answer = by_web()
        if hasattr(answer, "status_code"):
            assert answer.status_code < 400, (action, answer.text)
        from_web = _newest(ctx, action)
        assert from_web.id > from_cli.id, action
        assert from_cli.actor_email == "cli" and from_web.actor_email != "cli"
        assert _shape(from_cli) == _shape(from_web), action


def test_a_key_leaves_the_same_audit_entries_from_both_doors(
    doors: Doors, simulator: RunningProcess
) -> None:
    """Connect, rotate and revoke an org's key from the CLI, then from the API."""
    org, alice = doors.world.org_a, doors.world.alice.browser
    base_url = f"{simulator.base_url}/v1"
    actions = ("credential.connected", "credential.rotated", "credential.revoked")

    def entries() -> list[AuditEntry]:
        return [_newest(doors.ctx, action) for action in actions]

    for key in ("sk-one-door-cli-111111", "sk-one-door-cli-222222"):
        doors.cli_ok("credential", "set", org, "--base-url", base_url, input=f"{key}\n")
    doors.cli_ok("credential", "revoke", org)
    from_cli = entries()
    for key in ("sk-one-door-web-111111", "sk-one-door-web-222222"):
        body = {"api_key": key, "base_url": base_url}
        assert alice.api("PUT", f"/api/orgs/{org}/credential", body).status_code == 200
    assert alice.api("DELETE", f"/api/orgs/{org}/credential").status_code == 204
    from_web = entries()
    for cli_entry, web_entry in zip(from_cli, from_web, strict=True):
        assert web_entry.id > cli_entry.id
        assert _shape(cli_entry) == _shape(web_entry), cli_entry.action


def test_a_domain_leaves_the_same_audit_entries_from_both_doors(doors: Doors) -> None:
    """Add, verify and remove a domain from the CLI, then from the API (a real DNS server)."""
    org, alice = doors.world.org_a, doors.world.alice.browser
    actions = ("domain.added", "domain.verified", "domain.removed")
    with dns_server() as dns:
        doors.env["CHATGRID_DNS_RESOLVER"] = dns.address
        doors.ctx.settings = doors.ctx.settings.model_copy(update={"dns_resolver": dns.address})
        added = json.loads(doors.cli_ok("domain", "add", org, "cli.example").output)
        dns.zone.publish(added["record"]["name"], added["record"]["value"])
        doors.cli_ok("domain", "verify", org, "cli.example")
        doors.cli_ok("domain", "remove", org, "cli.example")
        from_cli = [_newest(doors.ctx, action) for action in actions]
        made = alice.api("POST", f"/api/orgs/{org}/domains", {"domain": "web.example"})
        assert made.status_code == 201, made.text
        claim = made.json()
        dns.zone.publish(claim["record"]["name"], claim["record"]["value"])
        verify = alice.api("POST", f"/api/orgs/{org}/domains/{claim['id']}/verify")
        assert verify.status_code == 200, verify.text
        assert alice.api("DELETE", f"/api/orgs/{org}/domains/{claim['id']}").status_code == 204
    from_web = [_newest(doors.ctx, action) for action in actions]
    for cli_entry, web_entry in zip(from_cli, from_web, strict=True):
        assert web_entry.id > cli_entry.id
        assert cli_entry.actor_email == "cli" and web_entry.actor_email == doors.world.alice.email
        assert _shape(cli_entry) == _shape(web_entry), cli_entry.action
