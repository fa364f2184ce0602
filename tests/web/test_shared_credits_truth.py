"""Shared credits only when the pool can serve the org, and an overview that says what serves it.

Switching to shared credits while no pooled key offers a chat model the org
allows would trade a working key for refusals: both doors (the console form
and the API, through ``admin.org_settings.switch_mode``) refuse it with the
reason. Once on shared credits, the overview names the pool's models, does
not call the idle BYOK key "healthy", and explains the limit it shows.
"""

from __future__ import annotations

from chatgrid.audit import AuditFilter
from chatgrid.identity.models import BillingMode
from chatgrid.limits.policy import OrgPolicy
from tests.support.console import World, csrf_in
from tests.support.seeded_keys import seed_credential, seed_pool_key


def switched_audits(world: World) -> int:
    return len(world.ctx.audit.entries(world.org_a, AuditFilter(action="org.mode_switched")))


def test_switching_is_refused_with_the_reason_while_no_pooled_key_serves_a_chat_model(
    world: World,
) -> None:
    alice = world.alice.browser
    world.ctx.orgs.set_shared_allowed(world.org_a, True)
    refused = alice.api("PUT", f"/api/orgs/{world.org_a}/mode", {"mode": "shared"})
    assert refused.status_code == 409
    error = refused.json()["error"]
    assert error["code"] == "shared_pool_cannot_serve"
    assert "no pooled key offers a chat model" in error["message"]

    seed_pool_key(world.ctx, [world.ctx.settings.embedding_model])  # embeddings cannot chat
    page = alice.get(f"/orgs/{world.org_a}")
    form = alice.form(f"/orgs/{world.org_a}/mode", {"mode": "shared"}, csrf=csrf_in(page.text))
    assert form.status_code == 409
    assert "Shared credits cannot serve this organization yet" in form.text

    seed_pool_key(world.ctx, ["gpt-4o"])
    world.ctx.policies.set(world.org_a, OrgPolicy(allowed_models=frozenset({"gpt-4o-mini"})), None)
    still = alice.api("PUT", f"/api/orgs/{world.org_a}/mode", {"mode": "shared"})
    assert still.status_code == 409  # the pool's model is not one the org allows
    assert world.ctx.orgs.by_id(world.org_a).billing_mode is BillingMode.BYOK
    assert switched_audits(world) == 0

    world.ctx.policies.set(world.org_a, OrgPolicy(), None)
    assert alice.api("PUT", f"/api/orgs/{world.org_a}/mode", {"mode": "shared"}).status_code == 200
    assert switched_audits(world) == 1


def test_the_overview_says_the_pool_serves_the_org_and_explains_the_limit(world: World) -> None:
    alice = world.alice.browser
    key = seed_credential(world.ctx, world.org_a)
    before = alice.get(f"/orgs/{world.org_a}").text
    assert "healthy" in before and "served by the operator" not in before

    world.ctx.orgs.set_shared_allowed(world.org_a, True)
    seed_pool_key(world.ctx, ["gpt-4o-mini", world.ctx.settings.embedding_model])
    assert alice.api("PUT", f"/api/orgs/{world.org_a}/mode", {"mode": "shared"}).status_code == 200
    page = alice.get(f"/orgs/{world.org_a}").text
    assert "Calls are served by the operator's pooled keys now: <code>gpt-4o-mini</code>." in page
    assert "healthy" not in page
    assert "Not in use" in page and f"ends in <code>{key.sealed.last4}</code>" in page
    assert "The limit is your plan's allowance" in page

    # The pool stops serving (its key is disabled): the overview says chats are refused.
    for pooled in world.ctx.pool.list():
        world.ctx.pool.set_status(pooled.id, "disabled", "test")
    refused = alice.get(f"/orgs/{world.org_a}").text
    assert "No pooled key serves a chat model your organization allows" in refused
