"""Service accounts through the console's JSON API, and an admin-scope token acting by bearer.

A bearer token is not a cookie, so a bearer call needs no CSRF token; it acts
as an admin of its own org only (another org is a 404, the operator console
and a person's routes are closed to it), and every action it takes is audited
with the service account as the actor.
"""

from __future__ import annotations

from typing import Any

from chatgrid.admin import service_accounts as sa
from chatgrid.audit import Actor, AuditFilter
from chatgrid.identity.models import Role
from tests.support.console import World


def bearer(world: World, method: str, url: str, token: str, json: Any = None) -> Any:
    """An answer to a request that carries only the bearer token (no cookie, no CSRF)."""
    client = world.browser().client
    return client.request(method, url, json=json, headers={"Authorization": f"Bearer {token}"})


def test_an_admin_makes_lists_rotates_and_revokes_service_accounts(world: World) -> None:
    alice = world.alice.browser
    base = f"/api/orgs/{world.org_a}/service-accounts"
    created = alice.api("POST", base, {"name": "nightly", "scope": "v1"})
    assert created.status_code == 201, created.text
    secret = created.json()["secret"]
    account = created.json()["service_account"]
    assert secret.startswith("cgsa_") and account["prefix"] == secret[:12]

    listed = alice.api("GET", base).json()
    assert [(a["id"], a["scope"]) for a in listed] == [(account["id"], "v1")]
    assert secret not in alice.api("GET", base).text

    rotated = alice.api("POST", f"{base}/{account['id']}/rotate")
    assert rotated.status_code == 200 and rotated.json()["secret"] != secret
    assert alice.api("DELETE", f"{base}/{account['id']}").status_code == 204
    assert alice.api("DELETE", f"{base}/{account['id']}").status_code == 404
    assert alice.api("GET", base).json()[0]["prefix"] is None

    for bad in [{"name": "x", "scope": "root"}, {"name": "", "scope": "v1"}, {"name": "x"}]:
        assert alice.api("POST", base, bad).status_code == 400
    entries = world.ctx.audit.entries(world.org_a, AuditFilter(action="service_account."))
    assert {e.actor_email for e in entries} == {world.alice.email}


def test_an_admin_token_acts_by_bearer_without_csrf_and_is_the_audited_actor(
    world: World,
) -> None:
    org = world.ctx.orgs.by_id(world.org_a)
    account, token = sa.create_service_account(world.ctx, org, Actor.cli(), "ops-bot", "admin")
    members = bearer(world, "GET", f"/api/orgs/{world.org_a}/members", token)
    assert members.status_code == 200, members.text

    changed = bearer(
        world,
        "PATCH",
        f"/api/orgs/{world.org_a}/members/{world.dave.member_id}",
        token,
        {"role": "admin"},
    )
    assert changed.status_code == 200, changed.text
    assert world.ctx.members.get(world.org_a, str(world.dave.member_id)).role is Role.ADMIN
    entry = world.ctx.audit.entries(world.org_a, AuditFilter(action="member.role_changed"))[0]
    assert (entry.actor_email, entry.actor_user_id) == ("service-account:ops-bot", account.id)

    # It may not make an owner (it is an admin, not an owner).
    owner = bearer(
        world,
        "PATCH",
        f"/api/orgs/{world.org_a}/members/{world.dave.member_id}",
        token,
        {"role": "owner"},
    )
    assert owner.status_code == 403


def test_an_admin_token_reaches_nothing_beyond_its_own_orgs_admin_routes(world: World) -> None:
    org = world.ctx.orgs.by_id(world.org_a)
    _, token = sa.create_service_account(world.ctx, org, Actor.cli(), "scoped", "admin")
    other = bearer(world, "GET", f"/api/orgs/{world.org_b}/members", token)
    assert other.status_code == 404 and other.json()["error"]["code"] == "org_not_found"
    for url in ["/api/operator/tenants", "/api/session", f"/api/orgs/{world.org_a}/tokens"]:
        assert bearer(world, "GET", url, token).status_code == 401, url
    # Pages are for people: the bearer is not a session there.
    page = bearer(world, "GET", f"/orgs/{world.org_a}/members", token)
    assert page.status_code == 303


def test_a_v1_token_a_personal_token_and_a_revoked_one_are_refused_on_api(
    world: World,
) -> None:
    org = world.ctx.orgs.by_id(world.org_a)
    url = f"/api/orgs/{world.org_a}/members"
    _, v1 = sa.create_service_account(world.ctx, org, Actor.cli(), "app", "v1")
    refused = bearer(world, "GET", url, v1)
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "service_account_scope"
    assert bearer(world, "GET", url, "cgk_not-a-service-token").status_code == 401
    account, admin = sa.create_service_account(world.ctx, org, Actor.cli(), "gone", "admin")
    assert bearer(world, "GET", url, admin).status_code == 200
    sa.revoke_service_account(world.ctx, org, Actor.cli(), account.id)
    gone = bearer(world, "GET", url, admin)
    assert gone.status_code == 401 and gone.json()["error"]["code"] == "invalid_token"


def test_a_cookie_request_still_needs_csrf_even_with_a_bearer_on_a_page(world: World) -> None:
    alice = world.alice.browser
    base = f"/api/orgs/{world.org_a}/service-accounts"
    refused = alice.api("POST", base, {"name": "x", "scope": "v1"}, csrf=False)
    assert refused.status_code == 403 and "csrf" in refused.text.lower()
    assert world.ctx.audit.entries(world.org_a, AuditFilter(action="service_account.")) == []


def test_the_console_page_shows_a_token_once_then_rotates_and_revokes(world: World) -> None:
    alice = world.alice.browser
    page = f"/orgs/{world.org_a}/service-accounts"
    overview = alice.get(f"/orgs/{world.org_a}/members").text
    assert f'href="{page}"' in overview
    assert f'href="{page}"' not in world.bob.browser.get(f"/orgs/{world.org_a}").text

    made = alice.form(page, {"name": "evals", "scope": "v1"})
    assert made.status_code == 200
    token = made.text.split('id="service-account-token">', 1)[1].split("<", 1)[0]
    assert token.startswith("cgsa_")
    listed = alice.get(page)
    assert "evals" in listed.text and token not in listed.text and token[:12] in listed.text

    account = sa.find_service_account(world.ctx, world.ctx.orgs.by_id(world.org_a), "evals")
    rotated = alice.form(f"{page}/{account.id}/rotate")
    assert rotated.status_code == 200 and token not in rotated.text
    revoked = alice.form(f"{page}/{account.id}/revoke")
    assert revoked.status_code == 303
    assert "revoked" in alice.get(revoked.headers["location"]).text

    refused = alice.form(page, {"name": "", "scope": "v1"})
    assert refused.status_code == 400 and "name" in refused.text


def test_an_admin_token_makes_v1_tokens_but_never_another_admin_token(world: World) -> None:
    """A leaked admin token must not outlive its revocation by minting a second one."""
    org = world.ctx.orgs.by_id(world.org_a)
    holder, token = sa.create_service_account(world.ctx, org, Actor.cli(), "ops", "admin")
    base = f"/api/orgs/{world.org_a}/service-accounts"
    refused = bearer(world, "POST", base, token, {"name": "twin", "scope": "admin"})
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "service_account_mint_refused"
    rotate_self = bearer(world, "POST", f"{base}/{holder.id}/rotate", token)
    assert rotate_self.status_code == 403
    made = bearer(world, "POST", base, token, {"name": "ci", "scope": "v1"})
    assert made.status_code == 201
    minted = made.json()["service_account"]
    assert minted["scope"] == "v1"
    rotated = bearer(world, "POST", f"{base}/{minted['id']}/rotate", token)
    assert rotated.status_code == 200
    names = {a.name for a in sa.list_service_accounts(world.ctx, org) if a.revoked_at is None}
    assert names == {"ops", "ci"}
