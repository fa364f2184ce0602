"""The operator console: tenants and margin from the ledger, pooled keys, suspensions,
trials and the price book, every action audited; suspension in force on a real server."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import func, select

from chatgrid.admin import accounts, operator
from chatgrid.analytics.usage import dollars
from chatgrid.audit import AuditFilter
from chatgrid.providers.base import Provider, UpstreamConfig
from chatgrid.store.credentials import pool_binding
from chatgrid.store.tables import ledger_entries
from tests.support.console import PASSWORD, Browser, World, sign_in_operator
from tests.support.deployment import Deployment
from tests.support.usage_rows import entry, write


def this_month() -> datetime:
    return operator.month_start(datetime.now(UTC))


def add_pool_key(world: World, name: str) -> str:
    key_id = f"pool_{secrets.token_hex(6)}"
    sealed = world.ctx.vault.seal(f"sk-pool-{secrets.token_hex(8)}", binding=pool_binding(key_id))
    config = UpstreamConfig.create(Provider.OPENAI)
    world.ctx.pool.add(key_id, name, config, sealed, ["gpt-4o-mini"], 3)
    return sealed.fingerprint


@pytest.fixture
def busy(world: World) -> tuple[World, Browser, str]:
    """Shared-credit calls of org A on a pooled key, BYOK calls of org B, one old call."""
    assert world.alice.member_id and world.charlie.member_id
    fp = add_pool_key(world, "primary")
    start = this_month()
    a, c = world.alice.member_id, world.charlie.member_id
    write(
        world.ctx,
        [
            entry(
                world.org_a,
                a,
                start,
                mode="shared",
                list_cost=10_000,
                charged=12_000,
                fingerprint=fp,
            ),
            entry(
                world.org_a,
                a,
                start,
                mode="shared",
                list_cost=3_333,
                charged=3_999,
                fingerprint=fp,
                tokens=(7, 3),
            ),
            entry(world.org_b, c, start, mode="byok", list_cost=50_000, fingerprint="fp_b"),
            entry(
                world.org_a,
                a,
                this_month() - timedelta(days=1),
                mode="shared",
                list_cost=1,
                charged=99_999,
                fingerprint=fp,
            ),
        ],
    )
    return world, sign_in_operator(world), fp


def ledger_sum(world: World, column: str, org_id: str) -> int:
    e = ledger_entries.c
    query = select(func.coalesce(func.sum(e[column]), 0)).where(
        e.org_id == org_id, e.mode == "shared", e.started_at >= this_month()
    )
    with world.ctx.engine.connect() as conn:
        return int(conn.execute(query).scalar_one())


def test_margin_per_tenant_and_overall_equals_the_ledger_sums(
    busy: tuple[World, Browser, str],
) -> None:
    world, ops, _ = busy
    body = ops.api("GET", "/api/operator/tenants").json()
    by_id = {t["id"]: t for t in body["tenants"]}
    a, b = by_id[world.org_a], by_id[world.org_b]
    assert a["charged_micros"] == ledger_sum(world, "charged_micros", world.org_a) == 15_999
    assert a["list_cost_micros"] == ledger_sum(world, "list_cost_micros", world.org_a) == 13_333
    assert a["margin_micros"] == 2_666
    assert (a["requests"], a["tokens"], a["seats"]) == (2, 160, 3)
    assert (b["requests"], b["charged_micros"], b["margin_micros"]) == (1, 0, 0)  # BYOK
    assert a["on_trial"] and a["plan_name"] is None and a["trial_ends_at"]
    assert body["overall"]["margin_micros"] == sum(t["margin_micros"] for t in body["tenants"])
    page = ops.get("/operator").text
    assert dollars(2_666) in page and dollars(15_999) in page


def test_the_pool_page_shows_health_and_month_to_date_cost_per_key(
    busy: tuple[World, Browser, str],
) -> None:
    _, ops, fp = busy
    keys = ops.api("GET", "/api/operator/pool").json()
    assert [(k["name"], k["fingerprint"], k["weight"], k["status"]) for k in keys] == [
        ("primary", fp, 3, "active")
    ]
    assert (keys[0]["requests"], keys[0]["list_cost_micros"]) == (2, 13_333)
    page = ops.get("/operator/pool").text
    assert fp in page and keys[0]["last4"] in page and "sk-pool" not in page
    assert ops.get("/operator/plans").status_code == 200
    assert isinstance(ops.api("GET", "/api/operator/plans").json(), list)


def test_suspend_resume_and_trial_are_audited(world: World) -> None:
    ops = sign_in_operator(world)
    assert ops.api("POST", f"/api/operator/tenants/{world.org_a}/suspend", {}).status_code == 400
    response = ops.api(
        "POST", f"/api/operator/tenants/{world.org_a}/suspend", {"reason": "unpaid invoice"}
    )
    assert response.status_code == 200
    assert world.ctx.orgs.get(world.org_a).status.value == "suspended"
    assert "unpaid invoice" in ops.get("/operator").text
    assert ops.form(f"/operator/tenants/{world.org_a}/resume").status_code == 303
    assert world.ctx.orgs.get(world.org_a).status.value == "active"
    before = world.ctx.orgs.by_id(world.org_a).trial_ends_at
    assert before is not None
    assert ops.form(f"/operator/tenants/{world.org_a}/trial", {"days": "10"}).status_code == 303
    assert world.ctx.orgs.by_id(world.org_a).trial_ends_at == before + timedelta(days=10)
    extended = ops.api("POST", f"/api/operator/tenants/{world.org_a}/trial", {"days": 5})
    assert extended.status_code == 200
    assert extended.json()["org_id"] == world.org_a
    assert world.ctx.orgs.by_id(world.org_a).trial_ends_at == before + timedelta(days=15)
    too_long = ops.api("POST", f"/api/operator/tenants/{world.org_a}/trial", {"days": 9999})
    assert too_long.status_code == 400
    assert ops.api("POST", "/api/operator/tenants/org_nope/resume").status_code == 404
    actions = [e.action for e in world.ctx.audit.entries(None, AuditFilter(limit=50))]
    assert {"org.suspended", "org.resumed", "org.trial_extended"} <= set(actions)
    suspended = next(
        e for e in world.ctx.audit.entries(None, AuditFilter(action="org.suspended", limit=5))
    )
    assert suspended.target == world.org_a and suspended.details["reason"] == "unpaid invoice"


def test_prices_are_added_dated_never_in_the_past(world: World) -> None:
    ops = sign_in_operator(world)
    today = datetime.now(UTC).date()
    tomorrow = (today + timedelta(days=1)).isoformat()
    yesterday = (today - timedelta(days=1)).isoformat()
    body = {"model": "gpt-test", "effective_from": tomorrow, "input": "2.50", "output": "10"}
    created = ops.api("POST", "/api/operator/prices", body)
    assert created.status_code == 201, created.text
    assert created.json()["cached_input_per_mtok"] == 2_500_000
    refused = ops.api("POST", "/api/operator/prices", {**body, "effective_from": yesterday})
    assert refused.status_code == 400
    page = ops.form(
        "/operator/prices", {"model": "gpt-test", "input": "1", "output": "4", "cached_input": ""}
    )
    assert page.status_code == 303
    assert "gpt-test" in world.ctx.prices.book().models()
    listed = ops.api("GET", "/api/operator/prices").json()
    assert {p["effective_from"] for p in listed if p["model"] == "gpt-test"} == {
        today.isoformat(),
        tomorrow,
    }
    added = world.ctx.audit.entries(None, AuditFilter(action="price.added", limit=5))
    assert len(added) == 2 and added[0].target == "gpt-test"


def test_unit_prices_are_listed_and_added_dated_through_the_api(world: World) -> None:
    ops = sign_in_operator(world)
    today = datetime.now(UTC).date()
    tomorrow = (today + timedelta(days=1)).isoformat()
    listed = ops.api("GET", "/api/operator/prices/units").json()
    image = next(p for p in listed if p["model"] == "gpt-image-1")
    assert image["kind"] == "images" and image["per"] == "image" and image["variant"]
    body = {
        "model": "gpt-image-1",
        "kind": "images",
        "variant": "1024x1024/high",
        "effective_from": tomorrow,
        "price": "0.2",
    }
    created = ops.api("POST", "/api/operator/prices/units", body)
    assert created.status_code == 201, created.text
    assert created.json()["micros"] == 200_000
    again = ops.api("POST", "/api/operator/prices/units", body)
    assert again.status_code == 400 and again.json()["error"]["param"] == "effective_from"
    for bad in (
        {**body, "effective_from": (today - timedelta(days=1)).isoformat()},
        {**body, "kind": "tokens"},
        {**body, "variant": "huge"},
        {**body, "kind": "characters"},
        {**body, "price": "-1"},
    ):
        refused = ops.api("POST", "/api/operator/prices/units", bad)
        assert refused.status_code == 400, (bad, refused.text)
    dated = ops.api("GET", "/api/operator/prices/units").json()
    high = [
        (p["effective_from"], p["micros"])
        for p in dated
        if p["model"] == "gpt-image-1" and p["variant"] == "1024x1024/high"
    ]
    assert (tomorrow, 200_000) in high and len(high) == 2
    [added] = world.ctx.audit.entries(None, AuditFilter(action="unit_price.added", limit=5))
    assert added.target == "gpt-image-1" and added.details["micros"] == 200_000


def test_suspending_an_org_refuses_its_calls_on_the_server_at_once(
    deployment: Deployment,
) -> None:
    org = deployment.new_org()
    email = f"ops-{secrets.token_hex(3)}@example.com"
    accounts.create_operator(deployment.context, email, PASSWORD)
    ops = Browser(httpx.Client(base_url=deployment.instance.base_url, timeout=30))
    ops.sign_in(email)
    chat = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]}

    def call() -> httpx.Response:
        return httpx.post(
            f"{deployment.v1}/chat/completions",
            json=chat,
            headers={"Authorization": f"Bearer {org.token}"},
            timeout=30,
        )

    assert call().status_code == 200
    suspended = ops.api(
        "POST", f"/api/operator/tenants/{org.id}/suspend", {"reason": "abuse report"}
    )
    assert suspended.status_code == 200
    refused = call()
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "org_suspended"
    assert ops.api("POST", f"/api/operator/tenants/{org.id}/resume").status_code == 200
    assert call().status_code == 200
