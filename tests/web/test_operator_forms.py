"""The operator console's forms: limits on a tenant, plans (create, edit, assign) and a
pooled key's weight and budget. Each change is stored, audited and shown back."""

from __future__ import annotations

import secrets

from chatgrid.audit import AuditFilter
from chatgrid.billing.plans import DEFAULT_PLAN_ID
from chatgrid.providers.base import Provider, UpstreamConfig
from chatgrid.store.credentials import pool_binding
from tests.support.console import World, sign_in_operator


def audited(world: World, action: str) -> list[dict[str, object]]:
    return [e.details for e in world.ctx.audit.entries(None, AuditFilter(action=action))]


def test_the_operator_sets_and_clears_a_tenants_limits(world: World) -> None:
    ops = sign_in_operator(world)
    page = ops.get(f"/operator/tenants/{world.org_a}")
    assert page.status_code == 200 and "Operator limits" in page.text
    saved = ops.form(
        f"/operator/tenants/{world.org_a}/limits",
        {"org_rpm": "120", "org_tpm": "50000", "member_rpm": "30", "member_tpm": ""},
    )
    assert saved.status_code == 303
    policy = world.ctx.policies.operator(world.org_a)
    assert (policy.org_rpm, policy.org_tpm, policy.member_rpm, policy.member_tpm) == (
        120,
        50000,
        30,
        None,
    )
    assert audited(world, "operator.limits_updated")[0]["org_rpm"] == 120
    shown = ops.get(saved.headers["location"])
    assert 'value="120"' in shown.text and "every server enforces them now" in shown.text
    # Emptying a field clears that limit; the admin's own limits are untouched.
    admin_before = world.ctx.policies.get(world.org_a)
    ops.form(f"/operator/tenants/{world.org_a}/limits", {"org_rpm": "", "org_tpm": "50000"})
    assert world.ctx.policies.operator(world.org_a).org_rpm is None
    assert world.ctx.policies.get(world.org_a) == admin_before


def test_bad_limits_are_refused_with_the_form_shown_again(world: World) -> None:
    ops = sign_in_operator(world)
    refused = ops.form(f"/operator/tenants/{world.org_a}/limits", {"org_rpm": "-5"})
    assert refused.status_code == 400
    assert "whole number" in refused.text
    refused = ops.form(f"/operator/tenants/{world.org_a}/limits", {"org_rpm": "0"})
    assert refused.status_code == 400
    assert world.ctx.policies.operator(world.org_a).org_rpm is None
    assert ops.form("/operator/tenants/org_nope/limits", {"org_rpm": "5"}).status_code == 404


def test_the_operator_creates_edits_and_assigns_a_plan(world: World) -> None:
    ops = sign_in_operator(world)
    name = f"Team {secrets.token_hex(3)}"
    created = ops.form(
        "/operator/plans",
        {
            "name": name,
            "seat_price": "7.50",
            "markup_bps": "1500",
            "allowance_per_seat": "3",
            "overage": "metered",
        },
    )
    assert created.status_code == 303
    plan = world.ctx.plans.get(name)
    assert (plan.seat_price_micros, plan.markup_bps, plan.allowance_micros_per_seat) == (
        7_500_000,
        1500,
        3_000_000,
    )
    assert plan.overage is True
    edited = ops.form(
        f"/operator/plans/{plan.id}",
        {
            "seat_price": "8",
            "markup_bps": "2500",
            "allowance_per_seat": "0.000001",
            "overage": "hard_stop",
        },
    )
    assert edited.status_code == 303
    plan = world.ctx.plans.get(plan.id)
    assert (plan.seat_price_micros, plan.markup_bps, plan.allowance_micros_per_seat) == (
        8_000_000,
        2500,
        1,
    )
    assert plan.overage is False
    change = audited(world, "plan.updated")[0]
    assert change["before"]["seat_price_usd"] == "7.500000"  # type: ignore[index]
    assert change["after"]["seat_price_usd"] == "8.000000"  # type: ignore[index]
    listing = ops.get("/operator/plans")
    assert name in listing.text and 'value="8.00"' in listing.text

    assigned = ops.form(f"/operator/tenants/{world.org_a}/plan", {"plan_id": plan.id})
    assert assigned.status_code == 303
    assert world.ctx.billing.account(world.org_a).plan_id == plan.id
    assert world.ctx.audit.entries(world.org_a, AuditFilter(action="plan.assigned"))
    assert name in ops.get(f"/operator/tenants/{world.org_a}").text


def test_plan_forms_refuse_inexact_money_and_unknown_plans(world: World) -> None:
    ops = sign_in_operator(world)
    default = world.ctx.plans.get(DEFAULT_PLAN_ID)
    refused = ops.form(
        f"/operator/plans/{DEFAULT_PLAN_ID}",
        {"seat_price": "5.0000001", "markup_bps": "2000", "allowance_per_seat": "2"},
    )
    assert refused.status_code == 400 and "6 decimals" in refused.text
    assert world.ctx.plans.get(DEFAULT_PLAN_ID) == default
    unknown = {"seat_price": "1", "markup_bps": "1", "allowance_per_seat": "1"}
    assert ops.form("/operator/plans/plan_nope", unknown).status_code == 404
    # A name in place of the id is not accepted either.
    assert ops.form(f"/operator/plans/{default.name}", unknown).status_code == 404
    wrong = ops.form(f"/operator/tenants/{world.org_a}/plan", {"plan_id": "plan_nope"})
    assert wrong.status_code == 404
    assert world.ctx.billing.account(world.org_a).plan_id is None


def test_the_operator_sets_a_pooled_keys_weight_and_budget(world: World) -> None:
    ops = sign_in_operator(world)
    key_id = f"pool_{secrets.token_hex(6)}"
    sealed = world.ctx.vault.seal(f"sk-pool-{secrets.token_hex(8)}", binding=pool_binding(key_id))
    world.ctx.pool.add(key_id, "main", UpstreamConfig.create(Provider.OPENAI), sealed, [], 1)
    saved = ops.form(
        f"/operator/pool/{key_id}", {"weight": "4", "rpm_limit": "500", "tpm_limit": ""}
    )
    assert saved.status_code == 303
    stored = world.ctx.pool.get(key_id)
    assert (stored.weight, stored.rpm_limit, stored.tpm_limit) == (4, 500, None)
    details = audited(world, "pool_key.budget_set")[0]
    assert details["rpm_limit"] == 500 and details["fingerprint"] == sealed.fingerprint
    page = ops.get("/operator/pool")
    assert 'value="500"' in page.text and 'value="4"' in page.text
    refused = ops.form(f"/operator/pool/{key_id}", {"weight": "0", "rpm_limit": "5"})
    assert refused.status_code == 400
    assert world.ctx.pool.get(key_id).weight == 4
    assert ops.form("/operator/pool/pool_nope", {"weight": "1"}).status_code == 404
