"""The operator console names tenants, pooled keys and plans by their exact id in the URL.

Anything else (an unknown id, an overlong one, one that starts like a real
id, a name) is the same 404 page every other route gives, found before the
form is read: a bad form never turns an unknown object into a 400.
"""

from __future__ import annotations

import secrets

from chatgrid.audit import AuditFilter
from chatgrid.identity.passwords import hash_password
from chatgrid.providers.base import Provider, UpstreamConfig
from chatgrid.store.credentials import pool_binding
from tests.support.console import PASSWORD, Browser, World

TENANT_ROUTES = [
    ("GET", "/operator/tenants/{}", {}),
    ("POST", "/operator/tenants/{}/suspend", {"reason": ""}),
    ("POST", "/operator/tenants/{}/resume", {}),
    ("POST", "/operator/tenants/{}/trial", {"days": "soon"}),
    ("POST", "/operator/tenants/{}/limits", {"org_rpm": "-5"}),
    ("POST", "/operator/tenants/{}/plan", {"plan_id": ""}),
    ("POST", "/operator/tenants/{}/shared", {"allowed": "maybe"}),
    ("GET", "/operator/tenants/{}/invoices/2026-01", {}),
    ("GET", "/operator/tenants/{}/invoices/2026-01/csv", {}),
]


def an_operator(world: World) -> Browser:
    email = f"ops-{secrets.token_hex(3)}@example.com"
    world.ctx.accounts.create_user(email, hash_password(PASSWORD), is_operator=True)
    ops = world.browser()
    ops.sign_in(email)
    return ops


def ask(ops: Browser, method: str, url: str, form: dict[str, str]) -> tuple[int, str]:
    response = ops.get(url) if method == "GET" else ops.form(url, form)
    return response.status_code, response.text


def not_found_page(status: int, text: str) -> bool:
    return status == 404 and "<h1>Not found</h1>" in text


def nothing_audited(world: World) -> bool:
    return not world.ctx.audit.entries(None, AuditFilter(action="org."))


def test_a_tenant_that_is_not_there_is_a_404_on_every_operator_route(world: World) -> None:
    ops = an_operator(world)
    org_name = world.ctx.orgs.get(world.org_a).name
    for method, path, form in TENANT_ROUTES:
        for wrong in ("org_nope", "o" * 65, world.org_a + "x" * 64, org_name, "org%01a"):
            status, text = ask(ops, method, path.format(wrong), form)
            assert not_found_page(status, text), (path, wrong, status)
    assert nothing_audited(world)


def test_a_pooled_key_or_plan_that_is_not_there_is_a_404_whatever_the_form(
    world: World,
) -> None:
    ops = an_operator(world)
    key_id = f"pool_{secrets.token_hex(6)}"
    sealed = world.ctx.vault.seal(f"sk-pool-{secrets.token_hex(8)}", binding=pool_binding(key_id))
    world.ctx.pool.add(key_id, "main", UpstreamConfig.create(Provider.OPENAI), sealed, [], 1)
    plan_id = world.ctx.plans.list()[0].id
    for wrong in ("pool_nope", key_id + "x" * 64, "main"):
        status, text = ask(ops, "POST", f"/operator/pool/{wrong}", {"weight": "0"})
        assert not_found_page(status, text), (wrong, status)
    for wrong in ("plan_nope", plan_id + "x" * 64):
        status, text = ask(ops, "POST", f"/operator/plans/{wrong}", {"seat_price": "x"})
        assert not_found_page(status, text), (wrong, status)
    # The real ones still take the form, and refuse a bad one on the form's own page.
    status, text = ask(ops, "POST", f"/operator/pool/{key_id}", {"weight": "0"})
    assert status == 400 and "weight is 1 to" in text and "Pooled" in text
    assert world.ctx.pool.get(key_id).weight == 1


def test_a_bad_form_on_a_real_tenant_comes_back_with_its_message(world: World) -> None:
    ops = an_operator(world)
    status, text = ask(ops, "POST", f"/operator/tenants/{world.org_a}/trial", {"days": "soon"})
    assert status == 400 and "days: a whole number" in text
    status, text = ask(ops, "POST", f"/operator/tenants/{world.org_a}/suspend", {"reason": ""})
    assert status == 400 and "give a reason" in text
    assert nothing_audited(world)


def test_the_operator_api_answers_an_unknown_tenant_with_the_same_404(world: World) -> None:
    ops = an_operator(world)
    calls = [
        ("suspend", {"reason": ""}),
        ("resume", None),
        ("trial", {"days": True}),
    ]
    for wrong in ("org_nope", "o" * 65, world.ctx.orgs.get(world.org_a).name):
        for action, body in calls:
            response = ops.api("POST", f"/api/operator/tenants/{wrong}/{action}", body)
            assert response.status_code == 404, (wrong, action, response.text)
            assert response.json()["error"]["code"] == "org_not_found"
    assert nothing_audited(world)
