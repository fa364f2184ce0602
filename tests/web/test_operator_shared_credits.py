"""The operator allows a tenant shared credits, or takes them away, from the tenant page
and the API as from the command line: one admin function, one rule, one audit entry."""

from __future__ import annotations

from chatgrid.audit import AuditFilter
from chatgrid.identity.models import BillingMode
from tests.support.console import World, sign_in_operator
from tests.support.seeded_keys import seed_pool_key


def shared_audit(world: World) -> list[dict[str, object]]:
    entries = world.ctx.audit.entries(None, AuditFilter(action="operator.shared_allowed"))
    return [e.details for e in entries if e.target == world.org_a]


def test_the_operator_takes_shared_credits_away_and_gives_them_back(world: World) -> None:
    seed_pool_key(world.ctx)
    ops, alice = sign_in_operator(world), world.alice.browser
    tenant = f"/operator/tenants/{world.org_a}"
    assert "Take shared credits away" in ops.get(tenant).text
    taken = ops.form(f"{tenant}/shared", {"allowed": "false"})
    assert taken.status_code == 303, taken.text
    assert not world.ctx.orgs.by_id(world.org_a).shared_allowed
    page = ops.get(taken.headers["location"]).text
    assert "Allow shared credits" in page and "Shared credits are taken away" in page
    name = world.ctx.orgs.by_id(world.org_a).name
    assert shared_audit(world) == [{"org_name": name, "allowed": False}]
    # Its admin can no longer switch to them.
    switch = alice.api("PUT", f"/api/orgs/{world.org_a}/mode", {"mode": "shared"})
    assert switch.status_code == 403 and switch.json()["error"]["code"] == "shared_not_allowed"
    given = ops.form(f"{tenant}/shared", {"allowed": "true"})
    assert given.status_code == 303
    assert world.ctx.orgs.by_id(world.org_a).shared_allowed
    assert shared_audit(world)[0] == {"org_name": name, "allowed": True}
    assert alice.api("PUT", f"/api/orgs/{world.org_a}/mode", {"mode": "shared"}).status_code == 200


def test_no_door_takes_shared_credits_from_a_tenant_on_them(world: World) -> None:
    seed_pool_key(world.ctx)
    ops, alice = sign_in_operator(world), world.alice.browser
    assert alice.api("PUT", f"/api/orgs/{world.org_a}/mode", {"mode": "shared"}).status_code == 200
    form = ops.form(f"/operator/tenants/{world.org_a}/shared", {"allowed": "false"})
    assert form.status_code == 409
    assert "switch it to BYOK first" in form.text and "Take shared credits away" in form.text
    api = ops.api("PUT", f"/api/operator/tenants/{world.org_a}/shared", {"allowed": False})
    assert api.status_code == 409 and api.json()["error"]["code"] == "org_on_shared_credits"
    org = world.ctx.orgs.by_id(world.org_a)
    assert org.shared_allowed and org.billing_mode is BillingMode.SHARED
    assert shared_audit(world) == []


def test_the_api_answers_with_the_tenant_and_refuses_what_is_not_a_choice(world: World) -> None:
    ops = sign_in_operator(world)
    url = f"/api/operator/tenants/{world.org_a}/shared"
    taken = ops.api("PUT", url, {"allowed": False})
    assert taken.status_code == 200, taken.text
    body = taken.json()
    assert (body["id"], body["shared_allowed"], body["mode"]) == (world.org_a, False, "byok")
    listed = ops.api("GET", "/api/operator/tenants").json()["tenants"]
    assert {t["id"]: t["shared_allowed"] for t in listed}[world.org_a] is False
    for bad in ({"allowed": "no"}, {"allowed": 1}, {}, {"allowed": True, "mode": "shared"}):
        assert ops.api("PUT", url, bad).status_code == 400, bad
    maybe = ops.form(f"/operator/tenants/{world.org_a}/shared", {"allowed": "maybe"})
    assert maybe.status_code == 400
    unknown = ops.api("PUT", "/api/operator/tenants/org_nope/shared", {"allowed": True})
    assert unknown.status_code == 404
    assert not world.ctx.orgs.by_id(world.org_a).shared_allowed
    assert len(shared_audit(world)) == 1
